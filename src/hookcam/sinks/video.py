"""Video files through PyAV: H.264 in MP4 (or MKV), finalised on Ctrl-C so the file plays."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hookcam.errors import SinkError


class VideoFileSink:
    live = False

    def __init__(self, path: Path, width: int, height: int, fps: float):
        self.path = Path(path)
        self.name = f"file {self.path}"
        if self.path.is_dir():
            raise SinkError(f"{self.path} is a folder: give a file name such as out.mp4")
        parent = self.path.parent
        if not parent.is_dir():
            raise SinkError(f"cannot write {self.path}: folder {parent} does not exist")
        try:
            with open(self.path, "ab"):  # fail now, not at the first frame, if it cannot be written
                pass
            self.container = av.open(str(self.path), mode="w")
        except (av.FFmpegError, OSError) as e:
            why = (getattr(e, "strerror", None) or str(e)).lower()
            raise SinkError(f"cannot write {self.path}: {why}; choose a folder you can write to") from None
        rate = Fraction(fps).limit_denominator(1001)
        self.stream = self.container.add_stream("libx264", rate=rate)
        # H.264 4:2:0 needs even sides: pad odd frames by one pixel.
        self.width, self.height = width + width % 2, height + height % 2
        self.stream.width, self.stream.height = self.width, self.height
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"preset": "veryfast", "crf": "20"}
        self.frames = 0

    def send(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        if (w, h) != (self.width, self.height):
            image = np.pad(image, ((0, self.height - h), (0, self.width - w), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = self.frames
        frame.time_base = 1 / self.stream.codec_context.framerate
        try:
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
        except (av.FFmpegError, OSError) as e:
            raise SinkError(f"writing {self.path} failed: {e} (disk full?)") from None
        self.frames += 1

    def close(self) -> None:
        if self.container is None:
            return
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        finally:
            self.container.close()
            self.container = None
