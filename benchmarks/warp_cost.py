"""CPU of the anime warp's per-frame path on one core: the live face's grey copy, registration,
flow and remap, on real frames of a clip, with the live face cut two ways in the same run,
interleaved round by round (this machine's speed drifts, so only the pairs compare):

- small: the grey copy cut straight from the frame at the flow's size (`warp.grey_at`), the full
  crop's pixels only in the box where the live face shows through (what hookcam does);
- full: a full-size crop a frame, shrunk for the flow (what it did before 2026-12-07).

    python benchmarks/warp_cost.py ../shared/testdata/video/lp_s32.mp4 [--size 320 --crop tight]

Prints one JSON object: the CPU (its model name, as `lscpu` shows it), ms a frame per round for each way, and
the medians; a stylised crop is stood in by the first frame's crop mirrored (the warp's cost does
not depend on what it moves).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import av
import cv2

from hookcam.bench.core import cpu_model
from hookcam.effects.anime import warp as W
from hookcam.effects.anime.align import crop_box, crop_face, placement
from hookcam.faces.detect import FaceDetector


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--size", type=int, default=320, help="crop side (JP_face 320, tiny_Cute 256)")
    ap.add_argument("--crop", default="tight", choices=["tight", "loose"])
    ap.add_argument("--frames", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=6)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    det = FaceDetector()
    frames, places = [], []
    with av.open(a.clip) as c:
        for fr in c.decode(video=0):
            img = fr.to_ndarray(format="bgr24")
            found = det.detect(img)
            if found:
                d = found[0]
                frames.append(img)
                places.append(placement(d.box, d.keypoints, d.roll, a.crop))
            if len(frames) >= a.frames:
                break
    det.close()
    if len(frames) < 12:
        raise SystemExit(f"warp_cost: only {len(frames)} frames with a face in {a.clip}")
    then = crop_face(frames[0], places[0], a.size)
    styled = then[:, ::-1].copy()
    ref = {"full": W.grey(then), "small": W.grey_at(frames[0], places[0], a.size)}
    pts = {k: W.corners(g, a.crop) for k, g in ref.items()}
    warp = W.FlowWarp(a.crop)
    ms: dict[str, list[float]] = {"small": [], "full": []}
    for r in range(a.rounds):
        for way in ("small", "full") if r % 2 == 0 else ("full", "small"):
            c0 = time.thread_time()
            for img, p in zip(frames[10:], places[10:]):
                if way == "full":
                    live = crop_face(img, p, a.size)
                    g = W.grey(live)
                else:
                    g = W.grey_at(img, p, a.size)

                    def live(x0, y0, x1, y1, img=img, p=p):
                        return crop_box(img, p, a.size, (x0, y0, x1, y1))

                m = W.register(ref[way], pts[way], g) if pts[way] is not None else None
                warp.warp(styled, ref[way], g, live, m)
            ms[way].append(round((time.thread_time() - c0) / (len(frames) - 10) * 1000, 2))
    print(json.dumps({"cpu": cpu_model(), "clip": a.clip, "size": a.size, "crop": a.crop,
                      "ms_per_frame": ms, "median_ms": {k: statistics.median(v) for k, v in ms.items()}}))


if __name__ == "__main__":
    main()
