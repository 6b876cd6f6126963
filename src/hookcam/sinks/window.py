"""A preview window (OpenCV highgui). Needs a display; without one it is skipped with a notice."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

TITLE = "hookcam preview (q to quit)"


def display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class WindowSink:
    live = True
    name = "preview window"

    def __init__(self, width: int, height: int, fps: float, on_key=None):
        self.on_key = on_key  # called with each key pressed in the window
        cv2.namedWindow(TITLE, cv2.WINDOW_NORMAL)
        cv2.resizeWindow(TITLE, width, height)

    def send(self, image: np.ndarray) -> None:
        cv2.imshow(TITLE, image)
        key = cv2.waitKey(1) & 0xFF
        if key != 0xFF and self.on_key is not None:
            self.on_key(chr(key))

    def close(self) -> None:
        try:
            cv2.destroyWindow(TITLE)
            cv2.waitKey(1)
        except cv2.error:
            pass
