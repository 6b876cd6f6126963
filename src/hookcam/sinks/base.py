"""The Sink protocol: where finished frames go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class Sink(Protocol):
    """Opened with the frame size and rate; `send` takes 8-bit BGR frames of exactly that size.

    `live` sinks (virtual camera, window) are watched in real time, so a file input is paced
    for them by default.
    """

    name: str
    live: bool

    def send(self, image: np.ndarray) -> None: ...

    def close(self) -> None: ...


class NullSink:
    name = "null"
    live = False

    def __init__(self, *_args, **_kw):
        self.frames = 0

    def send(self, image: np.ndarray) -> None:
        self.frames += 1

    def close(self) -> None:
        pass
