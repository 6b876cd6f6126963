"""Turn whatever a decoder hands us into the pipeline's one format: 8-bit, 3-channel BGR."""

from __future__ import annotations

import cv2
import numpy as np


def to_bgr8(img: np.ndarray, *, rgb_order: bool = False) -> np.ndarray:
    """Grayscale, RGBA/BGRA, 16-bit or float images become contiguous uint8 BGR.

    `rgb_order` says the colour channels arrive as RGB(A) (PIL/imageio) instead of OpenCV's BGR.
    """
    a = np.asarray(img)
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif a.dtype in (np.float32, np.float64):
        hi = 1.0 if float(np.nanmax(a)) <= 1.0 else 255.0
        a = np.clip(np.nan_to_num(a) * (255.0 / hi), 0, 255).astype(np.uint8)
    elif a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    if a.ndim != 3:
        raise ValueError(f"not an image: array of shape {a.shape}")
    c = a.shape[2]
    if c == 1:
        return cv2.cvtColor(a[:, :, 0], cv2.COLOR_GRAY2BGR)
    if c == 2:  # gray + alpha
        return cv2.cvtColor(np.ascontiguousarray(a[:, :, 0]), cv2.COLOR_GRAY2BGR)
    if c == 4:
        a = cv2.cvtColor(a, cv2.COLOR_RGBA2BGR if rgb_order else cv2.COLOR_BGRA2BGR)
        return a
    if c == 3:
        return cv2.cvtColor(a, cv2.COLOR_RGB2BGR) if rgb_order else np.ascontiguousarray(a)
    raise ValueError(f"not an image: {c} channels")


def fit(img: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize to exactly (width, height) if a size is given, keeping the picture undistorted
    by centre-cropping to the target aspect first."""
    if size is None:
        return img
    w, h = size
    ih, iw = img.shape[:2]
    if (iw, ih) == (w, h):
        return img
    scale = max(w / iw, h / ih)
    cw, ch = round(w / scale), round(h / scale)
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    crop = img[y0 : y0 + ch, x0 : x0 + cw]
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(crop, (w, h), interpolation=interp)
