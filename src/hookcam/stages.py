"""Frame stages that run between analysis and the face effects, in this order:

    background (composite on the camera frame) -> framing (crop + resize, faces mapped)

Each is a small object behind `FrameStage`; `make_stages(settings)` builds the ones the settings
ask for (a bad background file or colour fails here, as one HookcamError, before anything runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from hookcam.types import Face


class FrameStage(Protocol):
    """Edits the whole frame; may change its geometry, then returns the faces in the new one.
    Like effects, heavy work runs in the stage's own worker, and a stage may have
    `bind(run: RunInfo)` (effects/base.py) to learn whether frames go in step (work inline)."""

    name: str
    needs: frozenset[str]  # what analysis must compute for this stage ({"faces"} for framing)

    def process(self, image: np.ndarray, faces: Sequence[Face]) -> tuple[np.ndarray, Sequence[Face]]:
        """Must not edit `image` in place (the camera frame is shared with analysis)."""
        ...

    def close(self) -> None:
        ...


BACKGROUND_KEYS = ("background", "background_blur", "background_model")
FRAMING_KEYS = ("framing", "framing_max_zoom")


def make_background(settings, stats=None):
    from hookcam.effects.background import BackgroundStage, parse_background

    if parse_background(settings.background) == "none":
        return None
    return BackgroundStage(settings.background, settings.background_blur, settings.background_model, stats)


def make_framing(settings, log: Callable[[str], None] | None = None):
    if settings.framing != "auto":
        return None
    from hookcam.framing import AutoFraming

    return AutoFraming(settings.framing_max_zoom, log)


def make_stages(settings, log: Callable[[str], None] | None = None, stats=None) -> list[FrameStage]:
    return [s for s in (make_background(settings, stats), make_framing(settings, log)) if s is not None]


def rebuild(old: Sequence[FrameStage], before, after, log=None, stats=None) -> tuple[list, list]:
    """New stage list for changed settings, reusing stages whose settings did not change.
    Returns (new stages, stages to close once swapped)."""
    def changed(keys):
        return any(getattr(before, k) != getattr(after, k) for k in keys)

    by_name = {s.name: s for s in old}
    new, retired = [], []
    for name, keys, make in (("background", BACKGROUND_KEYS, lambda: make_background(after, stats)),
                             ("framing", FRAMING_KEYS, lambda: make_framing(after, log))):
        stage = by_name.get(name)
        if name == "background" and stage is not None and changed(keys) and not changed(keys[:1] + keys[2:]):
            stage.set_strength(after.background_blur)  # a slider drag: no new worker, no flash
            new.append(stage)
            continue
        if changed(keys):
            if stage is not None:
                retired.append(stage)
            stage = make()
        if stage is not None:
            new.append(stage)
    return new, retired
