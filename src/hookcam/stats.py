"""Per-stage timings and the real output frame rate."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

STAGES = ("capture", "detect", "analyse", "analysis", "draw", "send", "latency")


class Stats:
    """Thread-safe rolling samples (the last `window` of each stage) plus totals for the run."""

    def __init__(self, window: int = 600):
        self._lock = threading.Lock()
        self.samples: dict[str, deque] = {s: deque(maxlen=window) for s in STAGES}
        self._out_times: deque = deque(maxlen=120)
        self.frames_out = 0
        self.frames_in = 0
        self.dropped = 0
        self.lost_frames = 0
        self.started = time.monotonic()
        self.first_out: float | None = None
        self.last_out: float | None = None

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.samples.setdefault(stage, deque(maxlen=600)).append(seconds)

    def frame_out(self, lost: bool = False) -> None:
        with self._lock:
            self.frames_out += 1
            self.lost_frames += lost
            now = time.monotonic()
            self._out_times.append(now)
            if self.first_out is None:
                self.first_out = now
            self.last_out = now

    def fps(self) -> float:
        """Output frames per second over the last ~4 seconds."""
        with self._lock:
            times = list(self._out_times)
        now = time.monotonic()
        recent = [t for t in times if now - t <= 4.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0]) if recent[-1] > recent[0] else 0.0

    def average_fps(self) -> float:
        """Output frames per second from the first frame out to the last (start-up excluded)."""
        if self.frames_out < 2 or self.first_out is None or self.last_out <= self.first_out:
            return 0.0
        return (self.frames_out - 1) / (self.last_out - self.first_out)

    def summary(self) -> dict[str, dict[str, float]]:
        """{stage: {"median_ms", "p95_ms", "n"}} for the stages that have samples."""
        with self._lock:
            data = {k: np.array(v) for k, v in self.samples.items() if v}
        return {
            k: {"median_ms": float(np.median(v) * 1000), "p95_ms": float(np.percentile(v, 95) * 1000),
                "n": int(v.size)}
            for k, v in data.items()
        }

    def overlay_lines(self) -> list[str]:
        """The on-screen figures, recomputed at most twice a second (not on every frame)."""
        now = time.monotonic()
        cached = getattr(self, "_overlay", None)
        if cached is not None and now - cached[0] < 0.5:
            return cached[1]
        lines = self._overlay_lines()
        self._overlay = (now, lines)
        return lines

    def _overlay_lines(self) -> list[str]:
        s = self.summary()
        parts = [f"{k} {s[k]['median_ms']:.1f}" for k in ("detect", "analyse", "draw", "send") if k in s]
        return [f"{self.fps():.1f} fps  dropped {self.dropped}", "ms: " + "  ".join(parts)]

    def report(self) -> str:
        s = self.summary()
        lines = [f"hookcam: {self.frames_out} frames out in {time.monotonic() - self.started:.1f} s "
                 f"({self.average_fps():.1f} fps once running), dropped {self.dropped}"
                 + (f", {self.lost_frames} 'camera lost' frames" if self.lost_frames else "")]
        for k in [*STAGES, *sorted(set(s) - set(STAGES))]:  # + background, framing, segment
            if k in s:
                lines.append(f"  {k:<8} median {s[k]['median_ms']:6.1f} ms   p95 {s[k]['p95_ms']:6.1f} ms")
        return "\n".join(lines)
