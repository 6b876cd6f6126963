"""Small data types that travel between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@dataclass
class Frame:
    """One picture from a source: 8-bit BGR, plus where it sits in time."""

    image: np.ndarray
    index: int
    time: float  # time.monotonic() when captured
    lost: bool = False  # True for the "camera lost" stand-in frame


@dataclass
class Face:
    """One face as the effects see it: a smoothed box and what the analysis said about it."""

    track_id: int
    box: tuple[float, float, float, float]  # x, y, w, h in pixels of the frame
    score: float
    smile: float | None = None  # probability in [0, 1]
    smiling: bool = False  # after hysteresis over time
    emotion: str | None = None  # label after temporal smoothing
    emotion_scores: dict[str, float] | None = None  # this frame's probabilities
    emotion_score: float | None = None  # the shown label's probability, averaged as the label is
    landmarks: np.ndarray | None = None  # (N, 2) pixels, when the effect asked for them
    roll: float = 0.0  # head roll in degrees (from eye keypoints), positive = clockwise
    keypoints: np.ndarray | None = None  # (6, 2) BlazeFace keypoints in pixels
    extra: dict = field(default_factory=dict)


@dataclass
class SourceInfo:
    """What a source actually delivers (never what was merely asked for)."""

    width: int
    height: int
    fps: float
    kind: str  # camera | video | image | folder | demo
    description: str
    fourcc: str | None = None
    live: bool = False  # a camera: cannot be paced or looped, may be lost
    frame_count: int | None = None
