"""The stylisation threads: take the newest crop per face, never make the caller wait.

Like backscrub's CalcMask loop: `submit` replaces the pending job for a key (so a thread
always starts on the newest crop), `result` returns the newest finished output. With more
than one thread (`threads`), stylisations overlap: thread 1 works on frame n while thread 2
starts on frame n+1; a result only replaces one made from an older frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from hookcam.priority import yield_cpu


class StyleWorker:
    def __init__(self, load: Callable[[], Any], process: Callable[[Any, Any], Any], name: str = "anime",
                 threads: int = 1, max_rate: float | None = None):
        self._load = load
        # At most max_rate stylisations started per second (None: as fast as the threads go).
        self._period = 1.0 / max_rate if max_rate else 0.0
        self._next_start = 0.0
        self._process = process
        self._cv = threading.Condition()
        self._jobs: dict[Hashable, tuple[int, Any]] = {}
        self._results: dict[Hashable, tuple[int, Any]] = {}
        self._last_start: dict[Hashable, float] = {}
        self._submitted = 0
        self._epoch = 0  # bumped by reset(): a result from before it is dropped
        self._free = 0  # threads in the job loop, free to take a job now
        self._stop = False
        self.stylizer: Any = None
        self.ready = threading.Event()
        self.count = 0  # finished stylisations
        self.times_ms: list[float] = []  # per stylisation (kept short)
        self._threads = [threading.Thread(target=self._run, args=(i,), name=f"{name}-worker-{i}", daemon=True)
                         for i in range(max(1, threads))]
        for th in self._threads:
            th.start()

    def submit(self, key: Hashable, job: Any) -> int:
        """Queue `job` for `key` (replacing a pending one); returns its sequence number."""
        with self._cv:
            self._submitted += 1
            self._jobs[key] = (self._submitted, job)
            self._cv.notify()
            return self._submitted

    def wants(self) -> bool:
        """Whether a job submitted now would start at once (a thread is free): the caller need
        not cut a crop every frame that would only be replaced by the next one."""
        return self._free > 0 or not self.ready.is_set()

    def result(self, key: Hashable) -> tuple[int, Any] | None:
        """(sequence number of the job it was made from, output), or None."""
        return self._results.get(key)

    def forget(self, key: Hashable) -> None:
        with self._cv:
            self._jobs.pop(key, None)
            self._results.pop(key, None)
            self._last_start.pop(key, None)

    def reset(self, max_rate: float | None = None) -> None:
        """Drop every pending job and result, and set the rate: a worker kept across an effect
        switch (its threads idle, its model loaded) starts clean for the next effect."""
        with self._cv:
            self._epoch += 1
            self._jobs.clear()
            self._results.clear()
            self._last_start.clear()
            self._period = 1.0 / max_rate if max_rate else 0.0
            self._next_start = 0.0

    def wait_result(self, key: Hashable, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if key in self._results:
                return True
            time.sleep(0.01)
        return False

    def _run(self, index: int) -> None:
        yield_cpu()  # the GAN gets what capture, analysis and output leave (see hookcam.priority)
        if index == 0:
            try:
                self.stylizer = self._load()
            finally:
                self.ready.set()
        else:
            self.ready.wait()
        while True:
            with self._cv:
                self._free += 1
                while not self._jobs and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                if self._period and (wait := self._next_start - time.monotonic()) > 0:
                    self._cv.wait(wait)  # then take the newest crop
                    self._free -= 1
                    continue
                self._free -= 1
                self._next_start = time.monotonic() + self._period
                # Round robin between faces: the one started longest ago goes first.
                key = min(self._jobs, key=lambda k: self._last_start.get(k, 0.0))
                seq, job = self._jobs.pop(key)
                self._last_start[key] = time.monotonic()
                epoch = self._epoch
            t0 = time.perf_counter()
            try:
                out = self._process(self.stylizer, job)
            except Exception:  # noqa: BLE001 - a bad frame must not kill the worker
                continue
            dt = (time.perf_counter() - t0) * 1000
            with self._cv:
                if self._stop:
                    return
                if epoch != self._epoch:  # made for the effect before a reset
                    continue
                old = self._results.get(key)
                if old is None or old[0] < seq:
                    self._results[key] = (seq, out)
                self.count += 1
                self.times_ms.append(dt)
                if len(self.times_ms) > 2000:
                    del self.times_ms[:1000]

    def close(self, timeout: float = 15.0) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        end = time.monotonic() + timeout
        for th in self._threads:
            th.join(max(0.0, end - time.monotonic()))
        if hasattr(self.stylizer, "close"):  # what it loaded goes with it
            self.stylizer.close()
