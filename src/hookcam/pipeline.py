"""The pipeline: source -> faces/analysis -> effect -> sinks, in three threads.

- capture thread: reads the source (pacing a file to its frame rate when asked) and hands
  over the newest frame; it never waits for analysis.
- analysis thread: takes the newest frame it has not seen, detects/tracks/classifies faces.
- output loop (the caller's thread): for every captured frame, waits at most half a frame
  period for that frame's analysis, draws the newest analysis (boxes extrapolated to that
  frame's time) and sends it to every sink. While a camera is
  lost it keeps the frame rate with a "camera lost" frame.

Unpaced file input ("as fast as possible", e.g. file to file) runs analysis in lockstep
instead, so every frame gets its own analysis and the result does not depend on timing.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Sequence

import cv2

from hookcam.analysis.analyzer import Analyzer
from hookcam.effects import Effect, make_effect
from hookcam.effects.base import RunInfo
from hookcam.effects.overlay import draw_stats
from hookcam.errors import HookcamError, SourceError, SourceLost
from hookcam.settings import Settings, make_settings
from hookcam.sinks.base import Sink
from hookcam.sources.base import Source
from hookcam.sources.lost import camera_lost_frame
from hookcam.stages import FrameStage, make_stages, rebuild
from hookcam.stats import Stats
from hookcam.types import Frame

EOS = object()  # end of stream marker


class Handoff:
    """A hand-over point between two threads: keeps only the newest item (counting drops), or,
    with `keep_all`, a short queue that blocks the producer instead of dropping."""

    def __init__(self, keep_all: bool = False, maxsize: int = 4):
        self.keep_all, self.maxsize = keep_all, maxsize
        self._items: collections.deque = collections.deque()
        self._cv = threading.Condition()
        self._closed = False
        self.dropped = 0

    def put(self, item) -> None:
        with self._cv:
            if self.keep_all:
                while len(self._items) >= self.maxsize and not self._closed:
                    self._cv.wait(0.1)
            elif self._items and self._items[-1] is not EOS:
                self._items.clear()
                self.dropped += 1
            self._items.append(item)
            self._cv.notify_all()

    def get(self, timeout: float):
        with self._cv:
            if not self._items:
                self._cv.wait(timeout)
            if not self._items:
                return None
            item = self._items.popleft()
            self._cv.notify_all()
            return item

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()


def analysis_rate(effect: Effect) -> float | None:
    """The most analyses a second the effect wants live (its `analysis_hz`), None: every frame."""
    return getattr(effect, "analysis_hz", None)


def _needs(effect: Effect, stages: Sequence[FrameStage]) -> frozenset[str]:
    """What the analysis stage must compute for the effect and the frame stages (framing
    follows faces even when the effect draws nothing on them)."""
    out = frozenset(effect.needs)
    for stage in stages:
        out |= getattr(stage, "needs", frozenset())
    return out


class Pipeline:
    def __init__(self, settings: Settings, source: Source, sinks: Sequence[Sink], *,
                 effect: Effect | None = None, analyzer: Analyzer | None = None,
                 stats: Stats | None = None, store=None, log=None, lockstep: bool | None = None,
                 stages: Sequence[FrameStage] | None = None):
        self.settings = settings
        self.source = source
        self.sinks = list(sinks)
        self.store = store
        self.log = log or (lambda msg: print(f"hookcam: {msg}", file=sys.stderr))
        self.stats = stats or Stats()
        self.effect = effect or make_effect(settings, store)
        # Background, then framing: between analysis and the face effects (see stages.py).
        self.stages = list(make_stages(settings, self.log, self.stats) if stages is None else stages)
        self._pending_stages: tuple[list, list] | None = None
        self._custom_background = settings.background if settings.background not in ("none", "blur") else None
        self.analyzer = analyzer or Analyzer(
            _needs(self.effect, self.stages), threshold=settings.detect_threshold, max_faces=settings.max_faces,
            smile_on=settings.smile_on, smile_off=settings.smile_off, store=store)
        info = source.info
        self.fps = settings.fps if (settings.fps and not info.live) else info.fps
        live_out = any(getattr(s, "live", False) for s in self.sinks)
        self.paced = settings.paced(live_out)
        # Unpaced file input: analyse every frame in step (deterministic). `lockstep=False`
        # keeps analysis asynchronous but still outputs every frame (what `bench` measures).
        self.lockstep = (not self.paced and not info.live) if lockstep is None else lockstep
        # A file never needs to drop frames (if the output falls behind, reading waits);
        # a camera does: the output always shows its newest frame.
        self._frames = Handoff(keep_all=not info.live)
        self._bind(self.effect)
        self._pace_analysis(self.effect)
        for stage in self.stages:
            self._bind(stage)
        self._to_analyse = Handoff()
        self._stop = threading.Event()
        self._lost_since: float | None = None
        self._idle = threading.Event()  # no app is watching: camera released, still frames
        self._source_open = True
        self._changes_lock = threading.Lock()
        self._pending_effect: Effect | None = None
        self.last_faces: list = []
        self.last_image = None  # newest output frame (BGR), for previews
        self.on_frame = None  # optional callback(image) after each output frame
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None

    # ---------------------------------------------------------------- control
    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def set_idle(self, idle: bool) -> None:
        """Idle: release the camera and send the last frame at a low rate until unset (then the
        camera is reopened on the capture thread)."""
        if idle and not self._idle.is_set():
            self.log("no app is reading the virtual camera: releasing the camera")
            self._idle.set()
        elif not idle and self._idle.is_set():
            self.log("an app opened the virtual camera: resuming")
            self._idle.clear()

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def update(self, **changes) -> Settings:
        """Apply validated setting changes on the next frame. Raises HookcamError (nothing applied)."""
        dropped = None
        with self._changes_lock:
            merged = {**self.settings.model_dump(), **changes}
            new = make_settings(**merged)
            new_effect = None
            if (new.effect, new.stickers, new.label) != (self.settings.effect, self.settings.stickers,
                                                          self.settings.label) or (
                new.effect == "anime" and (new.anime_model, new.anime_scope, new.pip, new.anime_warp,
                                           new.anime_max_rate)
                != (self.settings.anime_model, self.settings.anime_scope, self.settings.pip,
                    self.settings.anime_warp, self.settings.anime_max_rate)
            ):
                new_effect = make_effect(new, self.store)
            old_settings = self.settings
            pending = self._pending_stages[0] if self._pending_stages else self.stages
            staged = rebuild(pending, old_settings, new, self.log, self.stats)
            self.settings = new
            if staged[0] != list(pending):
                retired = staged[1] + (self._pending_stages[1] if self._pending_stages else [])
                self._pending_stages = (staged[0], retired)
            self.analyzer.set_smile_thresholds(new.smile_on, new.smile_off)
            if new_effect is not None:
                # two changes before the next frame: the first effect never runs, but is closed
                dropped, self._pending_effect = self._pending_effect, new_effect
            effect = self._pending_effect or self.effect
            stages = self._pending_stages[0] if self._pending_stages else self.stages
            self.analyzer.set_needs(_needs(effect, stages))
        if dropped is not None:
            dropped.close()
        return new

    def handle_key(self, key: str) -> None:
        """Hotkeys in the preview window."""
        effects = {"1": "none", "2": "smile", "3": "emotion", "4": "anime"}
        key = key if key == "\x1b" else key.lower()
        try:
            if key in effects:
                self.update(effect=effects[key])
            elif key == "m":
                self.update(mirror=not self.settings.mirror)
            elif key == "f":
                self.update(show_fps=not self.settings.show_fps)
            elif key == "b":
                self.update(background=self._next_background())
            elif key == "z":
                self.update(framing="off" if self.settings.framing == "auto" else "auto")
            elif key in ("q", "\x1b"):
                self.stop()
            elif key in ("h", "?"):
                self.log("keys in the preview window: 1 none, 2 smile, 3 emotion, 4 anime, "
                         "m mirror, f fps, b background, z framing, h help, q quit")
        except HookcamError as e:
            self.log(str(e))

    # ---------------------------------------------------------------- threads
    def _capture_loop(self) -> None:
        info = self.source.info
        period = 1.0 / self.fps
        due = time.monotonic()
        index = 0
        try:
            while not self._stop.is_set():
                if self._idle.is_set() and info.live:
                    self._sleep_idle()
                    due = time.monotonic()
                    continue
                t0 = time.perf_counter()
                try:
                    img = self.source.read()
                except SourceLost as e:
                    self._reconnect(str(e))
                    due = time.monotonic()
                    continue
                if img is None:
                    break
                if self.settings.mirror:
                    img = cv2.flip(img, 1)
                self.stats.add("capture", time.perf_counter() - t0)
                if self.paced and not info.live:
                    due += period
                    delay = due - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                    elif delay < -period:
                        due = time.monotonic()
                self._frames.put(Frame(img, index, time.monotonic()))
                self.stats.frames_in += 1
                index += 1
        except BaseException as e:  # surface decoder errors etc. in the output loop
            self.error = e
        finally:
            self._frames.put(EOS)

    def _sleep_idle(self) -> None:
        """Camera released (its light goes off) until someone watches again."""
        self.source.close()
        while self._idle.is_set() and not self._stop.is_set():
            self._stop.wait(0.05)
        while not self._stop.is_set():
            try:
                self.source.reopen()
                return
            except (SourceError, SourceLost) as e:
                self._reconnect(str(e))
                return

    def _reconnect(self, why: str) -> None:
        self._lost_since = time.monotonic()
        self.log(f"{why}; showing a 'camera lost' frame and retrying every second")
        while not self._stop.is_set():
            self._stop.wait(1.0)
            try:
                self.source.reopen()
            except (SourceError, SourceLost):
                continue
            self.log("camera is back")
            break
        self._lost_since = None

    def _analysis_loop(self) -> None:
        next_at = 0.0
        while not self._stop.is_set():
            hz = analysis_rate(self.effect)
            if hz and (wait := next_at - time.monotonic()) > 0:
                self._stop.wait(wait)  # leave the CPU to the effect's worker (anime)
            frame = self._to_analyse.get(0.2)
            if frame is None or frame is EOS:
                continue
            next_at = time.monotonic() + 1.0 / hz if hz else 0.0
            self._analyse(frame)

    def _analyse(self, frame: Frame) -> None:
        try:
            self.analyzer.process(frame.image, frame.time)
        except HookcamError as e:
            self.error = e
            self.stop()
            return
        t = self.analyzer.timings
        self.stats.add("detect", t["detect"])
        self.stats.add("analyse", t["analyse"])
        self.stats.add("analysis", t["detect"] + t["analyse"])  # one whole analysis of a frame

    # ---------------------------------------------------------------- output
    def run(self) -> Stats:
        self._threads = [threading.Thread(target=self._capture_loop, name="capture", daemon=True)]
        if not self.lockstep:
            self._threads.append(threading.Thread(target=self._analysis_loop, name="analysis", daemon=True))
        for th in self._threads:
            th.start()
        ok = False
        try:
            self._output_loop()
            ok = True
        except KeyboardInterrupt:  # a second Ctrl-C: still a stop, not a failure
            ok = True
            raise
        finally:
            self._stop.set()
            self._frames.close()
            for th in self._threads:
                th.join(timeout=5)
            self._close_all(failed=not ok or self.error is not None)
        if self.error is not None:
            raise self.error
        return self.stats

    def _output_loop(self) -> None:
        info = self.source.info
        last = None
        while not self._stop.is_set():
            lost = self._lost_since is not None
            if self._idle.is_set() and info.live and last is not None:
                # Nobody watches: a still frame at a low rate keeps the device alive, cheaply.
                self._stop.wait(0.5)
                for sink in self.sinks:
                    sink.send(self.last_image if self.last_image is not None else last)
                continue
            item = self._frames.get(timeout=(1.0 if lost else 1.5) / self.fps)
            if item is EOS:
                break
            if item is None:
                if self._lost_since is None:
                    continue
                size = (last.shape[1], last.shape[0]) if last is not None else (info.width, info.height)
                img = camera_lost_frame(*size, last, time.monotonic() - self._lost_since)
                frame = Frame(img, -1, time.monotonic(), lost=True)
            else:
                frame = item
                last = frame.image
            self._swap_effect()
            self._swap_stages()
            if not frame.lost:
                if self.lockstep:
                    self._analyse(frame)
                else:
                    self._to_analyse.put(frame)
                    if self.analyzer.active and not analysis_rate(self.effect):
                        # up to half a frame period for this frame's own analysis (about 10 ms
                        # for smile/emotion): the sticker follows the face without a frame's lag
                        self.analyzer.wait_for(frame.time, 0.5 / self.fps)
                faces = self.analyzer.faces_at(frame.time)
            else:
                faces = []
            out = frame.image
            if not frame.lost:
                for stage in self.stages:  # background, then framing: faces come out mapped
                    ts = time.perf_counter()
                    out, faces = stage.process(out, faces)
                    self.stats.add(stage.name, time.perf_counter() - ts)
            t0 = time.perf_counter()
            if not frame.lost:
                out = self.effect.apply(out.copy() if out is frame.image else out, faces)
            if self.settings.show_fps:
                draw_stats(out, self.stats.overlay_lines())
            self.stats.add("draw", time.perf_counter() - t0)
            t1 = time.perf_counter()
            for sink in self.sinks:
                sink.send(out)
            self.stats.add("send", time.perf_counter() - t1)
            self.stats.add("latency", time.monotonic() - frame.time)
            self.stats.frame_out(frame.lost)
            self.stats.dropped = self._frames.dropped
            self.last_faces, self.last_image = faces, out
            if self.on_frame is not None:
                self.on_frame(out)
            if self.settings.max_frames and self.stats.frames_out >= self.settings.max_frames:
                break

    def _swap_effect(self) -> None:
        if self._pending_effect is not None:
            with self._changes_lock:
                old, self.effect, self._pending_effect = self.effect, self._pending_effect, None
            self._bind(self.effect)
            self._pace_analysis(self.effect)
            old.close()

    def _next_background(self) -> str:
        """The `b` key: none -> blur -> the file/colour from the command line (if any) -> none."""
        cycle = ["none", "blur"] + ([self._custom_background] if self._custom_background else [])
        current = self.settings.background
        return cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else "none"

    def _swap_stages(self) -> None:
        if self._pending_stages is not None:
            with self._changes_lock:
                (self.stages, retired), self._pending_stages = self._pending_stages, None
            for stage in self.stages:
                self._bind(stage)
            for stage in retired:
                if stage not in self.stages:
                    stage.close()

    def _pace_analysis(self, effect) -> None:
        """When every frame is analysed: about 7.5 scans for new faces a second, and tracked
        faces looked at every other frame (the tracker's prediction in between). When the effect
        asks for fewer analyses (anime at 15 Hz, its GAN needs the CPU): 5 scans a second, and
        tracked faces looked at on every analysed frame (its crop must follow the head)."""
        hz = analysis_rate(effect)
        rate = min(self.fps, hz) if hz else self.fps
        self.analyzer.scan_every = max(1, round(rate / (5.0 if hz else 7.5)))
        self.analyzer.refine_every = 1 if hz else 2

    def _bind(self, stage) -> None:
        """Tell a stage or effect that has a `bind` what the run is (effects/base.py RunInfo)."""
        bind = getattr(stage, "bind", None)
        if bind is not None:
            bind(RunInfo(lockstep=self.lockstep, fps=self.fps, stats=self.stats))

    def _close_all(self, failed: bool = False) -> None:
        errors = []
        # A failed run aborts file sinks: an output file that existed before is left as it was.
        ends = [getattr(s, "abort", s.close) if failed else s.close for s in self.sinks]
        stages = self.stages + (self._pending_stages[0] if self._pending_stages else [])
        # the store's models kept across effect switches go with the pipeline that switched them
        kept = [self.store.close] if hasattr(self.store, "close") else []
        # an effect switched to just before the stop never ran, but it has a worker to end
        pending = [self._pending_effect.close] if self._pending_effect is not None else []
        for closer in ([self.source.close, self.effect.close] + pending + [self.analyzer.close] + kept
                       + [s.close for s in stages] + ends):
            try:
                closer()
            except Exception as e:  # close everything we can; report the first problem
                errors.append(e)
        if errors and self.error is None:
            self.error = errors[0]
