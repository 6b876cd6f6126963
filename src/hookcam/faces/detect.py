"""Face detection: MediaPipe BlazeFace (full-range and short-range), whose models ship inside the
mediapipe wheel, so it works offline right after `pip install`.

The full-range model sees a frame letterboxed into a 192x192 square: a face is found there from
about a fifth of the frame height up to about two thirds. Three more looks cover the rest:

- `detect_padded`: the frame shrunk onto a canvas twice its size, for a face that fills it;
- `detect_tiles`: overlapping squares about half the frame height (a 720p frame: 3 x 2), each
  seen at the model's full resolution, for faces down to about 40 px;
- `refine`: the short-range model in a window twice the size of a face we already track (cheap,
  about 1.5 ms), which follows a face of any size between full passes.

`detect` is the full pass alone; `detect_all` merges all of them (stills, `hookcam analyze`).
The letterbox matters: a stretched wide frame costs the model its small faces (41/43 on the
hand-labelled VOC faces stretched, 43/43 letterboxed, see `benchmarks/accuracy.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hookcam.faces.track import iou

# Side of the square we hand to MediaPipe (the model itself runs at 192x192). Measured on the
# hand-labelled VOC faces and 720p clips: 256 finds the same faces as 384 (43/43, 0 false, 1/15
# negatives) in about 30% less time; 224 and 192 lose a VOC face.
_LETTERBOX = 256
_SHORT = 128  # the short-range model's input side
TILE = 0.6  # tile side / the frame's smaller side ...
TILE_MAX = 440  # ... at most this many pixels (a 1080p frame gets more tiles, not coarser ones)
PAD = 2.0  # canvas side / frame side for the padded pass
# A face found by any pass counts only if the short-range model, looking again in a window
# around it (also with the frame reflected at its edges), scores it at least this: on the size
# sweep and VOC the true faces scored >= 0.79, the false hits on Big Buck Bunny <= 0.69, and
# the two no-face photos that come closest (a monkey, a dog) 0.75 (the two models are wrong in
# different places).
VERIFY = 0.77

Box = tuple[float, float, float, float]


@dataclass
class Detection:
    box: tuple[float, float, float, float]  # x, y, w, h in frame pixels
    score: float
    keypoints: np.ndarray  # (6, 2): right eye, left eye, nose, mouth, right ear, left ear

    @property
    def roll(self) -> float:
        """Head roll in degrees from the eye line (positive: head tilted clockwise on screen)."""
        (rx, ry), (lx, ly) = self.keypoints[0], self.keypoints[1]
        return math.degrees(math.atan2(ly - ry, lx - rx))


class FaceDetector:
    """`detect(bgr)` -> faces, best first. One instance per thread (MediaPipe graphs are stateful)."""

    def __init__(self, threshold: float = 0.5, max_faces: int = 16):
        from mediapipe.python.solutions import face_detection  # heavy import, so done lazily

        self.threshold = threshold
        self.max_faces = max_faces
        self._fd = face_detection
        self._mp = face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.3)
        self._short = None

    # ------------------------------------------------------------ passes
    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """The full pass: the whole frame letterboxed (faces from ~1/5 to ~2/3 of its height)."""
        h, w = bgr.shape[:2]
        side = max(h, w)  # a small image is not enlarged (MediaPipe scales it to 192 itself)
        return self._finish(self._square(bgr, (0, 0, w, h), side, min(side, _LETTERBOX)), w, h)

    def detect_padded(self, bgr: np.ndarray, mirror: bool = False, pad: float = PAD) -> list[Detection]:
        """The frame shrunk onto a canvas PAD times its size: a face that fills the frame.
        `mirror`: the canvas holds the frame reflected at its edges (faces cut by the edge)."""
        h, w = bgr.shape[:2]
        side = pad * max(h, w)
        return self._finish(self._square(bgr, (0, 0, w, h), side, _LETTERBOX, mirror=mirror,
                                         offset=((side - w) / 2, (side - h) / 2)), w, h)

    def tiles(self, shape: Sequence[int], level: int = 0) -> list[Box]:
        """Overlapping squares of TILE x the frame's smaller side (at most TILE_MAX) covering the
        frame; `level` 1: squares twice that side, where they still fit (large photos)."""
        h, w = shape[:2]
        side = min(TILE_MAX, TILE * min(h, w)) * (2.0**level if level >= 0 else 0.6)
        if level and side > 0.8 * min(h, w):
            return []
        if max(h, w) <= 1.5 * _LETTERBOX:
            return []  # a small frame: the full pass already sees it closely enough
        nx = max(1, math.ceil((w - side) / (0.85 * side)) + 1)
        ny = max(1, math.ceil((h - side) / (0.85 * side)) + 1)
        xs = np.linspace(0, max(0.0, w - side), nx)
        ys = np.linspace(0, max(0.0, h - side), ny)
        return [(float(x), float(y), side, side) for y in ys for x in xs]

    def detect_tiles(self, bgr: np.ndarray, tiles: Iterable[Box] | None = None,
                     short: bool = False) -> list[Detection]:
        """Each tile seen at the model's full resolution: small faces (down to ~40 px). `short`:
        the short-range model on smaller tiles (`tiles(level=-1)`), which finds some faces the
        full-range one misses at that size."""
        h, w = bgr.shape[:2]
        out: list[Detection] = []
        graph = self._short_graph() if short else None
        for t in self.tiles(bgr.shape, -1 if short else 0) if tiles is None else tiles:
            out += self._square(bgr, t, t[2], _SHORT if short else _LETTERBOX, graph=graph)
        return self._finish(out, w, h)

    def detect_edges(self, bgr: np.ndarray) -> list[Detection]:
        """Faces cut by the frame's edge: squares of half the frame's smaller side straddling
        the edge, the frame reflected beyond it (a half face then looks whole), short-range
        model. Only detections centred inside the frame count."""
        h, w = bgr.shape[:2]
        side = 0.5 * min(h, w)
        step = side / 2
        xs = np.arange(-side / 2, w - side / 2 + 1, step)
        ys = np.arange(-side / 2, h - side / 2 + 1, step)
        graph, out = self._short_graph(), []
        for y in ys:
            for x in xs:
                if x < 0 or y < 0 or x + side > w or y + side > h:
                    out += self._square(bgr, (x, y, side, side), side, _SHORT, graph=graph, mirror=True)
        inside = [d for d in out if 0 <= d.box[0] + d.box[2] / 2 < w and 0 <= d.box[1] + d.box[3] / 2 < h]
        return self._finish(inside, w, h)

    def _short_graph(self):
        if self._short is None:
            self._short = self._fd.FaceDetection(model_selection=0, min_detection_confidence=0.3)
        return self._short

    def detect_all(self, bgr: np.ndarray) -> list[Detection]:
        """Every pass, merged: the thorough look for stills and `hookcam analyze`."""
        found = (self.detect(bgr) + self.detect_padded(bgr) + self.detect_tiles(bgr)
                 + self.detect_tiles(bgr, self.tiles(bgr.shape, level=1))
                 + self.detect_tiles(bgr, short=True) + self.detect_padded(bgr, mirror=True)
                 + self.detect_padded(bgr, pad=1.25 * PAD) + self.detect_edges(bgr))
        # confirm before merging: a part of a face that one pass scored higher must not hide
        # the whole face another pass found
        return merge([d for d in found if self.verify(bgr, d) is not None])[: self.max_faces]

    def verify(self, bgr: np.ndarray, det: Detection) -> Detection | None:
        """The short-range model's second look at a detection (None: not a face after all)."""
        for mirror in (False, True):  # mirrored: a face cut by the frame's edge
            again = self.refine(bgr, det.box, mirror=mirror)
            if again is not None and again.score >= VERIFY:
                return again
        return None

    def refine(self, bgr: np.ndarray, box: Box, grow: float = 2.2, mirror: bool = False) -> Detection | None:
        """The face near `box` again, found by the short-range model in a window `grow` times
        the box (cheap: one 128x128 model call); None if it is not there any more."""
        self._short_graph()
        x, y, bw, bh = box
        side = grow * max(bw, bh)
        win = (x + bw / 2 - side / 2, y + bh / 2 - side / 2, side, side)
        h, w = bgr.shape[:2]
        found = self._finish(self._square(bgr, win, side, _SHORT, graph=self._short, mirror=mirror), w, h)
        best = max(found, key=lambda d: iou(d.box, box), default=None)
        return best if best is not None and iou(best.box, box) > 0.2 else None

    # ------------------------------------------------------------ internals
    def _square(self, bgr: np.ndarray, region: Box, side: float, size: int,
                offset: tuple[float, float] = (0.0, 0.0), graph=None,
                mirror: bool = False) -> list[Detection]:
        """Run a model on the square of `side` frame pixels whose top-left is region's corner
        minus `offset`, holding what of `region` lies inside the frame (the rest is black),
        scaled to `size` pixels; `mirror`: the frame reflected at its edges instead of black (a
        face cut by the edge then looks whole). Returns detections in frame pixels (not yet
        thresholded)."""
        h, w = bgr.shape[:2]
        rx, ry, rw, rh = region
        ox, oy = rx - offset[0], ry - offset[1]  # frame position of the square's corner
        scale = size / side
        x0, y0 = max(0, int(math.floor(rx))), max(0, int(math.floor(ry)))
        x1, y1 = min(w, int(math.ceil(rx + rw))), min(h, int(math.ceil(ry + rh)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return []
        dw, dh = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
        part = bgr[y0:y1, x0:x1]
        part = _resize(part, dw, dh)
        square = np.zeros((size, size, 3), np.uint8)
        px, py = round((x0 - ox) * scale), round((y0 - oy) * scale)
        px, py = min(max(px, 0), size - 1), min(max(py, 0), size - 1)
        part = part[: size - py, : size - px]
        if mirror:
            ph, pw = part.shape[:2]
            t, b = min(py, ph - 1), min(size - py - ph, ph - 1)
            left, r = min(px, pw - 1), min(size - px - pw, pw - 1)
            part = cv2.copyMakeBorder(part, t, b, left, r, cv2.BORDER_REFLECT_101)
            px, py = px - left, py - t
        square[py : py + part.shape[0], px : px + part.shape[1]] = part
        result = (graph or self._mp).process(cv2.cvtColor(square, cv2.COLOR_BGR2RGB))
        out = []
        to_px = size / scale
        for det in result.detections or []:
            rb = det.location_data.relative_bounding_box
            box = (ox + rb.xmin * to_px, oy + rb.ymin * to_px, rb.width * to_px, rb.height * to_px)
            kps = np.array([(ox + k.x * to_px, oy + k.y * to_px)
                            for k in det.location_data.relative_keypoints], dtype=np.float32)
            out.append(Detection(box, float(det.score[0]), kps))
        return out

    def _finish(self, dets: list[Detection], w: int, h: int) -> list[Detection]:
        """Threshold, clip to the frame, merge duplicates, best first."""
        out = []
        for d in dets:
            if d.score < self.threshold:
                continue
            x, y, bw, bh = d.box
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            out.append(Detection((x0, y0, x1 - x0, y1 - y0), d.score, d.keypoints))
        return merge(out)[: self.max_faces]

    def close(self) -> None:
        self._mp.close()
        if self._short is not None:
            self._short.close()


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Shrink with area averaging, fast: OpenCV's INTER_AREA is slow at odd ratios (3-4 ms for
    a 720p frame to 256 here) and fast at exactly 2x, so shrink linearly to twice the size first."""
    ih, iw = img.shape[:2]
    if w >= iw or h >= ih:
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
    if 2 * w < iw and 2 * h < ih:
        img = cv2.resize(img, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: a face cut at a tile's edge overlaps its whole box."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    small = min(a[2] * a[3], b[2] * b[3])
    return ix * iy / small if small > 0 else 0.0


def merge(dets: Sequence[Detection], min_overlap: float = 0.5) -> list[Detection]:
    """One detection per face, best score first (non-maximum suppression across passes)."""
    keep: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(overlap(d.box, k.box) < min_overlap for k in keep):
            keep.append(d)
    return keep
