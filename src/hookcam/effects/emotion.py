"""Emotion mode: per face, the sticker of its current emotion (held steady by the analysis
stage's LabelSmoother) anchored to the head, and an optional label such as "happy 93%".

Sticker packs map emotions to images: keys angry, disgust, fear, happy, sad, surprise, neutral.
A pack may leave some out; those emotions then show only the label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from hookcam.effects.stickers import draw, load_pack
from hookcam.errors import HookcamError
from hookcam.types import EMOTIONS, Face


class EmotionEffect:
    name = "emotion"
    needs = frozenset({"emotion", "smile"})  # sticker placement uses the detector keypoints' roll

    def __init__(self, settings):
        pack = load_pack(settings.stickers)
        self.stickers = {k: v for k, v in pack.items() if k in EMOTIONS}
        if not self.stickers:
            raise HookcamError(f"sticker pack {settings.stickers}: has none of the emotion stickers "
                               f"({', '.join(EMOTIONS)})")
        self.label = settings.label

    def apply(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        for f in faces:
            if not f.emotion:
                continue
            sticker = self.stickers.get(f.emotion)
            if sticker is not None:
                draw(image, sticker, f.box, f.roll)
            if self.label:
                draw_label(image, label_text(f), f.box, f.roll)
        return image

    def close(self) -> None:
        pass


def label_text(f: Face) -> str:
    """"happy 93%": the shown emotion and its probability averaged the way the label was chosen
    (this frame's own probability can sit far below it while the label is held, "happy 10%")."""
    score = f.emotion_score
    if score is None:
        score = (f.emotion_scores or {}).get(f.emotion, 0.0)
    return f"{f.emotion} {score * 100:.0f}%"


def draw_label(image: np.ndarray, text: str, box, roll: float = 0.0) -> None:
    """A rounded dark tag under the chin, sized with the face."""
    x, y, w, h = box
    scale = max(0.4, min(1.6, w / 160))
    thick = max(1, round(scale * 1.6))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    r = math.radians(roll)
    cx = x + w / 2 - 0.62 * h * math.sin(r)
    cy = y + h / 2 + 0.62 * h * math.cos(r) + th
    fh, fw = image.shape[:2]
    pad = max(3, th // 3)
    x0 = int(min(max(cx - tw / 2 - pad, 0), fw - tw - 2 * pad))
    y0 = int(min(max(cy - th - pad, 0), fh - th - base - 2 * pad))
    x1, y1 = x0 + tw + 2 * pad, y0 + th + base + 2 * pad
    if x0 < 0 or y0 < 0:
        return
    roi = image[y0:y1, x0:x1]
    roi[:] = (roi * 0.35).astype(np.uint8)
    cv2.putText(image, text, (x0 + pad, y0 + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thick, cv2.LINE_AA)
