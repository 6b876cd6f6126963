"""Raw frames on standard output (bgr24), for piping into ffmpeg/ffplay."""

from __future__ import annotations

import os
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
            self._drop()
            raise SinkError("stdout was closed by the program reading it") from None
        except OSError as e:  # e.g. a full disk behind `> file`
            self._drop()
            why = (e.strerror or str(e)).lower()
            raise SinkError(f"writing to stdout failed: {why}; free some space or send it elsewhere") from None

    def close(self) -> None:
        try:
            self.out.flush()
        except (OSError, ValueError):
            self._drop()

    def _drop(self) -> None:
        """Stop writing to stdout: no retry of what is buffered, no error at exit."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
