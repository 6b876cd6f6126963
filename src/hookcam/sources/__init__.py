"""Sources: what the user typed after --input -> an open Source."""

from __future__ import annotations

import glob
import sys
from pathlib import Path

from hookcam.errors import SourceError
from hookcam.sources.base import Source
from hookcam.sources.images import ImageSource, is_still_image
from hookcam.sources.video import VideoSource

__all__ = ["Source", "open_source"]


def open_source(spec: str, size: tuple[int, int] | None = None, fps: float | None = None,
                loop: bool = False) -> Source:
    """`0` / `/dev/video0` camera, a video file, an image, a folder of images, `demo`, or `auto`
    (the first camera that works, else the demo)."""
    spec = str(spec).strip()
    if not spec:
        raise SourceError("--input is empty: give a camera (0, /dev/video0), a file, a folder, demo or auto")
    if spec == "demo":
        from hookcam.sources.demo import DemoSource

        return DemoSource(size, fps)
    if spec == "auto":
        return _auto(size, fps)
    if spec.isdigit() or spec.startswith("/dev/video"):
        from hookcam.sources.camera import CameraSource

        return CameraSource(int(spec) if spec.isdigit() else spec, size, fps)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageSource(path, size, loop, fps)
    if not path.exists():
        raise SourceError(f"{spec}: no such file, folder or camera (cameras: 0, 1, /dev/videoN)")
    if is_still_image(path):  # by name or by content (a PNG named .mp4 is an image)
        return ImageSource(path, size, loop, fps)
    return VideoSource(path, size, loop)


def _auto(size, fps) -> Source:
    from hookcam.sources.camera import CameraSource
    from hookcam.sources.demo import DemoSource

    if sys.platform.startswith("linux"):
        candidates = sorted(glob.glob("/dev/video*"), key=lambda p: int(p[10:] or 0)
                            if p[10:].isdigit() else 999)
        from hookcam.v4l2 import is_capture_device

        candidates = [c for c in candidates if is_capture_device(c)]
    else:
        candidates = [0]
    for dev in candidates:
        try:
            return CameraSource(dev, size, fps)
        except SourceError:
            continue
    print("hookcam: no camera found; playing the built-in demo (NASA astronaut) instead",
          file=sys.stderr)
    return DemoSource(size, fps)
