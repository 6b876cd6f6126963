"""Validation clips with a lively head: a clip re-framed along a smooth path (pan, zoom, roll)
so the face moves about one face width a second, as in a talking clip where the head moves.

    python benchmarks/reframe.py ../shared/testdata/video/lp_d19.mp4 /tmp/mv_lp_d19.mp4

The anime warp's registration was chosen on such copies of the validation clips (`lp_d19`,
`tps_driving`, `lp_s32`), never on the clips its targets are measured on. The path is fixed by
`--seed`; the face speed (median, in face widths a second) is printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
import cv2
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from hookcam.faces.detect import FaceDetector

    frames = []
    with av.open(str(args.src)) as c:
        rate = c.streams.video[0].average_rate
        frames = [fr.to_ndarray(format="bgr24") for fr in c.decode(video=0)]
    h, w = frames[0].shape[:2]
    det = FaceDetector()
    widths = [d[0].box[2] for d in (det.detect(f) for f in frames[::10]) if d]
    if not widths:
        sys.exit(f"reframe: no face found in {args.src}")
    fw = float(np.median(widths))
    ph = np.random.default_rng(args.seed).uniform(0, 2 * np.pi, 6)
    centres = []
    with av.open(str(args.dst), "w") as out:
        st = out.add_stream("libx264", rate=rate)
        st.width, st.height, st.pix_fmt, st.options = w, h, "yuv420p", {"crf": "16"}
        for i, img in enumerate(frames):
            t = i / float(rate)
            dx = fw * (0.22 * np.sin(2 * np.pi * 0.8 * t + ph[0]) + 0.10 * np.sin(2 * np.pi * 1.9 * t + ph[1]))
            dy = fw * (0.15 * np.sin(2 * np.pi * 0.6 * t + ph[2]) + 0.08 * np.sin(2 * np.pi * 1.6 * t + ph[3]))
            m = cv2.getRotationMatrix2D((w / 2, h / 2), 7 * np.sin(2 * np.pi * 0.5 * t + ph[5]),
                                        1.2 + 0.07 * np.sin(2 * np.pi * 0.45 * t + ph[4]))
            m[:, 2] += (dx, dy)
            moved = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            d = det.detect(moved)
            centres.append((d[0].box[0] + d[0].box[2] / 2, d[0].box[1] + d[0].box[3] / 2) if d else (np.nan, np.nan))
            for pkt in st.encode(av.VideoFrame.from_ndarray(moved, format="bgr24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    det.close()
    speed = np.hypot(*np.diff(np.array(centres), axis=0).T) / fw * float(rate)
    print(f"wrote {args.dst}: {len(frames)} frames, face speed median {np.nanmedian(speed):.2f} face widths/s")


if __name__ == "__main__":
    main()
