"""Raw frames on standard output (bgr24), for piping into ffmpeg/ffplay."""

from __future__ import annotations

import sys

import numpy as np

from hookcam.errors import SinkError


class StdoutSink:
    live = False
    name = "stdout (raw bgr24)"

    def __init__(self, width: int, height: int, fps: float):
        self.out = sys.stdout.buffer
        print(f"hookcam: raw video on stdout: -f rawvideo -pixel_format bgr24 "
              f"-video_size {width}x{height} -framerate {fps:g}", file=sys.stderr)

    def send(self, image: np.ndarray) -> None:
        try:
            self.out.write(np.ascontiguousarray(image).data)
        except BrokenPipeError:
            raise SinkError("stdout was closed by the program reading it") from None

    def close(self) -> None:
        try:
            self.out.flush()
        except (BrokenPipeError, ValueError):
            pass
