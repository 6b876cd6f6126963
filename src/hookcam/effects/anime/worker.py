"""The stylisation thread: takes the newest crop per face, never makes the caller wait.

Like backscrub's CalcMask loop: `submit` replaces the pending job for a key (so the worker
always starts on the newest crop), `result` returns the latest finished output.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class StyleWorker:
    def __init__(self, load: Callable[[], Any], process: Callable[[Any, Any], Any], name: str = "anime"):
        self._load = load
        self._process = process
        self._cv = threading.Condition()
        self._jobs: dict[Hashable, Any] = {}
        self._results: dict[Hashable, tuple[int, Any]] = {}
        self._last_done: dict[Hashable, float] = {}
        self._stop = False
        self.stylizer: Any = None
        self.ready = threading.Event()
        self.count = 0  # finished stylisations
        self.times_ms: list[float] = []  # per stylisation (kept short)
        self._thread = threading.Thread(target=self._run, name=f"{name}-worker", daemon=True)
        self._thread.start()

    def submit(self, key: Hashable, job: Any) -> None:
        with self._cv:
            self._jobs[key] = job
            self._cv.notify()

    def result(self, key: Hashable) -> tuple[int, Any] | None:
        return self._results.get(key)

    def forget(self, key: Hashable) -> None:
        with self._cv:
            self._jobs.pop(key, None)
            self._results.pop(key, None)
            self._last_done.pop(key, None)

    def wait_result(self, key: Hashable, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if key in self._results:
                return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        self.stylizer = self._load()
        self.ready.set()
        seq = 0
        while True:
            with self._cv:
                while not self._jobs and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                # Round robin between faces: the one stylised longest ago goes first.
                key = min(self._jobs, key=lambda k: self._last_done.get(k, 0.0))
                job = self._jobs.pop(key)
            t0 = time.perf_counter()
            try:
                out = self._process(self.stylizer, job)
            except Exception:  # noqa: BLE001 - a bad frame must not kill the worker
                continue
            dt = (time.perf_counter() - t0) * 1000
            seq += 1
            with self._cv:
                if self._stop:
                    return
                self._results[key] = (seq, out)
                self._last_done[key] = time.monotonic()
                self.count += 1
                self.times_ms.append(dt)
                if len(self.times_ms) > 2000:
                    del self.times_ms[:1000]

    def close(self, timeout: float = 15.0) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(timeout)
