"""A live output that fails mid-run (virtual camera device removed, busy, failing writes) is
reported once, in one line, and reopened every second, while the other outputs and the control
page keep going; when it opens again, frames flow to it again. Wraps any live Sink."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hookcam.sinks.base import Sink

if TYPE_CHECKING:
    import numpy as np


class RetryingSink:
    """`opener()` opens the real sink; the first open happens here and its error goes up (a
    wrong --output is a one-line error at start). Later failures are survived."""

    def __init__(self, opener: Callable[[], Sink], *, retry_every: float = 1.0,
                 log: Callable[[str], None] | None = None):
        self._opener = opener
        self.inner: Sink | None = opener()
        self.name = self.inner.name
        self.live = getattr(self.inner, "live", True)
        self.retry_every = retry_every
        self.log = log or (lambda msg: print(f"hookcam: {msg}", file=sys.stderr))
        self._retry_at = 0.0
        self.failures = 0  # times it failed
        self.missed = 0  # frames not delivered while it was down

    @property
    def down(self) -> bool:
        return self.inner is None

    def send(self, image: np.ndarray) -> None:
        if self.inner is None and not self._reopen():
            self.missed += 1
            return
        try:
            self.inner.send(image)
        except Exception as e:  # SinkError, OSError, whatever the backend raises
            self._fail(e)
            self.missed += 1

    def _fail(self, e: Exception) -> None:
        self.failures += 1
        why = (str(e).strip().splitlines() or [type(e).__name__])[0]
        self.log(f"{why}; the other outputs keep going, retrying it every second")
        inner, self.inner = self.inner, None
        try:
            inner.close()
        except Exception:
            pass
        self._retry_at = time.monotonic() + self.retry_every

    def _reopen(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + self.retry_every
        try:
            self.inner = self._opener()
        except Exception:
            return False
        self.log(f"{self.name} is back: frames flow to it again")
        return True

    def close(self) -> None:
        inner, self.inner = self.inner, None
        if inner is not None:
            inner.close()
