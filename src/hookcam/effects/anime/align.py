"""Aligned face crops: eyes level, the face filling the crop the way the generator expects.

A face's placement is a similarity transform (centre, side, angle). `crop_matrix` maps frame
pixels into an S x S crop; its inverse puts a (stylised) crop back onto the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Crop side relative to the face scale below (1.0 = the FFHQ-style "half side").
# tight: forehead to chin fills the crop (JP_face); loose: whole head with some margin.
CROP_SCALE = {"tight": 1.5, "loose": 2.0}
# Crop centre moves from the eye midpoint towards the mouth by this fraction of eye->mouth.
CROP_SHIFT = {"tight": 0.3, "loose": 0.25}


@dataclass(frozen=True)
class Placement:
    cx: float
    cy: float
    side: float  # crop side in frame pixels
    angle: float  # radians: direction of the face's x axis (eye line) in the frame

    def blend(self, other: Placement, a: float) -> Placement:
        """Move `a` of the way towards `other` (angles wrap)."""
        d = math.atan2(math.sin(other.angle - self.angle), math.cos(other.angle - self.angle))
        return Placement(
            self.cx + a * (other.cx - self.cx),
            self.cy + a * (other.cy - self.cy),
            self.side + a * (other.side - self.side),
            self.angle + a * d,
        )


@dataclass(frozen=True)
class Offset:
    """Where a face really is relative to a placement: shift in frame pixels, side ratio, turn."""

    dx: float
    dy: float
    scale: float
    turn: float

    @staticmethod
    def between(a: Placement, b: Placement) -> Offset:
        return Offset(b.cx - a.cx, b.cy - a.cy, b.side / a.side, math.atan2(math.sin(b.angle - a.angle),
                                                                              math.cos(b.angle - a.angle)))

    def apply(self, p: Placement) -> Placement:
        return Placement(p.cx + self.dx, p.cy + self.dy, p.side * self.scale, p.angle + self.turn)

    def fade(self, k: float) -> Offset:
        """k of the way from no offset to this one."""
        return Offset(self.dx * k, self.dy * k, self.scale**k, self.turn * k)


def registered(p: Placement, m: np.ndarray, n: int, size: int) -> Placement:
    """The placement whose size x size crop shows what `m` (a 2x3 similarity on n x n copies of
    the crop: pixel of p's crop -> pixel of a reference crop) says the reference crop showed.
    (Plain float arithmetic: numpy's small-matrix calls cost more than the sums.)"""
    k, h = size / n, size / 2
    o = 0.5 * k - 0.5  # n-grid -> size-grid pixels (centres line up): x_big = k x + o
    ma, mb, mt, mc, md, mu = (float(v) for v in m.ravel())
    # m on size-grid pixels: the same 2x2 part, shift k t + o (1 - row sums)
    tx, ty = k * mt + o * (1 - ma - mb), k * mu + o * (1 - mc - md)
    s = size / p.side
    c, si = math.cos(p.angle) * s, math.sin(p.angle) * s
    ux, uy = h - c * p.cx - si * p.cy, h + si * p.cx - c * p.cy  # crop_matrix(p, size)
    # frame pixels -> reference-crop pixels: (m R) x + (m u + t)
    a00, a01 = ma * c - mb * si, ma * si + mb * c
    a10, a11 = mc * c - md * si, mc * si + md * c
    bx, by = ma * ux + mb * uy + tx, mc * ux + md * uy + ty
    det = a00 * a11 - a01 * a10
    rx, ry = h - bx, h - by
    cx, cy = (a11 * rx - a01 * ry) / det, (a00 * ry - a10 * rx) / det
    return Placement(cx, cy, size / math.hypot(a00, a01), math.atan2(a01, a00))


def placement(box, keypoints: np.ndarray | None, roll_deg: float = 0.0, crop: str = "tight") -> Placement:
    """Where the crop sits, from BlazeFace keypoints (right eye, left eye, nose, mouth, ...)."""
    if keypoints is not None and len(keypoints) >= 4 and np.all(np.isfinite(keypoints[:4])):
        kp = np.asarray(keypoints, np.float64)
        eye_r, eye_l, mouth = kp[0], kp[1], kp[3]
        eye_avg = (eye_r + eye_l) / 2
        e2e = eye_l - eye_r
        e2m = mouth - eye_avg
        # Face x axis from both cues (eye line and the perpendicular of eye->mouth), as in FFHQ.
        xv = e2e + np.array([e2m[1], -e2m[0]])
        angle = math.atan2(xv[1], xv[0])
        half = max(np.hypot(*e2e) * 2.0, np.hypot(*e2m) * 1.8)
        side = 2 * half * CROP_SCALE[crop] / 2  # FFHQ's quad is 2*half; ours is scaled
        c = eye_avg + e2m * CROP_SHIFT[crop]
        if side >= 4:
            return Placement(float(c[0]), float(c[1]), float(side), angle)
    x, y, w, h = box
    k = 1.3 if crop == "tight" else 1.7
    return Placement(x + w / 2, y + h / 2, max(w, h) * k, math.radians(roll_deg))


def crop_matrix(p: Placement, size: int) -> np.ndarray:
    """2x3 affine: frame pixels -> crop pixels (crop is size x size, face upright)."""
    s = size / p.side
    c, si = math.cos(p.angle) * s, math.sin(p.angle) * s
    h = size / 2
    return np.array(
        [[c, si, h - c * p.cx - si * p.cy], [-si, c, h + si * p.cx - c * p.cy]], np.float64
    )


def invert(m: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(m)


def crop_face(image: np.ndarray, p: Placement, size: int) -> np.ndarray:
    """The aligned size x size crop (edges replicated where the crop leaves the frame)."""
    return cv2.warpAffine(
        image, crop_matrix(p, size), (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def crop_box(image: np.ndarray, p: Placement, size: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels (x0, y0, x1, y1) of `crop_face(image, p, size)`, cut alone (the same values)."""
    x0, y0, x1, y1 = box
    m = crop_matrix(p, size)
    m[:, 2] -= (x0, y0)
    return cv2.warpAffine(image, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def crop_small(image: np.ndarray, p: Placement, size: int, n: int) -> np.ndarray:
    """`crop_face(image, p, size)` at n x n, cut straight from the frame: pixel x is centred where
    `cv2.resize(..., INTER_AREA)` of the big crop puts it (on big pixels k x + (k - 1) / 2, k = size
    / n), sampled rather than averaged; about a third of the cost of cutting the big crop."""
    k = size / n
    m = crop_matrix(p, size) / k
    m[:, 2] -= (k - 1) / (2 * k)
    return cv2.warpAffine(image, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def frame_roi(p: Placement, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Integer (x0, y0, x1, y1) of the frame area the crop covers, clipped; None if off-frame."""
    h = p.side / 2 * math.sqrt(2) * (abs(math.cos(p.angle)) + abs(math.sin(p.angle))) / math.sqrt(2)
    x0, y0 = max(0, int(p.cx - h) - 1), max(0, int(p.cy - h) - 1)
    x1, y1 = min(shape[1], int(p.cx + h) + 2), min(shape[0], int(p.cy + h) + 2)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1
