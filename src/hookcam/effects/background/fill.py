"""What goes behind the person: the blurred room, a colour, a picture, or a looping video.

`parse_background(text)` says which kind a `--background` value is (or raises a one-line
HookcamError); `open_backdrop(...)` opens it, checking files before any frame is drawn.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from hookcam.errors import HookcamError
from hookcam.frames import fit, to_bgr8

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
HELP = "use blur, none, a colour like #1e90ff, an image or a video file"


def parse_background(text: str | None) -> str:
    """-> 'none' | 'blur' | 'colour' | 'file'. A value starting with '#' must be #RRGGBB."""
    t = (text or "none").strip()
    if t.lower() in ("none", "off", ""):
        return "none"
    if t.lower() == "blur":
        return "blur"
    if t.startswith("#"):
        if not _COLOUR.match(t):
            raise HookcamError(f"bad background colour {t!r}: write #RRGGBB, for example #1e90ff")
        return "colour"
    return "file"


class Blur:
    """The frame itself, blurred (at a quarter of its size: cheap, and a wide blur anyway)."""

    def __init__(self, strength: float):
        self.strength = strength  # Gaussian sigma in pixels of a 720-line frame

    def frame(self, image: np.ndarray, quarter: np.ndarray | None = None) -> np.ndarray:
        """`quarter`: the frame at 1/4 size when the caller has it already."""
        h, w = image.shape[:2]
        f = 4
        small = quarter if quarter is not None else cv2.resize(
            image, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
        sigma = max(0.5, self.strength * h / 720.0 / f)
        small = cv2.GaussianBlur(small, (0, 0), sigma)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


class Colour:
    def __init__(self, text: str):
        r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
        self.bgr = (b, g, r)
        self._cache: np.ndarray | None = None

    def frame(self, image: np.ndarray) -> np.ndarray:
        if self._cache is None or self._cache.shape != image.shape:
            self._cache = np.empty_like(image)
            self._cache[:] = self.bgr
        return self._cache


class Picture:
    """A still image, fitted to the frame without distortion (scaled to cover, centre-cropped)."""

    def __init__(self, path: Path):
        self.path = path
        img = _quiet_imread(path)
        if img is None:
            raise HookcamError(f"background image {path}: cannot be read as an image (corrupt or not "
                               "PNG/JPEG?); give another file or --background blur")
        self.image = to_bgr8(img)
        self._cache: np.ndarray | None = None

    def frame(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if self._cache is None or self._cache.shape[:2] != (h, w):
            self._cache = fit(self.image, (w, h))
        return self._cache


class Movie:
    """A video file, one of its frames per output frame, looping, fitted like a picture."""

    def __init__(self, path: Path):
        from hookcam.errors import SourceError
        from hookcam.sources.video import VideoSource

        self.path = path
        try:
            self.video = VideoSource(path, loop=True)
        except SourceError as e:
            raise HookcamError(f"background video {e}; give another file or --background blur") from None
        self._last: np.ndarray | None = None

    def frame(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        try:
            img = self.video.read()
        except HookcamError:
            img = None
        if img is not None:
            self._last = fit(img, (w, h))
        if self._last is None or self._last.shape[:2] != (h, w):
            self._last = np.zeros_like(image)
        return self._last

    def close(self) -> None:
        self.video.close()


def _quiet_imread(path: Path) -> np.ndarray | None:
    """cv2.imread without OpenCV's own log line for a broken file (we say it in one line)."""
    log = cv2.utils.logging
    level = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    finally:
        log.setLogLevel(level)


def open_backdrop(text: str, strength: float):
    kind = parse_background(text)
    if kind == "blur":
        return Blur(strength)
    if kind == "colour":
        return Colour(text.strip())
    if kind == "none":
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise HookcamError(f"background file {path} does not exist: {HELP}")
    if path.suffix.lower() in IMAGE_EXT:
        return Picture(path)
    return Movie(path)
