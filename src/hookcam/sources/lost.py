"""The frame the output shows while the camera is gone, drawn here."""

from __future__ import annotations

import cv2
import numpy as np


def camera_lost_frame(width: int, height: int, last: np.ndarray | None = None,
                      seconds: float = 0.0) -> np.ndarray:
    """A darkened, blurred copy of the last good frame (or dark grey) with a notice in the middle."""
    if last is not None and last.shape[:2] == (height, width):
        small = cv2.resize(last, (max(1, width // 16), max(1, height // 16)), interpolation=cv2.INTER_AREA)
        img = (cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR) * 0.35).astype(np.uint8)
    else:
        img = np.full((height, width, 3), 40, np.uint8)
    text = "camera lost - reconnecting"
    if seconds >= 1:
        text += f" ({seconds:.0f}s)"
    scale = max(0.4, width / 1280 * 1.2)
    thick = max(1, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    org = ((width - tw) // 2, (height + th) // 2)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    # A camera with a slash, so the message reads even when the frame is tiny.
    r = max(6, min(width, height) // 12)
    cx, cy = width // 2, org[1] - th - r - 10
    if cy - r > 0:
        cv2.rectangle(img, (cx - r, cy - r // 2), (cx + r // 2, cy + r // 2), (255, 255, 255), thick)
        cv2.line(img, (cx - r, cy + r), (cx + r, cy - r), (80, 80, 255), thick + 1, cv2.LINE_AA)
    return img
