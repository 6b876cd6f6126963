"""On-screen figures (--show-fps): output fps and per-stage milliseconds in a corner."""

from __future__ import annotations

import cv2
import numpy as np


def draw_stats(image: np.ndarray, lines: list[str]) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max(0.35, min(w, 1920) / 1280 * 0.55)
    thick = 1
    lh = int(22 * scale / 0.55)
    x, y = 8, 8 + lh
    width = max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)[0][0] for t in lines) + 12
    roi = image[4 : 8 + lh * len(lines) + 4, 4 : 4 + width]
    roi[:] = (roi * 0.45).astype(np.uint8)
    for t in lines:
        cv2.putText(image, t, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
        y += lh
    return image
