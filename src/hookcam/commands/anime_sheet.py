"""`hookcam anime-sheet`: a contact sheet of the anime looks, to choose a model and size by eye.

One row per input face: the aligned input crop, then each model/setting's output (JP_face
fp32 / int8 at 320, 384 and 512, tiny_Cute at 256, the classical filter) and the final blend
into the frame. With no --input the NASA astronaut (public domain, from scikit-image) is used.

With --strip CLIP: consecutive output frames of a (talking) clip instead, one row each for the
input, the warp off and the warp on, the GAN stylising every --strip-every-th frame as a slow
CPU does (8 = 3.75 stylisations a second at 30 fps), to judge smearing, tearing and flicker.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cv2/numpy load when the command runs: `hookcam --help` works without OpenCV
    import numpy as np

CELL = 224
JP_SIZES = (320, 384, 512)  # 320: the default (the smallest that keeps both eyes)
VIDEO_EXT = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".gif", ".m4v"}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("anime-sheet", help="write a contact sheet of the anime models' looks",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--model-dir", help="folder with ready model files (default: the model cache)")
    p.add_argument("--input", nargs="+", default=None,
                   help="images or videos (a few frames are taken from each video); default: the astronaut")
    p.add_argument("--frames-per-video", type=int, default=2, help="frames taken from each video (default 2)")
    p.add_argument("--no-int8", action="store_true", help="skip the int8 columns (quantising takes a minute)")
    p.add_argument("--jp-sizes", default=",".join(map(str, JP_SIZES)), metavar="N,N",
                   help=f"JP_face input sizes to show, multiples of 8 (default {','.join(map(str, JP_SIZES))})")
    p.add_argument("--strip", metavar="CLIP", help="a strip of consecutive output frames of CLIP, warp off and on")
    p.add_argument("--strip-start", type=int, default=0, help="first frame of the strip (default 0)")
    p.add_argument("--strip-frames", type=int, default=12, help="frames in the strip (default 12)")
    p.add_argument("--strip-every", type=int, default=8,
                   help="the GAN stylises every Nth frame (default 8, about 4 a second at 30 fps)")
    p.add_argument("--anime-model", default="anime_jp_face", help="model for the strip (default anime_jp_face)")
    p.set_defaults(func=main)


def _columns(no_int8: bool, jp_sizes: tuple[int, ...] = JP_SIZES) -> list[tuple[str, str, int, bool]]:
    cols = []
    for size in jp_sizes:
        cols.append(("anime_jp_face", f"JP_face fp32 {size}", size, False))
        if not no_int8:
            cols.append(("anime_jp_face", f"JP_face int8 {size}", size, True))
    cols.append(("anime_tiny_cute", "tiny_Cute fp32 256", 256, False))
    if not no_int8:
        cols.append(("anime_tiny_cute", "tiny_Cute int8 256", 256, True))
    return cols


def load_inputs(paths: list[str] | None, per_video: int) -> list[tuple[str, np.ndarray]]:
    """(label, BGR image) pairs; the astronaut when no path is given."""
    import cv2

    from hookcam.effects.anime.calib import astronaut_bgr

    if not paths:
        return [("astronaut", astronaut_bgr())]
    out = []
    for p in map(Path, paths):
        if p.suffix.lower() in VIDEO_EXT:
            out += [(f"{p.stem}#{i}", f) for i, f in _video_frames(p, per_video)]
        else:
            img = cv2.imread(str(p))
            if img is None:
                print(f"hookcam anime-sheet: cannot read {p}: skipped", file=sys.stderr)
                continue
            out.append((p.stem, img))
    return out


def _video_frames(path: Path, n: int) -> list[tuple[int, np.ndarray]]:
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        total = stream.frames or 150
        want = {int(total * (k + 1) / (n + 1)) for k in range(n)}
        got = []
        for i, fr in enumerate(c.decode(stream)):
            if i in want:
                got.append((i, fr.to_ndarray(format="bgr24")))
            if len(got) == len(want):
                break
    return got


def _label(img: np.ndarray, text: str) -> np.ndarray:
    import cv2
    import numpy as np

    bar = np.full((22, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def _cell(img: np.ndarray | None, text: str) -> np.ndarray:
    import cv2
    import numpy as np

    if img is None:
        img = np.full((CELL, CELL, 3), 200, np.uint8)
        cv2.putText(img, "missing", (CELL // 4, CELL // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (80, 80, 80), 2)
    else:
        img = cv2.resize(img, (CELL, CELL), interpolation=cv2.INTER_AREA)
    return _label(img, text)


def build_sheet(inputs, model_dir: str | None, no_int8: bool = False,
                jp_sizes: tuple[int, ...] = JP_SIZES) -> np.ndarray:
    import numpy as np

    from hookcam.effects.anime.align import crop_face, placement
    from hookcam.effects.anime.blend import match_seam, paste
    from hookcam.effects.anime.classical import cartoon
    from hookcam.effects.anime.model import load_fp32_model_bytes, make_generator
    from hookcam.effects.anime.quantize import checked_int8, quantize_int8
    from hookcam.effects.anime.stylizer import GanStylizer, resolve_model
    from hookcam.errors import ModelError
    from hookcam.faces.detect import FaceDetector
    from hookcam.models import ModelStore

    store = ModelStore(model_dir)
    cols = _columns(no_int8, jp_sizes)
    stylizers: dict[tuple, GanStylizer | None] = {}
    for name, _, size, int8 in cols:
        try:
            info = resolve_model(f"{name}@{size}", store)
        except ModelError as e:
            print(f"hookcam anime-sheet: {e}", file=sys.stderr)
            stylizers[(name, size, int8)] = None
            continue
        data = load_fp32_model_bytes(info.path)
        gen = make_generator(data)
        if int8:
            _, report = quantize_int8(data, info.sha256, size, store.cache_dir, info.crop)
            q = checked_int8(store.cache_dir, report)
            print(f"hookcam anime-sheet: {name} int8 {size}: PSNR {report.get('psnr', 0):.1f} dB, "
                  f"SSIM {report.get('ssim', 0):.3f} vs fp32 ({'kept' if q else 'rejected'}), "
                  f"{report.get('speedup', 0):.2f}x fp32's speed on {report.get('runtime')}", file=sys.stderr)
            gen = make_generator(q) if q is not None else None
        stylizers[(name, size, int8)] = GanStylizer(gen, info) if gen else None

    det = FaceDetector()
    rows = []
    for label, img in inputs:
        found = det.detect(img)
        if not found:
            print(f"hookcam anime-sheet: no face in {label}: skipped", file=sys.stderr)
            continue
        d = found[0]
        tight = placement(d.box, d.keypoints, d.roll, "tight")
        cells = [_cell(crop_face(img, tight, 384), f"{label} (input)")]
        final = None
        for name, text, size, int8 in cols:
            s = stylizers[(name, size, int8)]
            if s is None:
                cells.append(_cell(None, text))
                continue
            p = placement(d.box, d.keypoints, d.roll, s.crop)
            crop = crop_face(img, p, size)
            out = s(crop)
            cells.append(_cell(out, text))
            if final is None:
                final = paste(img.copy(), match_seam(out, crop, s.crop), p, s.crop)
        loose = placement(d.box, d.keypoints, d.roll, "loose")
        cells.append(_cell(cartoon(crop_face(img, loose, 256)), "classical 256"))
        if final is not None:
            wide = placement(d.box, d.keypoints, d.roll, "loose")
            wide = type(wide)(wide.cx, wide.cy, wide.side * 1.6, 0.0)
            cells.append(_cell(crop_face(final, wide, 384), "blended (1st GAN)"))
        rows.append(np.hstack(cells))
    det.close()
    if not rows:
        raise ModelError("no face found in any input: nothing to show")
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.vstack(rows)


def build_strip(clip: str, model_dir: str | None, model: str = "anime_jp_face", start: int = 0,
                count: int = 12, every: int = 8, cell: int = 160) -> np.ndarray:
    """Rows: input, warp off, warp on; columns: `count` consecutive frames from `start`."""
    import av
    import numpy as np

    from hookcam.effects.anime import AnimeEffect
    from hookcam.effects.anime.align import crop_face, placement
    from hookcam.errors import ModelError
    from hookcam.faces.detect import FaceDetector
    from hookcam.models import ModelStore
    from hookcam.settings import make_settings
    from hookcam.types import Face

    frames = []
    with av.open(clip) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i >= start + count:
                break
            frames.append(fr.to_ndarray(format="bgr24"))
    # Begin a little before `start` so the strip starts between two stylisations, as live (each
    # result shows `every` frames after its crop, as when the GAN takes that long).
    warm = max(0, start - 2 * every)
    frames = frames[warm:]
    det = FaceDetector()
    faces = []
    for img in frames:
        d = det.detect(img)[:1]
        faces.append([Face(0, x.box, x.score, keypoints=x.keypoints, roll=x.roll) for x in d])
    det.close()
    if not any(faces):
        raise ModelError(f"no face found in {clip}: nothing to show")
    ref = next(f for f in faces if f)[0]
    view = placement(ref.box, ref.keypoints, ref.roll, "loose")
    view = type(view)(view.cx, view.cy, view.side * 1.1, 0.0)
    rows = {"input": [crop_face(img, view, cell) for img in frames]}
    store = ModelStore(model_dir)
    for warp in (False, True):
        eff = AnimeEffect(make_settings(effect="anime", anime_model=model, model_dir=model_dir, anime_warp=warp),
                          store)
        try:
            eff.wait_ready(120)
            eff.sync, eff.sync_every, eff.sync_delay = True, every, every
            row = []
            for img, fs in zip(frames, faces):
                row.append(crop_face(eff.apply(img.copy(), fs), view, cell))
        finally:
            eff.close()
        rows["warp on" if warp else "warp off"] = row
    store.close()  # the one stylizer both passes used
    skip = start - warm
    lines = []
    for name, row in rows.items():
        cells = [_label(im, f"{name} #{warm + skip + k}" + (" GAN" if (skip + k) % every == 0 else ""))
                 for k, im in enumerate(row[skip:])]
        lines.append(np.hstack(cells))
    return np.vstack(lines)


def main(args) -> int:
    if args.strip:
        from hookcam.errors import ModelError

        if not Path(args.strip).is_file():
            print(f"hookcam anime-sheet: --strip {args.strip}: no such file; give a video clip", file=sys.stderr)
            return 2
        if args.strip_frames < 1 or args.strip_every < 1 or args.strip_start < 0:
            print("hookcam anime-sheet: --strip-frames and --strip-every must be 1 or more, --strip-start 0 or more",
                  file=sys.stderr)
            return 2
        import av

        try:
            sheet = build_strip(args.strip, args.model_dir, args.anime_model, args.strip_start,
                                args.strip_frames, args.strip_every)
        except ModelError as e:
            print(f"hookcam anime-sheet: {e}", file=sys.stderr)
            return 1
        except av.error.FFmpegError as e:
            print(f"hookcam anime-sheet: --strip {args.strip}: not a readable video ({e}); give a clip "
                  "such as an .mp4", file=sys.stderr)
            return 2
        return _write(sheet, Path(args.out))
    try:
        jp_sizes = tuple(int(v) for v in args.jp_sizes.split(",") if v.strip())
    except ValueError:
        jp_sizes = ()
    if not jp_sizes or any(v < 64 or v > 1024 or v % 8 for v in jp_sizes):
        print(f"hookcam anime-sheet: --jp-sizes {args.jp_sizes!r}: give sizes 64-1024, multiples of 8, "
              "e.g. 320,384", file=sys.stderr)
        return 2
    sheet = build_sheet(load_inputs(args.input, args.frames_per_video), args.model_dir, args.no_int8, jp_sizes)
    return _write(sheet, Path(args.out))


def _write(sheet: np.ndarray, out: Path) -> int:
    import cv2

    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet):
        print(f"hookcam anime-sheet: cannot write {out}", file=sys.stderr)
        return 1
    print(f"hookcam anime-sheet: wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})", file=sys.stderr)
    return 0
