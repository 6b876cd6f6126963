"""Webcams through OpenCV's V4L2 backend (Linux) or the platform default elsewhere."""

from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np

from hookcam.errors import SourceError, SourceLost
from hookcam.frames import to_bgr8
from hookcam.types import SourceInfo

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # hookcam reports camera problems itself

# Uncompressed YUYV over USB 2 tops out around 640x480@30; bigger sizes need MJPG.
_YUYV_MAX_PIXELS = 640 * 480


def _fourcc_text(value: float) -> str:
    v = int(value)
    return "".join(chr((v >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00") or "?"


class CameraSource:
    def __init__(self, device: int | str, size: tuple[int, int] | None = None,
                 fps: float | None = None):
        self.device = device
        self.size = size
        self.fps = fps
        self._cap: cv2.VideoCapture | None = None
        self._open()

    def _open(self) -> None:
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        dev = self.device
        if sys.platform.startswith("linux"):
            node = dev if isinstance(dev, str) else f"/dev/video{dev}"
            if not os.path.exists(node):
                raise SourceError(f"camera {dev} does not exist ({node} is missing): "
                                  "`hookcam doctor` lists the cameras")
        cap = cv2.VideoCapture(dev, api)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"cannot open camera {dev}: no such camera, or another app is using it "
                "(`hookcam doctor` lists the cameras)"
            )
        if self.size:
            w, h = self.size
            if w * h > _YUYV_MAX_PIXELS:
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, w)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, h)
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        ok, img = cap.read()
        if not ok or img is None:
            cap.release()
            raise SourceError(f"camera {dev} opened but sends no frames: is another app using it?")
        self._cap = cap
        self._first: np.ndarray | None = to_bgr8(img)
        h, w = self._first.shape[:2]
        granted_fps = cap.get(cv2.CAP_PROP_FPS) or self.fps or 30.0
        fourcc = _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
        self.info = SourceInfo(
            width=w, height=h, fps=float(granted_fps), kind="camera", live=True, fourcc=fourcc,
            description=f"camera {dev}: {w}x{h} @ {granted_fps:g} fps, {fourcc}",
        )
        if self.size and (w, h) != tuple(self.size):
            print(f"hookcam: camera {dev} granted {w}x{h}, not the {self.size[0]}x{self.size[1]} "
                  "asked for; using what it gives", file=sys.stderr)
        if self.fps and abs(float(granted_fps) - self.fps) > 0.5:
            print(f"hookcam: camera {dev} runs at {granted_fps:g} fps, not the {self.fps:g} asked for "
                  f"(at {w}x{h} in {fourcc}); `hookcam doctor` lists what it offers", file=sys.stderr)

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            img, self._first = self._first, None
            return img
        if self._cap is None:
            raise SourceLost(f"camera {self.device} is closed")
        ok, img = self._cap.read()
        if not ok or img is None:
            raise SourceLost(f"camera {self.device} stopped delivering frames")
        return to_bgr8(img)

    def reopen(self) -> None:
        """Try once to get the camera back (raises SourceError while it is still gone)."""
        self.close()
        time.sleep(0.05)
        self._open()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
