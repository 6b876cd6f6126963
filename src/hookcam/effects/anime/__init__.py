"""`--effect anime`: faces (or the whole frame) redrawn by an AnimeGAN generator, live.

    from hookcam.effects.anime import AnimeEffect
    effect = AnimeEffect(settings, store)      # store: hookcam.models.ModelStore or None

Modules: align (aligned crops), blend (feathered mask, seam colour match), model (ONNX
generators, fp16->fp32), quantize (cached static int8), classical (fallback cartoon filter),
stylizer (choose/load, fallback), worker (the stylisation thread), warp (optical flow carries the
live face's motion onto the last stylised face), effect (AnimeEffect).
"""

from hookcam.effects.anime.effect import AnimeEffect

__all__ = ["AnimeEffect"]
