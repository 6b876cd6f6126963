"""Effects: `make_effect(settings)` builds the one the settings ask for."""

from __future__ import annotations

from hookcam.effects.base import Effect, NoEffect
from hookcam.errors import HookcamError

__all__ = ["Effect", "make_effect"]


def make_effect(settings, store=None) -> Effect:
    name = settings.effect
    if name == "none":
        return NoEffect()
    if name == "smile":
        from hookcam.effects.smile import SmileEffect

        return SmileEffect(settings.stickers)
    if name == "emotion":
        from hookcam.effects.emotion import EmotionEffect

        return EmotionEffect(settings)
    if name == "anime":
        from hookcam.effects.anime import AnimeEffect

        return AnimeEffect(settings, store)
    raise HookcamError(f"unknown effect {name!r}: use none, smile, emotion or anime")
