"""The Source protocol: something that hands out 8-bit BGR frames."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from hookcam.types import SourceInfo


class Source(Protocol):
    """`read()` returns the next frame, or None at the end of a file.

    A live source (camera) raises `hookcam.errors.SourceLost` when it stops delivering;
    the pipeline then calls `reopen()` every so often until it works again.
    """

    info: SourceInfo

    def read(self) -> np.ndarray | None: ...

    def reopen(self) -> None: ...

    def close(self) -> None: ...
