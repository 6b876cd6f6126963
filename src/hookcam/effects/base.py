"""The Effect protocol: draw onto one output frame, given the faces as they are at that frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from hookcam.types import Face


@dataclass(frozen=True)
class RunInfo:
    """What the pipeline tells a stage about the run, through the stage's optional
    `bind(run: RunInfo)`: called when the stage joins the run and again when it changes."""

    lockstep: bool  # frames go in step (file to file): a worker's result is computed inline
    fps: float  # the output frame rate
    stats: Any = None  # the pipeline's stage timings (Stats.add(name, seconds))


class Effect(Protocol):
    """An effect edits frames. It must be cheap per call: anything heavy (a GAN) runs in the
    effect's own worker thread and `apply` uses its newest result, so output never waits.

    `needs` tells the analysis stage what to compute: any of {"faces", "smile", "emotion",
    "landmarks"} ("faces": boxes only). An empty set means no face detection runs at all.

    An effect or stage may have a `bind(run: RunInfo)` method: the pipeline calls it with what
    the run is (in step file to file, so a worker computes inline and every frame gets its own
    result; the frame rate; the stage timings).

    An effect whose worker needs the CPU more than the faces need fresh detections may have an
    `analysis_hz` attribute: live, the pipeline then analyses at most that often (the tracker
    still moves each face box to every output frame's time).
    """

    name: str
    needs: frozenset[str]

    def apply(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Return the edited frame (may edit `image` in place and return it)."""
        ...

    def close(self) -> None:
        """Stop workers, free models."""
        ...


class NoEffect:
    name = "none"
    needs: frozenset[str] = frozenset()

    def apply(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        return image

    def close(self) -> None:
        pass
