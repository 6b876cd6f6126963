"""Smile mode: a sticker pops up beside each face while that face is smiling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hookcam.effects.stickers import draw, load_pack
from hookcam.errors import HookcamError
from hookcam.types import Face


class SmileEffect:
    name = "smile"
    needs = frozenset({"smile"})

    def __init__(self, stickers: Path | None = None, fade_frames: int = 2):
        pack = load_pack(stickers)
        if "smile" not in pack:
            raise HookcamError(f"sticker pack {stickers}: has no [stickers.smile] entry for smile mode")
        self.sticker = pack["smile"]
        self.fade_frames = fade_frames
        self._opacity: dict[int, float] = {}

    def apply(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        step = 1.0 / max(1, self.fade_frames)
        seen = set()
        for f in faces:
            seen.add(f.track_id)
            o = self._opacity.get(f.track_id, 0.0)
            # fades in over fade_frames; goes at once when the smile ends (it is late already:
            # the hysteresis has waited for the smile to be over)
            o = min(1.0, o + step) if f.smiling else 0.0
            self._opacity[f.track_id] = o
            if o > 0:
                draw(image, self.sticker, f.box, f.roll, opacity=o)
        for k in [k for k in self._opacity if k not in seen]:
            del self._opacity[k]
        return image

    def close(self) -> None:
        pass
