"""Face crops for the expression model, framed like FER2013.

The same function prepares the training data (see `training/prepare.py`) and the runtime input
(`hookcam.analysis.expression`), so the model sees faces framed the same way in both.

Framing: BlazeFace (`hookcam.faces.detect.FaceDetector`) gives a tight square box, roughly
brows to chin. On the FER2013 images where it finds a face, the median box is 0.90 of the image
side, centred horizontally and about 0.05 of the image side below the image centre (measured on
a 300-image pilot of `training/prepare.py --limit 300`: 0.904 / 0.053; the full run printed
0.902 / 0.042, under half a pixel away at 48 px; see `training/MODEL_CARD.md`). So the crop is a square of
side `MARGIN * box side`, centred `SHIFT_Y * box side` above the box centre, and rotated so the
eyes are level when keypoints are given. Pixels outside the frame repeat the border.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

SIZE = 48  # the model's input side
MARGIN = 1.106  # crop side / BlazeFace box side (FER2013 framing)
SHIFT_Y = 0.058  # crop centre above the box centre, in box sides
MAX_ROLL = 45.0  # do not trust eye keypoints beyond this (profile faces, bad detections)


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def crop_matrix(
    box: Sequence[float], keypoints: np.ndarray | None = None, size: int = SIZE
) -> np.ndarray:
    """2x3 affine matrix taking frame pixels to the (size, size) crop."""
    x, y, w, h = (float(v) for v in box)
    side = max(w, h)
    cx, cy = x + w / 2.0, y + h / 2.0 - SHIFT_Y * side
    angle = 0.0
    if keypoints is not None and len(keypoints) >= 2:
        (rx, ry), (lx, ly) = keypoints[0], keypoints[1]
        a = math.degrees(math.atan2(float(ly - ry), float(lx - rx)))
        if abs(a) <= MAX_ROLL:
            angle = a
    scale = size / (MARGIN * side)
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    # move the crop centre to the middle of the output
    m[0, 2] += size / 2.0 - cx
    m[1, 2] += size / 2.0 - cy
    return m


def face_crop(
    image: np.ndarray,
    box: Sequence[float],
    keypoints: np.ndarray | None = None,
    size: int = SIZE,
) -> np.ndarray:
    """Gray uint8 (size, size) crop of the face in `image` (BGR, BGRA or gray), eyes levelled."""
    x, y, w, h = (float(v) for v in box)
    side = max(w, h)
    # work on a region just big enough for the rotated crop (cheap on 720p/1080p frames)
    half = 0.75 * MARGIN * side  # > half the diagonal of the crop square
    cx, cy = x + w / 2.0, y + h / 2.0 - SHIFT_Y * side
    H, W = image.shape[:2]
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(W, int(cx + half) + 2), min(H, int(cy + half) + 2)
    if x1 - x0 < 2 or y1 - y0 < 2:  # box outside the frame: use it all
        x0, y0, x1, y1 = 0, 0, W, H
    gray = to_gray(image[y0:y1, x0:x1])
    kps = None if keypoints is None else np.asarray(keypoints, np.float32) - (x0, y0)
    m = crop_matrix((x - x0, y - y0, w, h), kps, size)
    shrink = size / (MARGIN * side)
    if shrink < 0.5:
        # warpAffine does not low-pass: pre-shrink big faces so the crop is not aliased
        f = 2.0 * shrink
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        m = m.copy()
        m[:, :2] /= f
    return cv2.warpAffine(
        gray, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def detect_in_crop(detector, gray: np.ndarray, pad: float = 1.0, work: int = 192):
    """Run `detector` on a small face crop (a whole image that is one face).

    BlazeFace full-range misses faces that fill the frame, so the crop is put in the middle of
    a canvas `1 + 2 * pad` times its size, filled with its mean grey, and scaled to `work` px.
    Returns (box, keypoints) in the crop's pixels, or None.
    """
    h, w = gray.shape[:2]
    side = max(h, w)
    p = int(round(side * pad))
    canvas = cv2.copyMakeBorder(
        gray, p, p + side - h, p, p + side - w, cv2.BORDER_CONSTANT, value=int(gray.mean())
    )
    s = work / canvas.shape[0]
    big = cv2.resize(canvas, (work, work), interpolation=cv2.INTER_CUBIC)
    found = detector.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    if not found:
        return None
    d = found[0]
    bx, by, bw, bh = d.box
    box = (bx / s - p, by / s - p, bw / s, bh / s)
    kps = d.keypoints / s - p
    return box, kps


def canonical_box(shape: tuple[int, ...], rel: Sequence[float]) -> tuple[float, float, float, float]:
    """A box given relative to the image side (x, y, w, h as fractions), in pixels."""
    side = max(shape[0], shape[1])
    return tuple(float(v) * side for v in rel)  # type: ignore[return-value]
