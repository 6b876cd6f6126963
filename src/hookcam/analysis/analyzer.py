"""The analysis stage: detect faces, track them, classify each (smile, emotion), decide over time.

`process(image, t)` does the heavy work (call it from one thread); `faces_at(t)` is cheap and
thread-safe: the output loop calls it for every frame to get the newest result, with each box
moved to where the tracker predicts the face is at that frame's time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from hookcam.analysis.smoothing import FaceCheck, Hysteresis, LabelSmoother
from hookcam.faces.detect import FaceDetector
from hookcam.faces.track import Tracker
from hookcam.types import Face


class Analyzer:
    def __init__(self, needs: frozenset[str], *, threshold: float = 0.5, max_faces: int = 4,
                 smile_on: float = 0.6, smile_off: float = 0.4, expression_model=None,
                 detector: FaceDetector | None = None, store=None):
        self.needs = needs
        self.max_faces = max_faces
        self.smile_on, self.smile_off = smile_on, smile_off
        self.detector = detector or FaceDetector(threshold, max_faces=max_faces)
        self.tracker = Tracker()
        self._expr = expression_model
        self._store = store
        self._landmarker = None
        self._landmarker_tried = False
        self._smile: dict[int, Hysteresis] = {}
        self._emotion: dict[int, LabelSmoother] = {}
        self._facecheck: dict[int, FaceCheck] = {}
        self._lock = threading.Lock()
        self._faces: list[Face] = []
        self._velocity: dict[int, np.ndarray] = {}
        self.timings: dict[str, float] = {}  # last detect / analyse durations, seconds

    @property
    def expression(self):
        if self._expr is None and ({"smile", "emotion"} & self.needs):
            from hookcam.analysis.expression import ExpressionModel

            self._expr = ExpressionModel()
        return self._expr

    @property
    def landmarker(self):
        """MediaPipe Face Landmarker when an effect needs landmarks and its model is here."""
        if not self._landmarker_tried and "landmarks" in self.needs:
            from hookcam.faces.landmarks import Landmarker

            self._landmarker_tried = True
            self._landmarker = Landmarker.from_store(self._store)
        return self._landmarker if "landmarks" in self.needs else None

    def set_needs(self, needs: frozenset[str]) -> None:
        self.needs = needs

    def set_smile_thresholds(self, on: float, off: float) -> None:
        self.smile_on, self.smile_off = on, off
        for h in self._smile.values():
            h.on, h.off = on, off

    def process(self, image: np.ndarray, t: float | None = None) -> list[Face]:
        t = time.monotonic() if t is None else t
        t0 = time.perf_counter()
        detections = self.detector.detect(image)
        t1 = time.perf_counter()
        tracks = self.tracker.update(detections, t)
        tracks = sorted(tracks, key=lambda tr: -tr.box[2] * tr.box[3])[: self.max_faces]
        faces = [Face(track_id=tr.id, box=tr.box, score=tr.score, keypoints=tr.keypoints,
                      roll=_roll(tr.keypoints)) for tr in tracks]
        landmarker = self.landmarker
        if landmarker is not None:
            for f in faces:
                lm = landmarker.run(image, f.box)
                if lm is not None:
                    f.landmarks, f.roll = lm.points, lm.roll
                    f.extra["blendshapes"] = lm.blendshapes
        model = self.expression
        if faces and model is not None:
            results = model.predict(image, [(f.box, f.keypoints) for f in faces])
            for f, r in zip(faces, results):
                f.smile = float(r.smile)
                f.extra["face_prob"] = float(r.face)
                # no face, no expression: the model's own face probability, averaged per track
                fc = self._facecheck.setdefault(f.track_id, FaceCheck(getattr(model, "face_min", 0.0)))
                is_face = fc.update(f.extra["face_prob"], f.score)
                h = self._smile.setdefault(f.track_id, Hysteresis(self.smile_on, self.smile_off))
                f.smiling = h.update(f.smile) and is_face
                if "emotion" in self.needs:
                    f.emotion_scores = dict(r.emotions)
                    ls = self._emotion.setdefault(f.track_id, LabelSmoother(
                        default="neutral", lead=getattr(model, "emotion_lead", 0.0)))
                    label = ls.update(r.emotions)
                    f.emotion = label if is_face else None  # no face, no emotion
        t2 = time.perf_counter()
        live = {tr.id for tr in self.tracker.tracks}
        for d in (self._smile, self._emotion, self._facecheck):
            for k in [k for k in d if k not in live]:
                del d[k]
        with self._lock:
            self._faces = faces
            self._velocity = {tr.id: tr.velocity.copy() for tr in tracks}
            self._t = t
            self.timings = {"detect": t1 - t0, "analyse": t2 - t1}
        return faces

    def faces_at(self, t: float, horizon: float = 0.2) -> list[Face]:
        """The newest faces, each box extrapolated to time t (keypoints moved along)."""
        with self._lock:
            faces, vel, t_last = self._faces, self._velocity, getattr(self, "_t", t)
        dt = min(max(0.0, t - t_last), horizon)
        if dt == 0:
            return list(faces)
        out = []
        for f in faces:
            v = vel.get(f.track_id)
            if v is None:
                out.append(f)
                continue
            x, y, w, h = f.box
            cx, cy = x + w / 2 + v[0] * dt, y + h / 2 + v[1] * dt
            nw, nh = max(2.0, w + v[2] * dt), max(2.0, h + v[3] * dt)
            s = nw / w if w else 1.0

            def move(pts):
                return None if pts is None else (pts - (x + w / 2, y + h / 2)) * s + (cx, cy)

            out.append(replace(f, box=(cx - nw / 2, cy - nh / 2, nw, nh), keypoints=move(f.keypoints),
                               landmarks=move(f.landmarks)))
        return out

    def close(self) -> None:
        self.detector.close()
        if self._landmarker is not None:
            self._landmarker.close()


def _roll(kps: np.ndarray | None) -> float:
    if kps is None or len(kps) < 2:
        return 0.0
    (rx, ry), (lx, ly) = kps[0], kps[1]
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))
