"""Decisions that hold still: hysteresis for the smile, a held-for-a-moment rule for emotions."""

from __future__ import annotations


class Hysteresis:
    """On when the (smoothed) value stays above `on` for `hold` updates, off when it stays below
    `off` for `hold` updates. In between, nothing changes: no flicker around one threshold.
    The gap between `on` and `off` and `hold` 2 keep it steady (one odd frame changes nothing); a
    light average (`ema` 0.7) keeps it fast: on at the 2nd frame of a clear smile, off at the 2nd
    frame after it."""

    def __init__(self, on: float = 0.6, off: float = 0.4, hold: int = 2, ema: float = 0.7):
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
    for `hold` consecutive updates by at least `margin`.

    With a `default` label (emotion mode: "neutral"), doubt reads as the default: another label
    counts as leading only when its averaged score is at least `lead` above the default's. So a
    still face shows the default, and an emotion shows only when it is clearly ahead and held."""

    def __init__(self, ema: float = 0.4, hold: int = 4, margin: float = 0.05,
                 default: str | None = None, lead: float = 0.0):
        self.ema, self.hold, self.margin = ema, hold, margin
        self.default, self.lead = default, lead
        self.scores: dict[str, float] | None = None
        self.label: str | None = None
        self._candidate: str | None = None
        self._count = 0

    def _best(self) -> str:
        assert self.scores is not None
        best = max(self.scores, key=self.scores.get)
        d = self.default
        if d is not None and d in self.scores and best != d and self.scores[best] < self.scores[d] + self.lead:
            return d
        return best

    def update(self, scores: dict[str, float]) -> str:
        if self.scores is None:
            self.scores = dict(scores)
        else:
            self.scores = {k: self.ema * v + (1 - self.ema) * self.scores.get(k, v) for k, v in scores.items()}
        best = self._best()
        if self.label is None:
            self.label = best
        elif best != self.label and (best == self.default
                                     or self.scores[best] >= self.scores.get(self.label, 0) + self.margin):
            if best == self._candidate:
                self._count += 1
            else:
                self._candidate, self._count = best, 1
            if self._count >= self.hold:
                self.label, self._candidate, self._count = best, None, 0
        else:
            self._candidate, self._count = None, 0
        return self.label


class FaceCheck:
    """Is this track a face worth an expression? Yes while the averaged face probability of the
    expression model stays at or above `face_min` (and, if `min_score` is set, once the detector
    has scored the track at least that in some update)."""

    def __init__(self, face_min: float = 0.0, min_score: float = 0.0, ema: float = 0.5):
        self.face_min, self.min_score, self.ema = face_min, min_score, ema
        self.face: float | None = None
        self.best_score = 0.0

    def update(self, face_prob: float, score: float) -> bool:
        self.face = face_prob if self.face is None else self.ema * face_prob + (1 - self.ema) * self.face
        self.best_score = max(self.best_score, score)
        return self.best_score >= self.min_score and self.face >= self.face_min
