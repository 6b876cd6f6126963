"""Video files through PyAV (FFmpeg): any container/codec FFmpeg reads, animated GIFs too."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from hookcam.errors import SourceError
from hookcam.frames import fit, to_bgr8
from hookcam.types import SourceInfo


class VideoSource:
    def __init__(self, path: Path, size: tuple[int, int] | None = None, loop: bool = False):
        self.path = Path(path)
        self.size = size
        self.loop = loop
        self._container = None
        self._frames = None
        self._open()
        first = self._next_decoded()
        if first is None:
            self.close()
            raise SourceError(f"{self.path}: no video frames could be decoded (is the file complete?)")
        self._pending: np.ndarray | None = first
        h, w = first.shape[:2]
        self.info = SourceInfo(
            width=w, height=h, fps=self._fps, kind="video",
            description=f"video file {self.path.name} ({w}x{h} @ {self._fps:.2f} fps)",
            frame_count=self._count or None,
        )

    def _open(self) -> None:
        try:
            self._container = av.open(str(self.path))
            stream = self._container.streams.video[0]
        except (av.FFmpegError, IndexError, OSError) as e:
            self.close()
            raise SourceError(f"{self.path}: not a readable video ({_why(e)}); check the file") from None
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or 25
        self._fps = float(rate) if float(rate) > 0 else 25.0
        self._count = stream.frames
        self._frames = self._container.decode(stream)
        self._decoded = 0

    def _next_decoded(self) -> np.ndarray | None:
        try:
            frame = next(self._frames)
        except StopIteration:
            return None
        except av.FFmpegError as e:
            raise SourceError(f"{self.path}: damaged after frame {self._decoded} ({_why(e)}); "
                              "the frames before it were used") from None
        self._decoded += 1
        return fit(to_bgr8(frame.to_ndarray(format="bgr24")), self.size)

    def read(self) -> np.ndarray | None:
        if self._pending is not None:
            img, self._pending = self._pending, None
            return img
        img = self._next_decoded()
        if img is None and self.loop:
            self._container.close()
            self._open()
            img = self._next_decoded()
        return img

    def reopen(self) -> None:
        pass

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def _why(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return str(text).strip().lower()
