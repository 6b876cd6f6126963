"""A built-in stand-in for a webcam: the NASA astronaut portrait (public domain, shipped inside
scikit-image) gently panned and zoomed, so the whole tool can be tried without a camera."""

from __future__ import annotations

import math

import cv2
import numpy as np

from hookcam.types import SourceInfo


class DemoSource:
    def __init__(self, size: tuple[int, int] | None = None, fps: float | None = None,
                 frames: int | None = None):
        from skimage import data

        self.still = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)  # 512x512
        self.w, self.h = size or (1280, 720)
        self.frames = frames
        self._i = 0
        fps = fps or 30.0
        self.info = SourceInfo(width=self.w, height=self.h, fps=fps, kind="demo",
                               description=f"demo: NASA astronaut, panned ({self.w}x{self.h} @ {fps:g} fps)",
                               frame_count=frames)

    def render(self, i: int) -> np.ndarray:
        """Frame i: a slow zoom and a sway, like a person sitting in front of a webcam."""
        t = i / self.info.fps
        zoom = 1.0 + 0.08 * math.sin(t * 0.7)
        sx, sy = 14 * math.sin(t * 0.9), 8 * math.sin(t * 1.3 + 1.0)
        angle = 2.0 * math.sin(t * 0.5)
        src = self.still
        # Fill the frame with the picture (cover), then sway around its upper middle (the face).
        scale = max(self.w / src.shape[1], self.h / src.shape[0]) * zoom
        cx, cy = src.shape[1] * 0.45, src.shape[0] * 0.32
        m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
        m[0, 2] += self.w / 2 - cx + sx
        m[1, 2] += self.h * 0.42 - cy + sy
        return cv2.warpAffine(src, m, (self.w, self.h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)

    def read(self) -> np.ndarray | None:
        if self.frames is not None and self._i >= self.frames:
            return None
        img = self.render(self._i)
        self._i += 1
        return img

    def reopen(self) -> None:
        pass

    def close(self) -> None:
        pass
