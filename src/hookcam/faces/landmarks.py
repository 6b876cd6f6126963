"""Face landmarks (478 points) and blendshapes with MediaPipe Face Landmarker, when its model is
available through the registry (`hookcam models pull face_landmarker`, or --model-dir).

It runs on a square crop around each tracked face (not on the whole frame), so it works for
small faces too and its result belongs to that face by construction. Without the model,
effects fall back to the detector's box and six keypoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from hookcam.errors import ModelError

RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # subject's right / left eye outer corners


@dataclass
class Landmarks:
    points: np.ndarray  # (478, 2) frame pixels
    blendshapes: dict[str, float]

    @property
    def roll(self) -> float:
        (rx, ry), (lx, ly) = self.points[RIGHT_EYE_OUTER], self.points[LEFT_EYE_OUTER]
        return math.degrees(math.atan2(ly - ry, lx - rx))


class Landmarker:
    def __init__(self, model_path):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE, num_faces=1, output_face_blendshapes=True)
        try:
            self._lm = vision.FaceLandmarker.create_from_options(opts)
        except Exception as e:  # MediaPipe raises RuntimeError/ValueError on a bad bundle
            raise ModelError(f"face landmarker model {model_path} does not load ({e}); "
                             "run `hookcam models pull face_landmarker` again") from None

    @classmethod
    def from_store(cls, store) -> Landmarker | None:
        """The landmarker if its model is available (verified), else None (effects fall back)."""
        if store is None:
            return None
        try:
            return cls(store.path("face_landmarker"))
        except ModelError:
            return None

    def run(self, bgr: np.ndarray, box) -> Landmarks | None:
        """Landmarks of the face in `box` (x, y, w, h), or None if none is found there."""
        x, y, w, h = box
        side = 1.9 * max(w, h)
        cx, cy = x + w / 2, y + h / 2
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        s = int(round(side))
        fh, fw = bgr.shape[:2]
        crop = np.zeros((s, s, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + s, fw), min(y0 + s, fh)
        if sx1 <= sx0 or sy1 <= sy0:
            return None
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = bgr[sy0:sy1, sx0:sx1]
        scale = 1.0
        if s > 256:  # the model works at 256 px anyway; a smaller crop is cheaper to convert
            scale = 256 / s
            crop = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB,
                               data=cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        result = self._lm.detect(image)
        if not result.face_landmarks:
            return None
        size = crop.shape[0]
        pts = np.array([(p.x * size, p.y * size) for p in result.face_landmarks[0]], np.float32)
        pts = pts / scale + (x0, y0)
        shapes = {b.category_name: float(b.score) for b in (result.face_blendshapes or [[]])[0]}
        return Landmarks(pts, shapes)

    def close(self) -> None:
        self._lm.close()
