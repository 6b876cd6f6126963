"""Decisions that hold still: hysteresis for the smile, a held-for-a-moment rule for emotions."""

from __future__ import annotations


class Hysteresis:
    """On when the (smoothed) value stays above `on` for `hold` updates, off when it stays below
    `off` for `hold` updates. In between, nothing changes: no flicker around one threshold."""

    def __init__(self, on: float = 0.6, off: float = 0.4, hold: int = 2, ema: float = 0.5):
        self.on, self.off, self.hold, self.ema = on, off, hold, ema
        self.value: float | None = None
        self.state = False
        self._count = 0

    def update(self, x: float) -> bool:
        self.value = x if self.value is None else self.ema * x + (1 - self.ema) * self.value
        wants = bool(self.value >= self.on) if not self.state else not bool(self.value <= self.off)
        if wants != self.state:
            self._count += 1
            if self._count >= self.hold:
                self.state, self._count = wants, 0
        else:
            self._count = 0
        return self.state


class LabelSmoother:
    """Exponentially averaged scores; the shown label changes only when another label has led
    for `hold` consecutive updates by at least `margin`."""

    def __init__(self, ema: float = 0.4, hold: int = 4, margin: float = 0.05):
        self.ema, self.hold, self.margin = ema, hold, margin
        self.scores: dict[str, float] | None = None
        self.label: str | None = None
        self._candidate: str | None = None
        self._count = 0

    def update(self, scores: dict[str, float]) -> str:
        if self.scores is None:
            self.scores = dict(scores)
        else:
            self.scores = {k: self.ema * v + (1 - self.ema) * self.scores.get(k, v) for k, v in scores.items()}
        best = max(self.scores, key=self.scores.get)
        if self.label is None:
            self.label = best
        elif best != self.label and self.scores[best] >= self.scores.get(self.label, 0) + self.margin:
            if best == self._candidate:
                self._count += 1
            else:
                self._candidate, self._count = best, 1
            if self._count >= self.hold:
                self.label, self._candidate, self._count = best, None, 0
        else:
            self._candidate, self._count = None, 0
        return self.label
