"""Keep an identity per face across frames, smooth its box, and predict where it is between
detections, so stickers follow the face without jitter."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


class OneEuro:
    """The 1-euro filter (Casiez et al. 2012): smooth when still, responsive when moving."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.02, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.t: float | None = None

    @staticmethod
    def _alpha(cutoff, dt):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.x is None or self.t is None or t <= self.t:
            self.x, self.dx, self.t = x, np.zeros_like(x), t
            return x
        dt = t - self.t
        a_d = self._alpha(self.d_cutoff, dt)
        dx = a_d * (x - self.x) / dt + (1 - a_d) * self.dx
        cutoff = self.min_cutoff + self.beta * np.abs(dx)
        a = self._alpha(cutoff, dt)
        self.x = a * x + (1 - a) * self.x
        self.dx, self.t = dx, t
        return self.x


@dataclass
class Track:
    id: int
    box: Box  # smoothed
    score: float
    keypoints: np.ndarray | None
    t: float  # time of the last detection
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # d(cx, cy, w, h)/dt
    hits: int = 1
    misses: int = 0
    filt: OneEuro = field(default_factory=OneEuro)

    def box_at(self, t: float, horizon: float = 0.2) -> Box:
        """The box extrapolated to time t (constant velocity, at most `horizon` seconds ahead)."""
        dt = min(max(0.0, t - self.t), horizon)
        cx, cy, w, h = _to_cwh(self.box) + self.velocity * dt
        return _from_cwh((cx, cy, max(w, 2.0), max(h, 2.0)))


def _to_cwh(b: Box) -> np.ndarray:
    x, y, w, h = b
    return np.array([x + w / 2, y + h / 2, w, h], dtype=np.float64)


def _from_cwh(c) -> Box:
    cx, cy, w, h = (float(v) for v in c)
    return (cx - w / 2, cy - h / 2, w, h)


class Tracker:
    """Greedy IoU matching of detections to tracks; a track survives a few missed detections."""

    def __init__(self, max_misses: int = 5, min_iou: float = 0.2):
        self.max_misses = max_misses
        self.min_iou = min_iou
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, detections, t: float) -> list[Track]:
        """detections: objects with .box, .score, .keypoints. Returns the tracks seen this time."""
        pairs = sorted(
            ((iou(tr.box_at(t), d.box), i, j) for i, tr in enumerate(self.tracks)
             for j, d in enumerate(detections)),
            reverse=True,
        )
        used_t, used_d, seen = set(), set(), []
        for score, i, j in pairs:
            if score < self.min_iou:
                break
            if i in used_t or j in used_d:
                continue
            used_t.add(i)
            used_d.add(j)
            tr, d = self.tracks[i], detections[j]
            old = _to_cwh(tr.box)
            new = tr.filt(_to_cwh(d.box), t)
            dt = t - tr.t
            if dt > 0:
                tr.velocity = 0.5 * tr.velocity + 0.5 * (new - old) / dt
            tr.box, tr.score, tr.t = _from_cwh(new), d.score, t
            tr.keypoints = d.keypoints
            tr.hits += 1
            tr.misses = 0
            seen.append(tr)
        for i, tr in enumerate(self.tracks):
            if i not in used_t:
                tr.misses += 1
                tr.velocity *= 0.5
        for j, d in enumerate(detections):
            if j not in used_d:
                tr = Track(self._next_id, tuple(map(float, d.box)), d.score, d.keypoints, t)
                tr.filt(_to_cwh(d.box), t)
                self._next_id += 1
                self.tracks.append(tr)
                seen.append(tr)
        self.tracks = [tr for tr in self.tracks if tr.misses <= self.max_misses]
        return seen
