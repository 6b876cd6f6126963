"""Still images and folders of images. Each image is shown as one frame (a folder: in name order)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from hookcam.errors import SourceError
from hookcam.frames import fit, to_bgr8
from hookcam.types import SourceInfo

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
# The first bytes of still-image formats: a PNG named clip.mp4 is still one image, not a
# one-frame video. (GIFs may move, so they go to the video reader.)
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*")


def is_still_image(path: Path) -> bool:
    """By name (.png, .jpg, ...), or by content whatever the name says."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES - {".gif"}:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def load_image(path: Path) -> np.ndarray:
    """Any still image -> 8-bit BGR (RGBA, gray, 16-bit, GIF all handled)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:  # GIF and a few others: let FFmpeg try
        try:
            import av

            with av.open(str(path)) as c:
                img = next(c.decode(video=0)).to_ndarray(format="bgr24")
        except Exception:
            raise SourceError(f"{path}: not an image OpenCV or FFmpeg can read") from None
    return to_bgr8(img)


class ImageSource:
    """One image or a folder of images; with `loop`, the images repeat forever."""

    def __init__(self, path: Path, size: tuple[int, int] | None = None, loop: bool = False,
                 fps: float | None = None):
        path = Path(path)
        if path.is_dir():
            self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.files:
                raise SourceError(f"{path}: folder has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            kind = "folder"
        else:
            self.files = [path]
            kind = "image"
        self.size = size
        self.loop = loop
        self._i = 0
        first = fit(load_image(self.files[0]), size)
        self._cache = {0: first}
        h, w = first.shape[:2]
        self.info = SourceInfo(width=w, height=h, fps=fps or 30.0, kind=kind,
                               description=f"{kind} {path} ({len(self.files)} image(s))",
                               frame_count=len(self.files))

    def read(self) -> np.ndarray | None:
        if self._i >= len(self.files):
            if not self.loop:
                return None
            self._i = 0
        i = self._i
        self._i += 1
        img = self._cache.get(i)
        if img is None:
            img = fit(load_image(self.files[i]), self.size)
            if img.shape[:2] != (self.info.height, self.info.width):
                img = cv2.resize(img, (self.info.width, self.info.height))
            if len(self.files) == 1:
                self._cache[i] = img
        return img.copy()

    def reopen(self) -> None:
        pass

    def close(self) -> None:
        self._cache.clear()
