"""`--effect anime`: each face redrawn as anime, live.

apply() (a few ms at 720p) only crops, warps and blends: the GAN runs in a StyleWorker on the
newest crop. Between stylisations the last stylised face is warped to the face's current
placement (similarity transform), so it follows head motion at full frame rate, and a new
result cross-fades in over `FADE_S`. With the warp on (`anime_warp`, the default), the live
crop is registered on the real crop the shown result was made from (where the face really is:
the detector's box lags a moving head), and the result is moved by that and by the optical flow
between the two real crops (warp.py), so the anime face sits on the face and its mouth and eyes
move with the live ones at the camera's rate. The GAN gets a crop only when one of its threads
is free to start on it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from hookcam.effects.anime.align import (
    Offset,
    Placement,
    crop_box,
    crop_face,
    placement,
    registered,
)
from hookcam.effects.anime.blend import match_seam, paste
from hookcam.effects.anime.model import default_threads
from hookcam.effects.anime.stylizer import load_stylizer
from hookcam.effects.anime.warp import FlowWarp, corners, grey, grey_at, register
from hookcam.effects.anime.worker import StyleWorker
from hookcam.types import Face

FADE_S = 0.2  # cross-fade between two stylised results
WARP_FADE_S = 0.1  # warp on: the new result is warped to the face now; a short fade hides the GAN change
JOB_ANCHOR = 0.25  # see _job
OFFSET_FADE = 0.7  # a frame that does not register keeps this share of the last correction
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
    grey: np.ndarray | None = None  # its small grey copy, cut as the live face's is (warp on)


@dataclass
class _Result:
    styled: np.ndarray  # the stylised crop
    real: np.ndarray | None = None  # the real aligned crop it was made from (None: unknown)
    grey: np.ndarray | None = None  # its small grey copy (for the flow)
    corners: np.ndarray | None = None  # corners on its face (for registering live crops on it)


class _Live:
    """The live face at a placement: its small grey copy (what the warp compares; cut straight
    from the frame) and, only when something needs its pixels, the full crop or a box of it. A
    full-size crop every frame cost more than a tenth of the warp's budget; the warp needs only
    the box where the live face shows through (an opening mouth)."""

    def __init__(self, image: np.ndarray | None, at: Placement | None, size: int,
                 crop: np.ndarray | None = None):
        self.image, self.at, self.size = image, at, size
        self._crop, self._grey = crop, None

    @classmethod
    def of(cls, crop: np.ndarray) -> _Live:
        """A crop already cut, without the frame it came from (whole-frame scope: only its
        pixels and shape are asked for)."""
        return cls(None, None, crop.shape[0], crop)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._crop.shape if self._crop is not None else (self.size, self.size, 3)

    def crop(self) -> np.ndarray:
        if self._crop is None:
            self._crop = crop_face(self.image, self.at, self.size)
        return self._crop

    def grey(self) -> np.ndarray:
        if self._grey is None:
            self._grey = grey_at(self.image, self.at, self.size)
        return self._grey

    def box(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        if self._crop is not None:
            return self._crop[y0:y1, x0:x1]
        return crop_box(self.image, self.at, self.size, (x0, y0, x1, y1))

    def cut(self, crop: np.ndarray | None) -> bool:
        """Whether `crop` is this live crop itself."""
        return crop is not None and crop is self._crop


@dataclass
class _Reg:
    """A live crop registered on the shown result's real crop."""

    live: _Live  # the live face
    m: np.ndarray | None  # live grey-crop pixels -> the result's grey crop (None: not registered)
    at: Placement  # the placement the registration puts the face at


@dataclass
class _Cost:
    """What the warp spent this frame before `_show` (the live crop, registration, the GAN's
    crop): this thread's CPU seconds and wall seconds, counted with `_show`'s."""

    cpu: float = 0.0
    wall: float = 0.0

    def add(self, c0: float, w0: float) -> None:
        self.cpu += time.thread_time() - c0
        self.wall += time.perf_counter() - w0

    @staticmethod
    def start() -> tuple[float, float]:
        return time.thread_time(), time.perf_counter()


