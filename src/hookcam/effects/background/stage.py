"""The background stage: segmentation in its own thread, composite on every output frame.

Like backscrub's CalcMask loop: the output thread hands over a quarter-size copy of each frame
and never waits; the worker segments the newest one, smooths the mask over time and fits the
guided-filter coefficients. Each output frame takes the newest coefficients, moves them with
the person when they were made for an older frame, refines them at full resolution and blends
the frame over the backdrop. Until the first mask exists, only the backdrop is shown (the room
is never shown unblurred by accident).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import cv2
import numpy as np

from hookcam.effects.background.fill import Blur, open_backdrop
from hookcam.effects.background.mask import Buffers, Mover, Refiner, Steady, blend
from hookcam.effects.background.segment import Segmenter
from hookcam.errors import HookcamError
from hookcam.types import Face

QUARTER = 4  # the worker and the blur see the frame at 1/4 of its size
# INTER_LINEAR at 1/4 reads 2x2 of every 4x4 pixels: 6x cheaper than INTER_AREA at 720p, and
# the segmentation and the blur after it do not see the difference (lp_d0 IoU unchanged).
QUARTER_INTERP = cv2.INTER_LINEAR
MAX_HZ = 15.0  # segmentations per second at most; between them the mask is moved with the person
TINY_W = 160  # width of the grey frames the optical flow compares


class _Result:
    def __init__(self, seq: int, a: np.ndarray, b: np.ndarray, tiny: np.ndarray):
        self.seq, self.a, self.b, self.tiny = seq, a, b, tiny


class BackgroundStage:
    """`process(image, faces)` -> (composited image, faces). `sync = True` segments inline
    (file to file: every frame gets its own mask)."""

    name = "background"
    needs: frozenset[str] = frozenset()  # no face detection needed for the background

    def __init__(self, spec: str, strength: float = 12.0, model: str = "landscape", stats=None):
        self.spec, self.model = spec, model
        self.backdrop = open_backdrop(spec, strength)  # raises HookcamError for a bad file/colour
        self.stats = stats
        self.sync = False
        self.refiner = Refiner()
        self.steady = Steady()
        self.mover = Mover()
        self._bufs = Buffers()  # output-thread scratch arrays
        self._inline: Segmenter | None = None
        self._cv = threading.Condition()
        self._job: tuple[int, np.ndarray] | None = None
        self._result: _Result | None = None
        self._seq = 0
        self._stop = False
        self.count = 0
        self.max_hz = MAX_HZ
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="background-worker", daemon=True)
        self._thread.start()

    def bind(self, run) -> None:
        self.sync = run.lockstep
        if self.stats is None:
            self.stats = run.stats  # the worker's segment times go with the pipeline's

    # ------------------------------------------------------------------ worker
    def _run(self) -> None:
        seg = None
        try:
            seg = Segmenter(self.model)
            while True:
                with self._cv:
                    while self._job is None and not self._stop:
                        self._cv.wait()
                    if self._stop:
                        return
                    seq, quarter = self._job
                    self._job = None
                started = time.monotonic()
                result = self._segment(seg, seq, quarter)
                with self._cv:
                    if self._result is None or self._result.seq < seq:
                        self._result = result
                    self._cv.notify_all()
                    # Leave the CPU to the call until the next segmentation is due (new frames
                    # notify this condition too: only close() ends the wait early).
                    while not self._stop and (rest := started + 1.0 / self.max_hz - time.monotonic()) > 0:
                        self._cv.wait(rest)
        except Exception as e:  # noqa: BLE001 - reported by process(), as one line
            self.error = HookcamError(f"person segmentation stopped ({type(e).__name__}: {e}); "
                                      "run `hookcam doctor`, or leave --background out")
        finally:
            if seg is not None:
                seg.close()

    def _segment(self, seg: Segmenter, seq: int, quarter: np.ndarray) -> _Result:
        t0 = time.perf_counter()
        h, w = quarter.shape[:2]
        mw = 256
        mh = max(16, round(mw * h / w))
        small = cv2.resize(quarter, (mw, mh), interpolation=cv2.INTER_AREA)
        raw = seg.mask(small)
        raw = cv2.resize(raw, (w, h), interpolation=cv2.INTER_LINEAR)
        raw = self.steady(raw)
        grey = cv2.cvtColor(quarter, cv2.COLOR_BGR2GRAY)
        a, b = self.refiner.coefficients(grey, raw)
        tiny = _tiny(grey)
        self.count += 1
        if self.stats is not None:
            self.stats.add("segment", time.perf_counter() - t0)
        return _Result(seq, a, b, tiny)

    # ------------------------------------------------------------------ output side
    def process(self, image: np.ndarray, faces: Sequence[Face]) -> tuple[np.ndarray, Sequence[Face]]:
        if self.error is not None:
            raise self.error
        h, w = image.shape[:2]
        quarter = cv2.resize(image, (max(1, w // QUARTER), max(1, h // QUARTER)), interpolation=QUARTER_INTERP)
        self._seq += 1
        if self.sync:
            try:
                if self._inline is None:
                    self._inline = Segmenter(self.model)
                result = self._segment(self._inline, self._seq, quarter)
            except Exception as e:  # noqa: BLE001 - one line, as from the worker
                raise HookcamError(f"person segmentation failed ({type(e).__name__}: {e}); "
                                   "run `hookcam doctor`, or leave --background out") from None
        else:
            with self._cv:
                self._job = (self._seq, quarter)
                self._cv.notify_all()
                result = self._result
        back_is_new = isinstance(self.backdrop, Blur)  # the others hand out a cached picture
        if back_is_new:
            back = self.backdrop.frame(image, quarter)
        else:
            back = self.backdrop.frame(image)
        if result is None:
            return back.copy(), faces
        a, b = result.a, result.b
        if result.seq != self._seq:  # the mask is older than this frame: move it with the person
            now = _tiny(cv2.cvtColor(quarter, cv2.COLOR_BGR2GRAY))
            if now.shape == result.tiny.shape:
                a, b = self.mover.move([a, b], result.tiny, now)
        out = back if back_is_new else back.copy()
        box = _person_box(a, b, quarter, w, h)
        if box is None:  # nobody in the picture
            return out, faces
        x0, y0, x1, y1, (sx0, sy0, sx1, sy1) = box
        # Refine and blend only inside the box around the person (outside it alpha is 0): the
        # full-resolution work shrinks with the share of the frame the person covers.
        front = image[y0:y1, x0:x1]
        grey = cv2.cvtColor(front, cv2.COLOR_BGR2GRAY, dst=self._bufs.get("grey", y1 - y0, x1 - x0, np.uint8))
        alpha = Refiner.alpha(a[sy0:sy1, sx0:sx1], b[sy0:sy1, sx0:sx1], grey, self._bufs)
        region = out[y0:y1, x0:x1]
        blend(front, region, alpha, self._bufs, dst=region)
        return out, faces

    def set_strength(self, strength: float) -> None:
        """A new blur strength, from the next frame on (the mask and worker stay)."""
        if isinstance(self.backdrop, Blur):
            self.backdrop.strength = strength

    def alpha(self, image: np.ndarray) -> np.ndarray:
        """The composite mask for one image in [0, 1], computed inline (tests and tools)."""
        if self._inline is None:
            self._inline = Segmenter(self.model)
        h, w = image.shape[:2]
        quarter = cv2.resize(image, (max(1, w // QUARTER), max(1, h // QUARTER)), interpolation=QUARTER_INTERP)
        r = self._segment(self._inline, 0, quarter)
        return Refiner.alpha(r.a, r.b, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)).astype(np.float32) / 255

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Block until the worker produced its first mask (bench, tests)."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._result is None and self.error is None and time.monotonic() < end:
                self._cv.wait(0.05)
            return self._result is not None

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(5)
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        close = getattr(self.backdrop, "close", None)
        if close is not None:
            close()


def _person_box(a: np.ndarray, b: np.ndarray, quarter: np.ndarray, w: int, h: int, margin: int = 2):
    """Where alpha can be above 0: judged at the coefficients' (quarter) size, grown by `margin`
    quarter pixels. -> (x0, y0, x1, y1) in frame pixels on the quarter grid, and the same box in
    quarter pixels; None when alpha is 0 everywhere."""
    qh, qw = a.shape[:2]
    grey = cv2.cvtColor(quarter, cv2.COLOR_BGR2GRAY)
    if grey.shape != a.shape:
        grey = cv2.resize(grey, (qw, qh), interpolation=cv2.INTER_LINEAR)
    some = cv2.multiply(a, grey, dtype=cv2.CV_32F) + b > 0
    cols, rows = np.flatnonzero(some.any(axis=0)), np.flatnonzero(some.any(axis=1))
    if cols.size == 0:
        return None
    sx0, sx1 = max(0, cols[0] - margin), min(qw, cols[-1] + 1 + margin)
    sy0, sy1 = max(0, rows[0] - margin), min(qh, rows[-1] + 1 + margin)
    fx, fy = w / qw, h / qh
    x0, x1 = round(sx0 * fx), w if sx1 == qw else round(sx1 * fx)
    y0, y1 = round(sy0 * fy), h if sy1 == qh else round(sy1 * fy)
    return x0, y0, x1, y1, (sx0, sy0, sx1, sy1)


def _tiny(grey_quarter: np.ndarray) -> np.ndarray:
    h, w = grey_quarter.shape[:2]
    return cv2.resize(grey_quarter, (TINY_W, max(8, round(TINY_W * h / w))), interpolation=cv2.INTER_AREA)
