"""`hookcam analyze`: faces and expressions of images or video frames, as JSON lines.

One object per image (or per video frame), a stable shape other tools read:
    {"path": ..., "frame": n, "width": w, "height": h,
     "faces": [{"box": [x, y, w, h], "score": s, "smile": p,
                "emotion": {"label": ..., "scores": {...}}}]}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hookcam.errors import HookcamError, SourceError


def add_parser(sub) -> None:
    p = sub.add_parser("analyze", help="print faces, smile and emotion of images or videos",
                       description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="IMAGE_OR_VIDEO", help="files or folders of images")
    p.add_argument("--json", action="store_true", help="one JSON object per line (default: readable text)")
    p.add_argument("--crop", action="store_true",
                   help="each whole image is one face crop (datasets such as SMILEsmileD)")
    p.add_argument("--threshold", type=float, default=0.5, help="face detection threshold (default 0.5)")
    p.add_argument("--max-faces", type=int, default=32, help="at most this many faces per image (default 32)")
    p.add_argument("--landmarks", action="store_true",
                   help="add 478 face landmarks per face (needs the face_landmarker model)")
    p.add_argument("--single-pass", action="store_true",
                   help="run the expression model once per face, as the live camera does (default: "
                        "also on the mirror image and average the two; twice the model time, more accurate)")
    p.add_argument("--model-dir", help="folder with ready model files (or HOOKCAM_MODEL_DIR)")
    p.set_defaults(func=main)


def _expand(paths: list[str]) -> list[Path]:
    from hookcam.sources.images import IMAGE_SUFFIXES

    out = []
    for p in map(Path, paths):
        if not str(p).strip():
            raise SourceError("an empty path was given: name an image, a video or a folder of images")
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise SourceError(f"{p}: folder has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            out += found
        else:
            out.append(p)
    return out


def _frames(path: Path):
    """(frame number, BGR image) for an image or every frame of a video."""
    from hookcam.sources.images import is_still_image, load_image

    if is_still_image(path):
        yield 0, load_image(path)
        return
    from hookcam.sources.video import VideoSource

    src = VideoSource(path)
    try:
        n = 0
        while (img := src.read()) is not None:
            yield n, img
            n += 1
    finally:
        src.close()


def face_record(box, score, expression) -> dict:
    rec = {"box": [int(round(v)) for v in box], "score": round(float(score), 4)}
    if expression is not None:
        rec["smile"] = round(float(expression.smile), 4)
        rec["emotion"] = {"label": expression.label,
                          "scores": {k: round(float(v), 4) for k, v in expression.emotions.items()}}
    return rec


def main(args) -> int:
    paths = _expand(args.paths)  # an empty folder is an error before the models load
    from hookcam.analysis.expression import ExpressionModel
    from hookcam.faces.detect import FaceDetector

    detector = FaceDetector(args.threshold, max_faces=args.max_faces)
    model = ExpressionModel(mirror=not args.single_pass)
    landmarker = None
    if args.landmarks:
        from hookcam.faces.landmarks import Landmarker
        from hookcam.models import ModelStore

        landmarker = Landmarker(ModelStore(args.model_dir).path("face_landmarker"))
    failures = 0
    for path in paths:
        try:
            for n, img in _frames(path):
                h, w = img.shape[:2]
                if args.crop:
                    faces = [face_record((0, 0, w, h), 1.0, model.predict_crop(img))]
                else:
                    dets = detector.detect_all(img)  # all passes: faces of any size
                    exprs = model.predict(img, [(d.box, d.keypoints) for d in dets]) if dets else []
                    faces = [face_record(d.box, d.score, e) for d, e in zip(dets, exprs)]
                    if landmarker is not None:
                        for d, f in zip(dets, faces):
                            lm = landmarker.run(img, d.box)
                            f["landmarks"] = None if lm is None else [
                                [round(float(x), 1), round(float(y), 1)] for x, y in lm.points]
                rec = {"path": str(path), "frame": n, "width": w, "height": h, "faces": faces}
                _emit(rec, args.json)
        except HookcamError as e:
            print(f"hookcam: {e}", file=sys.stderr)
            failures += 1
    detector.close()
    return 2 if failures else 0


def _emit(rec: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(rec), flush=True)
        return
    faces = ", ".join(
        f"face at {f['box']} ({f['score']:.2f})"
        + (f" smile {f['smile']:.2f}, {f['emotion']['label']}" if "smile" in f else "")
        for f in rec["faces"]) or "no faces"
    print(f"{rec['path']}#{rec['frame']} {rec['width']}x{rec['height']}: {faces}", flush=True)
