"""The analysis stage: detect faces, track them, classify each (smile, emotion), decide over time.

Detection is scheduled to spend CPU only where it buys something:
- nothing runs while no effect needs faces and no control-page client asks for them;
- every other analysed frame (`refine_every`), each tracked face is found again by the
  short-range model in a window around it (`FaceDetector.refine`, 1.5-3 ms a face), so faces of
  any size are followed; on the frames in between, a face the tracker holds firmly (seen on the
  last look and on at least 3 before) is taken where the tracker predicts it, and only the
  expression model runs (a MediaPipe call costs more CPU than the expression model);
- every `scan_every` analysed frames one scan looks for new faces: the full pass every other
  scan, in between the padded pass (a face filling the frame) and three small tiles (small faces)
  in turn. At 30 fps (scan_every 4) a newcomer of ordinary size is found within 8 frames, a
  frame-filling or small one within about 2.5 s. A new face counts once the short-range model
  confirms it (`FaceDetector.verify`), which keeps cartoon and animal faces out.

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
from hookcam.faces.detect import FaceDetector, overlap
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
        # mode ("smile" / "emotion") -> its expression model, loaded when first needed; a caller's
        # model serves both
        self._models: dict[str, object] = (
            {} if expression_model is None else dict.fromkeys(("smile", "emotion"), expression_model))
        self._expr = expression_model
        self._store = store
        self._landmarker = None
        self._landmarker_tried = False
        self._smile: dict[int, Hysteresis] = {}
        self._emotion: dict[int, LabelSmoother] = {}
        self._facecheck: dict[int, FaceCheck] = {}
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)  # notified after each analysed frame
        self._faces: list[Face] = []
        self._velocity: dict[int, np.ndarray] = {}
        self._t = float("-inf")  # time of the newest analysed frame
        self.timings: dict[str, float] = {}  # last detect / analyse durations, seconds
        self.scan_every = 3  # analysed frames between scans for new faces (the pipeline sets it)
        self.refine_every = 2  # analysed frames between looks at the tracked faces (1: every frame)
        self._n = 0  # analysed frames
        self._scans = 0
        self._wanted_until = 0.0
        self._corr: dict[int, np.ndarray] = {}  # track id -> short-range -> full-range box

    @property
    def expression(self):
        """The expression model this mode needs: emotion runs the whole pair (`expression.onnx`);
        smile alone runs one of its networks (`expression-smile.onnx`), half the CPU. Each is
        loaded once; switching modes switches models (and restarts the per-face face check, whose
        threshold is the model's)."""
        if not ({"smile", "emotion"} & self.needs):
            return self._expr
        kind = "emotion" if "emotion" in self.needs else "smile"
        model = self._models.get(kind)
        if model is None:
            from hookcam.analysis.expression import ExpressionModel, smile_model_path

            model = self._models[kind] = ExpressionModel(smile_model_path() if kind == "smile" else None)
        if model is not self._expr:
            self._facecheck.clear()
            self._expr = model
        return model

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

    def want_faces(self, seconds: float = 3.0) -> None:
        """Someone reads the faces (the control page): detect for the next `seconds` even if the
        effect needs none."""
        self._wanted_until = time.monotonic() + seconds

    @property
    def active(self) -> bool:
        return bool(self.needs) or time.monotonic() < self._wanted_until

    def _coasting(self) -> bool:
        """This frame needs no detector call: no scan is due and every tracked face was seen on
        the last look (and on 3 before it), so the tracker's prediction is good enough."""
        n, tracks = self._n, self.tracker.tracks
        return (bool(tracks) and n % max(1, self.scan_every) != 0 and n % max(1, self.refine_every) != 0
                and all(tr.misses == 0 and tr.hits >= 3 for tr in tracks))

    def _detect(self, image: np.ndarray, t: float) -> list:
        """Tracked faces found again near where they were, plus, on a scan, new (confirmed) ones.

        Boxes keep the full-range model's framing (what the expression model was trained on and
        stickers are placed by): each track learns how its short-range box differs from the
        full-range one whenever a full pass sees it, and corrects the short-range box with that."""
        det = self.detector
        found, raw, owner = [], [], []
        for tr in self.tracker.tracks:
            again = det.refine(image, tr.box_at(t))
            if again is not None and all(overlap(again.box, f.box) < 0.5 for f in found):
                raw.append(again)
                owner.append(tr.id)
                found.append(_corrected(again, self._corr.get(tr.id)))
        if self._n % max(1, self.scan_every) == 0 or not self.tracker.tracks:
            k = self._scans
            self._scans += 1
            full_range = True
            if k % 2 == 0:
                new = det.detect(image)
            else:  # the padded pass, or the next 3 small tiles (short-range model)
                tiles = det.tiles(image.shape, level=-1)
                groups = [tiles[i : i + 3] for i in range(0, len(tiles), 3)]
                step = (k // 2) % (len(groups) + 1)
                full_range = step == len(groups)
                new = (det.detect_padded(image) if full_range
                       else det.detect_tiles(image, groups[step], short=True))
            for d in new:
                mine = [i for i, r in enumerate(raw) if overlap(d.box, r.box) >= 0.5]
                if mine and full_range:  # a tracked face: learn its correction, use the full box
                    i = mine[0]
                    c = _correction(raw[i], d)
                    old = self._corr.get(owner[i])
                    self._corr[owner[i]] = c if old is None else 0.5 * old + 0.5 * c
                    found[i] = d
                elif not mine and all(overlap(d.box, f.box) < 0.3 for f in found):
                    again = det.verify(image, d)
                    if again is not None:
                        found.append(d if full_range else again)
        self._n += 1
        return found

    def set_smile_thresholds(self, on: float, off: float) -> None:
        self.smile_on, self.smile_off = on, off
        for h in self._smile.values():
            h.on, h.off = on, off

    def process(self, image: np.ndarray, t: float | None = None) -> list[Face]:
        t = time.monotonic() if t is None else t
        t0 = time.perf_counter()
        if not self.active:  # nothing needs faces: no detection at all
            if self._faces or self.tracker.tracks:
                self.tracker.tracks = []
                with self._lock:
                    self._faces = []
            self.timings = {"detect": 0.0, "analyse": 0.0}
            return []
        if self._coasting():  # between looks: where the tracker predicts each face
            self._n += 1
            t1 = time.perf_counter()
            tracks = sorted(self.tracker.tracks, key=lambda tr: -tr.box[2] * tr.box[3])[: self.max_faces]
            faces = [_predicted(tr, t) for tr in tracks]
        else:
            detections = self._detect(image, t)
            t1 = time.perf_counter()
            tracks = self.tracker.update(detections, t)
            # a face the refine missed once stays (at its last box) rather than blink
            seen = {tr.id for tr in tracks}
            tracks += [tr for tr in self.tracker.tracks if tr.id not in seen and tr.misses <= 2 and tr.hits >= 3]
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
                    f.emotion_score = ls.scores.get(label) if is_face else None
        t2 = time.perf_counter()
        live = {tr.id for tr in self.tracker.tracks}
        for d in (self._smile, self._emotion, self._corr, self._facecheck):
            for k in [k for k in d if k not in live]:
                del d[k]
        with self._lock:
            self._faces = faces
            self._velocity = {tr.id: tr.velocity.copy() for tr in tracks}
            self._t = t
            self.timings = {"detect": t1 - t0, "analyse": t2 - t1}
            self._done.notify_all()
        return faces

    def wait_for(self, t: float, timeout: float) -> bool:
        """Wait up to `timeout` seconds until the frame of time `t` (or a newer one) has been
        analysed; True if it has. The output loop spends a part of a frame period here, so the
        frame it sends carries its own analysis rather than the previous frame's."""
        end = time.monotonic() + timeout
        with self._done:
            while self._t < t:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(left)
        return True

    def faces_at(self, t: float, horizon: float = 0.2) -> list[Face]:
        """The newest faces, each box extrapolated to time t (keypoints moved along)."""
        with self._lock:
            faces, vel, t_last = self._faces, self._velocity, self._t
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
            box = (cx - nw / 2, cy - nh / 2, nw, nh)
            out.append(replace(f, box=box, keypoints=_moved(f.keypoints, f.box, box),
                               landmarks=_moved(f.landmarks, f.box, box)))
        return out

    def close(self) -> None:
        self.detector.close()
        if self._landmarker is not None:
            self._landmarker.close()


def _predicted(tr, t: float) -> Face:
    """A tracked face where the tracker predicts it at time t, keypoints moved along."""
    box = tr.box_at(t)
    kps = _moved(tr.keypoints, tr.box, box)
    return Face(track_id=tr.id, box=box, score=tr.score, keypoints=kps, roll=_roll(kps))


def _moved(pts: np.ndarray | None, box, new_box) -> np.ndarray | None:
    """Points of a face in `box` moved and scaled with it to `new_box`."""
    if pts is None:
        return None
    (x, y, w, h), (nx, ny, nw, nh) = box, new_box
    s = nw / w if w else 1.0
    return ((pts - (x + w / 2, y + h / 2)) * s + (nx + nw / 2, ny + nh / 2)).astype(np.float32)


def _correction(short, full) -> np.ndarray:
    """How the full-range detection differs from the short-range one of the same face: centre
    shift in box widths/heights, scale, and each keypoint's shift in box widths/heights."""
    sx, sy, sw, sh = short.box
    fx, fy, fw, fh = full.box
    box = [(fx + fw / 2 - sx - sw / 2) / sw, (fy + fh / 2 - sy - sh / 2) / sh, fw / sw, fh / sh]
    kps = ((full.keypoints - short.keypoints) / (sw, sh)).ravel()
    return np.concatenate([box, kps])


def _corrected(d, c):
    if c is None:
        return d
    x, y, w, h = d.box
    cx, cy, nw, nh = x + w / 2 + c[0] * w, y + h / 2 + c[1] * h, w * c[2], h * c[3]
    kps = d.keypoints + c[4:].reshape(-1, 2) * (w, h)
    return replace(d, box=(cx - nw / 2, cy - nh / 2, nw, nh), keypoints=kps.astype(np.float32))


def _roll(kps: np.ndarray | None) -> float:
    if kps is None or len(kps) < 2:
        return 0.0
    (rx, ry), (lx, ly) = kps[0], kps[1]
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))
