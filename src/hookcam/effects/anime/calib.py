"""Calibration and check crops for int8 quantisation: the NASA astronaut (public domain,
ships in scikit-image), aligned like a live face and augmented (pose, light, skin tone)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from hookcam.effects.anime.align import Placement, crop_face, placement

# BlazeFace keypoints of skimage.data.astronaut() (512x512), measured once with FaceDetector.
ASTRONAUT_KEYPOINTS = np.array(
    [[202.6, 103.3], [247.9, 105.9], [223.9, 132.5], [222.3, 148.8], [177.8, 107.1], [270.9, 112.1]],
    np.float32,
)
ASTRONAUT_BOX = (173.1, 67.3, 104.7, 104.7)


def astronaut_bgr() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def astronaut_placement(crop: str = "tight") -> Placement:
    return placement(ASTRONAUT_BOX, ASTRONAUT_KEYPOINTS, crop=crop)


def augmented_crops(size: int, n: int, crop: str = "tight", seed: int = 0) -> list[np.ndarray]:
    """`n` BGR crops of the astronaut: jittered placement, flips, brightness/contrast, tints."""
    rng = np.random.default_rng(seed)
    img = astronaut_bgr()
    base = astronaut_placement(crop)
    out = []
    for i in range(n):
        p = Placement(
            base.cx + rng.normal(0, 0.04) * base.side,
            base.cy + rng.normal(0, 0.04) * base.side,
            base.side * math.exp(rng.normal(0, 0.1)),
            base.angle + math.radians(rng.normal(0, 8)),
        )
        c = crop_face(img, p, size).astype(np.float32)
        if i % 2:
            c = c[:, ::-1]
        gain = math.exp(rng.normal(0, 0.3))  # darker and lighter light / skin
        tint = rng.normal(1.0, 0.08, 3).astype(np.float32)
        c = (c - 128) * math.exp(rng.normal(0, 0.15)) + 128
        c = c * gain * tint
        out.append(np.clip(c, 0, 255).astype(np.uint8))
    return out