@dataclass
class _Track:
    p: Placement | None = None
    late: list = field(default_factory=list)  # sync with sync_delay: (frame due, result) not shown yet
    seq: int = 0
    new: _Result | None = None
    old: _Result | None = None  # what the fade starts from (the real face, the first time)
    since: float = 0.0
    seen: float = 0.0
    warp: FlowWarp | None = None
    frames: int = 0
    real_old: bool = False  # the fade starts from the real face
    last: np.ndarray | None = None  # the crop shown last frame (warp on)
    last_at: float = 0.0  # when it was shown
    offset: Offset | None = None  # the last registration relative to the detector's placement


def _process(stylizer, job: _Job) -> np.ndarray:
    out = stylizer(job.crop)
    if job.kind == "face":
        out = match_seam(out, job.crop, stylizer.crop)
    return out


def _process_keep(stylizer, job: _Job) -> tuple[np.ndarray, _Job]:
    """(stylised, the job it was made from): the warp needs both."""
    return _process(stylizer, job), job


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
        # the worker of an anime effect earlier in this run (switched away and back), with its
        # threads and loaded stylizer, is reused; only a store the caller owns (and closes at
        # the end of the run) keeps one
        self._kept = getattr(store, "loaded", None)
        if store is None:
            store = _store(settings)
        model, runtime = settings.anime_model, settings.anime_runtime
        threads = threads or max(STREAMS, default_threads())
        self.warp_on = bool(getattr(settings, "anime_warp", True))
        self._key = ("anime", model, runtime, threads, quantize, str(cache_dir))

        def load():
            return load_stylizer(model, store, threads=threads, quantize=quantize, cache_dir=cache_dir,
                                 runtime=runtime, streams=STREAMS)

        max_rate = getattr(settings, "anime_max_rate", None)
        kept = self._kept.take(self._key) if self._kept is not None else None
        if isinstance(kept, StyleWorker):
            self.worker = kept
            self.worker.reset(max_rate)
        else:
            self.worker = StyleWorker(load, _process_keep, threads=STREAMS, max_rate=max_rate)
        self._tracks: dict[object, _Track] = {}
        # warp: wall ms; warp_cpu: this thread's CPU ms (what the budget of one core counts); both
        # include the live crop, its registration and the GAN's crop
        self.timings: dict[str, list[float]] = {"apply": [], "warp": [], "warp_cpu": []}
        self.last_warp = None  # the newest WarpInfo (tests, the sheet)
        # sync: stylise inside apply (the pipeline sets it when it analyses every frame in step,
        # e.g. file to file, so every frame is stylised and the result does not depend on timing).
        self.sync = False
        # With sync: stylise only every sync_every-th frame of a face and warp in between (the
        # contact sheet and the tests use it to see the warp without depending on timing), and
        # show each result sync_delay frames after the crop it was made from (a slow CPU's GAN
        # takes that long: a result made in 300 ms comes 9 frames late at 30 fps).
        self.sync_every = 1
        self.sync_delay = 0

    # ------------------------------------------------------------------ public

    def bind(self, run) -> None:
        self.sync = run.lockstep

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
        if self._kept is not None and self.worker.ready.is_set() and self.worker.stylizer is not None:
            self.worker.reset()
            self._kept.give(self._key, self.worker)  # the store closes it (threads, model) at the end
            return
        self.worker.close()

    # ------------------------------------------------------------------ faces

    def _apply_faces(self, image, faces, styl, now) -> np.ndarray | None:
        thumb = None
        for face in list(faces)[: self.max_faces]:
            key = face.track_id
            tr = self._tracks.setdefault(key, _Track())
            raw = placement(face.box, face.keypoints, face.roll, styl.crop)
            tr.p = raw if tr.p is None else tr.p.blend(raw, SMOOTH)
            tr.seen = now
            if self.sync and self.sync_every <= 1:
                live = _Live(image, tr.p, styl.size)
                shown, at = _process(styl, _Job(live.crop(), "face")), tr.p
            else:
                # The live crop: where the last frame's registration put the face relative to the
                # detector's box (it moves little from one frame to the next), else at the box.
                start = tr.offset.apply(tr.p) if self.warp_on and tr.offset is not None else tr.p
                live = _Live(image, start, styl.size)
                shown, at = self._face(tr, key, image, live, styl, now)
            if self.pip and thumb is None:
                thumb = live.crop()
            if shown is not None:
                paste(image, shown, at, styl.crop)
        for key in [k for k, t in self._tracks.items() if now - t.seen > FORGET_S]:
            del self._tracks[key]
            self.worker.forget(key)
        return thumb

    def _face(self, tr: _Track, key, image, live: _Live, styl, now: float
              ) -> tuple[np.ndarray | None, Placement]:
        """A face between GAN results: take a new result, give the GAN a crop when it wants one,
        and return (what to show, where): the newest result warped to the live face (warp on)."""
        start = live.at
        if self.sync:
            self._due(tr, now, live)
        else:
            self._collect(tr, key, now, live)
        cost, t = _Cost(), _Cost.start()
        reg = self._registered(tr, live, styl)
        cost.add(*t)
        if self.sync:
            if tr.frames % max(1, self.sync_every) == 0:
                job = self._job(tr, image, reg, styl.size)
                tr.late.append((tr.frames + self.sync_delay, _process_keep(styl, job)))
                if self._due(tr, now, live):  # a result due at once: register on it
                    reg = self._registered(tr, live, styl)
            tr.frames += 1
        elif self.worker.wants():  # a crop only when a GAN thread is free to take it
            t = _Cost.start()
            self.worker.submit(key, self._job(tr, image, reg, styl.size))
            cost.add(*t)
        if tr.new is None:
            return None, start
        if not self.warp_on:
            return self._blend(tr, now), start
        return self._show(tr, now, reg, styl.crop, cost), start

    def _due(self, tr: _Track, now: float, current: _Live) -> bool:
        """In step: take the results due by this frame (made sync_delay frames ago); True if any."""
        took = False
        while tr.late and tr.late[0][0] <= tr.frames:
            self._take(tr, (tr.seq + 1, tr.late.pop(0)[1]), now, current)
            tr.since = now - FADE_S  # in step: no fade
            took = True
        return took

    def _collect(self, tr: _Track, key, now: float, current: _Live) -> None:
        """Take the worker's newest result for this face, if it is new."""
        res = self.worker.result(key)
        if res is not None and res[0] != tr.seq and res[1][0].shape == current.shape:
            self._take(tr, res, now, current)

    def _registered(self, tr: _Track, live: _Live, styl) -> _Reg:
        """The live crop (cut at `start`) registered on the real crop the shown result was made
        from (warp on). The detector's box lags a moving head by a tenth of a face or more; the
        registration says where the face really is, so the anime face goes onto it and the flow
        is left only the mouth and eyes."""
        res, start = tr.new, live.at
        if not self.warp_on or res is None or res.grey is None:
            return _Reg(live, None, start)
        if res.corners is None:
            found = corners(res.grey, styl.crop)
            res.corners = np.empty((0, 1, 2), np.float32) if found is None else found
        if not len(res.corners):  # a face without corners to follow: no registration
            return _Reg(live, None, start)
        now_g = live.grey()
        m = register(res.grey, res.corners, now_g)
        if m is None:
            tr.offset = tr.offset.fade(OFFSET_FADE) if tr.offset is not None else None
            return _Reg(live, None, start)
        at = registered(start, m, now_g.shape[0], styl.size)
        tr.offset = Offset.between(tr.p, at)
        return _Reg(live, m, at)

    def _job(self, tr: _Track, image, reg: _Reg, size: int) -> _Job:
        """What the GAN gets: the crop on the registered face drawn back towards the detector's
        placement by JOB_ANCHOR. Registered crops alone would chain result on result and wander;
        the detector's alone lag a moving head, and the GAN would draw a face cut off at the side.
        With the warp on, its grey copy is cut the way the live face's is, so the two compare."""
        if reg.m is None:
            return _Job(reg.live.crop(), "face", reg.live.grey() if self.warp_on else None)
        at = reg.at.blend(tr.p, JOB_ANCHOR)
        return _Job(crop_face(image, at, size), "face", grey_at(image, at, size))

    def _shown_frame(self, tr: _Track, now: float, current: np.ndarray) -> np.ndarray | None:
        """Whole frame: the newest result, cross-faded from the previous one (no warp)."""
        res = self.worker.result("frame")
        if res is not None and res[0] != tr.seq:
            if res[1][0].shape != current.shape:
                return tr.new.styled if tr.new is not None else None
            self._take(tr, res, now, _Live.of(current))
        return self._blend(tr, now) if tr.new is not None else None

    def _take(self, tr: _Track, res: tuple[int, tuple[np.ndarray, _Job]], now: float, current: _Live) -> None:
        """A new stylised result: it fades in from the previous one (the real face, the first time)."""
        seq, (styled, job) = res
        src = job.crop
        tr.real_old = tr.new is None
        if tr.real_old:
            tr.old = _Result(current.crop())  # fade in over the real face (the live one, when warping)
        elif not self.warp_on or tr.last is None:
            tr.old = _Result(self._blend(tr, now))
        else:  # what was on screen last frame: one warp a frame, also while fading
            tr.old = _Result(tr.last)
        new = _Result(styled)
        if self.warp_on and src.shape == current.shape:
            new.real, new.grey = src, job.grey if job.grey is not None else grey(src)
        # The fade starts from what was shown last, at the time it was shown: a result arriving
        # every frame (a fast GAN) still fades in rather than restarting the fade at 0 each time.
        since = tr.last_at if (self.warp_on and not tr.real_old and tr.last is not None) else now
        tr.new, tr.seq, tr.since = new, seq, since

    def _show(self, tr: _Track, now: float, reg: _Reg, crop_kind: str, cost: _Cost) -> np.ndarray:
        """The newest result warped to the face now (fading in over what was shown last); `cost`:
        what the live crop and registration took this frame, counted with the warp."""
        t0, c0 = time.perf_counter(), time.thread_time()
        if tr.warp is None:
            tr.warp = FlowWarp(crop_kind)
        live = reg.live
        new = self._warped(tr, tr.new, live, reg.m)
        a = (now - tr.since) / WARP_FADE_S
        if a < 1.0 and tr.old is not None and tr.old.styled.shape == new.shape:
            old = live.crop() if tr.real_old else tr.old.styled
            new = cv2.addWeighted(new, a, old, 1.0 - a, 0.0)
        tr.last, tr.last_at = new, now
        self._note("warp", t0 - cost.wall)
        self._note("warp_cpu", c0 - cost.cpu, time.thread_time())
        return new

    def _warped(self, tr: _Track, res: _Result, live: _Live, m: np.ndarray | None = None) -> np.ndarray:
        if res.real is None or live.cut(res.real):
            return res.styled
        out, self.last_warp = tr.warp.warp(res.styled, res.grey, live.grey(), live.box, m)
        return out

    @staticmethod
    def _blend(tr: _Track, now: float) -> np.ndarray:
        a = (now - tr.since) / FADE_S
        new, old = tr.new.styled, tr.old.styled if tr.old is not None else None
        if a >= 1.0 or old is None or old.shape != new.shape:
            return new
        return cv2.addWeighted(new, a, old, 1.0 - a, 0.0)

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
            shown = self._shown_frame(tr, now, small)
        if shown is not None:
            cv2.resize(shown, (w, h), dst=image, interpolation=cv2.INTER_LINEAR)

    def _pip_crop(self, image, faces, styl) -> np.ndarray | None:
        if not faces:
            return None
        f = faces[0]
        return crop_face(image, placement(f.box, f.keypoints, f.roll, "loose"), 160)

    def _note(self, stage: str, t0: float, t1: float | None = None) -> None:
        xs = self.timings[stage]
        xs.append(((time.perf_counter() if t1 is None else t1) - t0) * 1000)
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
