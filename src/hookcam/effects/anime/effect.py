"""`--effect anime`: each face redrawn as anime, live.

apply() (a few ms at 720p) only crops, warps and blends: the GAN runs in a StyleWorker on the
newest crop. Between stylisations the last stylised face is warped to the face's current
placement (similarity transform), so it follows head motion at full frame rate, and a new
result cross-fades in over `FADE_S`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hookcam.effects.anime.align import Placement, crop_face, placement
from hookcam.effects.anime.blend import match_seam, paste
from hookcam.effects.anime.model import default_threads
from hookcam.effects.anime.stylizer import load_stylizer
from hookcam.effects.anime.worker import StyleWorker
from hookcam.types import Face

FADE_S = 0.2  # cross-fade between two stylised results
SMOOTH = 0.6  # share of the new placement taken each frame (keypoints jitter)
FORGET_S = 1.0  # a face unseen this long is forgotten
DEFAULT_MAX_FACES = 1  # the GAN's time is shared between faces: one by default
STREAMS = 3  # stylisations in flight. OpenVINO runs at most one stream per core (2 here), one
# core each; the third keeps a crop prepared so no stream waits for Python's pre/post-processing.
# On 2 busy cores: tiny_Cute 17 (one call on both cores) -> 22 (2) -> 25 (3) stylised/s.


@dataclass
class _Job:
    crop: np.ndarray  # BGR crop (face: aligned square; frame: downscaled frame)
    kind: str  # "face" | "frame"


@dataclass
class _Track:
    p: Placement | None = None
    seq: int = 0
    new: np.ndarray | None = None
    old: np.ndarray | None = None
    since: float = 0.0
    seen: float = 0.0


def _process(stylizer, job: _Job) -> np.ndarray:
    out = stylizer(job.crop)
    if job.kind == "face":
        out = match_seam(out, job.crop, stylizer.crop)
    return out


class AnimeEffect:
    name = "anime"
    # The detector's eye and mouth keypoints place the crop well enough; the 478-point
    # landmarker would take most of a core at 30 fps from the GAN worker.
    needs: frozenset[str] = frozenset({"faces"})
    # Detecting at 15 Hz instead of 30 leaves half a core more to the GAN; the tracker moves
    # the box (and with it the stylised face) to every frame's time in between.
    analysis_hz = 15.0

    def __init__(self, settings, store=None, *, quantize: bool = True, threads: int | None = None,
                 cache_dir: Path | None = None):
        self.scope = settings.anime_scope
        self.pip = settings.pip
        fields = getattr(settings, "model_fields_set", set())
        self.max_faces = settings.max_faces if "max_faces" in fields else DEFAULT_MAX_FACES
        if store is None:
            store = _store(settings)
        model, runtime = settings.anime_model, settings.anime_runtime
        threads = threads or max(STREAMS, default_threads())
        self.worker = StyleWorker(
            lambda: load_stylizer(model, store, threads=threads, quantize=quantize, cache_dir=cache_dir,
                                  runtime=runtime, streams=STREAMS),
            _process,
            threads=STREAMS,
        )
        self._tracks: dict[object, _Track] = {}
        self.timings: dict[str, list[float]] = {"apply": []}
        # sync: stylise inside apply (the pipeline sets it when it analyses every frame in step,
        # e.g. file to file, so every frame is stylised and the result does not depend on timing).
        self.sync = False

    # ------------------------------------------------------------------ public

    @property
    def stylizer(self):
        """What stylises (None while loading): `.kind` is gan-fp32, gan-int8 or classical."""
        return self.worker.stylizer

    def wait_ready(self, timeout: float = 30.0) -> bool:
        return self.worker.ready.wait(timeout)

    def apply(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        t0 = time.perf_counter()
        if self.sync:
            self.worker.ready.wait()
        styl = self.worker.stylizer if self.worker.ready.is_set() else None
        if styl is not None:
            now = time.monotonic()
            if self.scope == "frame":
                thumb = self._pip_crop(image, faces, styl) if self.pip else None
                self._apply_frame(image, styl, now)
            else:
                thumb = self._apply_faces(image, faces, styl, now)
            if thumb is not None:
                _draw_pip(image, thumb)
        self._note("apply", t0)
        return image

    def close(self) -> None:
        self.worker.close()
        styl = self.worker.stylizer
        if hasattr(styl, "close"):
            styl.close()

    # ------------------------------------------------------------------ faces

    def _apply_faces(self, image, faces, styl, now) -> np.ndarray | None:
        thumb = None
        for face in list(faces)[: self.max_faces]:
            key = face.track_id
            tr = self._tracks.setdefault(key, _Track())
            raw = placement(face.box, face.keypoints, face.roll, styl.crop)
            tr.p = raw if tr.p is None else tr.p.blend(raw, SMOOTH)
            tr.seen = now
            crop = crop_face(image, tr.p, styl.size)
            if self.pip and thumb is None:
                thumb = crop
            if self.sync:
                shown = _process(styl, _Job(crop, "face"))
            else:
                self.worker.submit(key, _Job(crop, "face"))
                shown = self._shown(tr, key, now, crop)
            if shown is not None:
                paste(image, shown, tr.p, styl.crop)
        for key in [k for k, t in self._tracks.items() if now - t.seen > FORGET_S]:
            del self._tracks[key]
            self.worker.forget(key)
        return thumb

    def _shown(self, tr: _Track, key, now: float, current: np.ndarray) -> np.ndarray | None:
        """The stylised crop to show now: the newest result, cross-faded from the previous one."""
        res = self.worker.result(key)
        if res is not None and res[0] != tr.seq:
            if res[1].shape != current.shape:
                return tr.new
            # Fade from what was on screen (the real face, the first time).
            tr.old = self._blend(tr, now) if tr.new is not None else current
            tr.new, tr.seq, tr.since = res[1], res[0], now
        if tr.new is None:
            return None
        return self._blend(tr, now)

    @staticmethod
    def _blend(tr: _Track, now: float) -> np.ndarray:
        a = (now - tr.since) / FADE_S
        if a >= 1.0 or tr.old is None or tr.old.shape != tr.new.shape:
            return tr.new
        return cv2.addWeighted(tr.new, a, tr.old, 1.0 - a, 0.0)

    # ------------------------------------------------------------------ whole frame

    def _apply_frame(self, image, styl, now) -> None:
        h, w = image.shape[:2]
        fw, fh = styl.frame_size(w, h)
        small = cv2.resize(image, (fw, fh), interpolation=cv2.INTER_AREA)
        tr = self._tracks.setdefault("frame", _Track())
        tr.seen = now
        if self.sync:
            shown = _process(styl, _Job(small, "frame"))
        else:
            self.worker.submit("frame", _Job(small, "frame"))
            shown = self._shown(tr, "frame", now, small)
        if shown is not None:
            cv2.resize(shown, (w, h), dst=image, interpolation=cv2.INTER_LINEAR)

    def _pip_crop(self, image, faces, styl) -> np.ndarray | None:
        if not faces:
            return None
        f = faces[0]
        return crop_face(image, placement(f.box, f.keypoints, f.roll, "loose"), 160)

    def _note(self, stage: str, t0: float) -> None:
        xs = self.timings[stage]
        xs.append((time.perf_counter() - t0) * 1000)
        if len(xs) > 5000:
            del xs[:2500]


def _draw_pip(image: np.ndarray, thumb: np.ndarray) -> None:
    """The real face, small, in the bottom-right corner with a white frame."""
    h, w = image.shape[:2]
    side = max(32, min(h, w) // 5)
    t = cv2.resize(thumb, (side, side), interpolation=cv2.INTER_AREA)
    m = max(4, side // 16)
    y0, x0 = h - side - m, w - side - m
    if y0 < 2 or x0 < 2:
        return
    cv2.rectangle(image, (x0 - 2, y0 - 2), (x0 + side + 1, y0 + side + 1), (255, 255, 255), 2)
    image[y0 : y0 + side, x0 : x0 + side] = t


def _store(settings):
    from hookcam.errors import ModelError
    from hookcam.models import ModelStore

    try:
        return ModelStore(getattr(settings, "model_dir", None))
    except ModelError:
        return None  # a bad --model-dir: resolve_model reports it through the fallback
