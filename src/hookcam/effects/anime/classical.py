"""The built-in cartoon filter: edge-preserving smoothing, colour quantisation, ink lines.

Used when no GAN model is available (nothing pulled, offline, a bad file). OpenCV only.
"""

from __future__ import annotations

import cv2
import numpy as np


def cartoon(bgr: np.ndarray, levels: int = 8) -> np.ndarray:
    """A flat-colour, ink-lined version of `bgr` (same size). About 5-15 ms at 256-640 px."""
    h, w = bgr.shape[:2]
    scale = 256 / max(h, w)
    work = cv2.resize(bgr, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA) if scale < 1 else bgr
    smooth = work
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 7, 40, 5)
    # Quantise lightness in Lab, keep chroma smooth: flat anime-like shading.
    lab = cv2.cvtColor(smooth, cv2.COLOR_BGR2LAB)
    step = 256 // levels
    lab[..., 0] = (lab[..., 0] // step) * step + step // 2
    flat = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    gray = cv2.medianBlur(cv2.cvtColor(work, cv2.COLOR_BGR2GRAY), 5)
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 5)
    out = cv2.bitwise_and(flat, flat, mask=edges)
    if out.shape[:2] != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


class ClassicalStylizer:
    kind = "classical"
    name = "classical"

    def __init__(self, size: int = 256, crop: str = "loose"):
        self.size = size
        self.crop = crop

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        return cartoon(bgr)

    def frame_size(self, w: int, h: int) -> tuple[int, int]:
        s = min(1.0, 640 / max(w, h))
        return max(16, round(w * s)), max(16, round(h * s))
