"""The pipeline's promises: the output keeps its frame rate when a camera is lost and picks the
camera up again; decisions hold still (hysteresis); boxes follow the face smoothly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hookcam.analysis.smoothing import Hysteresis, LabelSmoother
from hookcam.errors import SourceError, SourceLost
from hookcam.faces.track import Tracker
from hookcam.pipeline import Pipeline
from hookcam.settings import make_settings
from hookcam.sources.video import VideoSource
from hookcam.types import SourceInfo


class FlakyCamera:
    """A camera stand-in (no kernel device on CI): real frames from a clip at 25 fps, then
    `SourceLost` as when a webcam is unplugged, reopen failing until it is "plugged back in".
    It behaves like hookcam.sources.camera.CameraSource towards the pipeline."""

    def __init__(self, clip, lose_after: int, back_after_s: float):
        self.video = VideoSource(clip, loop=True)
        self.info = SourceInfo(self.video.info.width, self.video.info.height, 25.0, "camera",
                               "flaky test camera", live=True)
        self.lose_after, self.back_after_s = lose_after, back_after_s
        self.n = 0
        self.lost_at: float | None = None
        self.reopened = 0

    def read(self):
        if self.lost_at is None and self.n == self.lose_after:
            self.lost_at = time.monotonic()
            raise SourceLost("test camera unplugged")
        time.sleep(1 / 25)  # a camera delivers at its own rate
        self.n += 1
        return self.video.read()

    def reopen(self):
        if time.monotonic() - self.lost_at < self.back_after_s:
            raise SourceError("still unplugged")
        self.reopened += 1
        self.n += 1  # past the failure point

    def close(self):
        self.video.close()


class RecordingSink:
    name, live = "recording", True

    def __init__(self):
        self.times, self.means = [], []

    def send(self, image):
        self.times.append(time.monotonic())
        self.means.append(float(image.mean()))

    def close(self):
        pass


def test_camera_loss_keeps_output_rate_and_recovers(testdata):
    cam = FlakyCamera(testdata / "video/lp_d0.mp4", lose_after=25, back_after_s=2.5)
    sink = RecordingSink()
    settings = make_settings(input="0", outputs=["null"], effect="none", max_frames=150)
    pipe = Pipeline(settings, cam, [sink])
    stats = pipe.run()
    assert cam.reopened == 1
    assert stats.lost_frames > 0
    times = np.array(sink.times)
    # During the outage the output still ran at roughly the camera's rate.
    lost_start = cam.lost_at
    during = times[(times > lost_start + 0.3) & (times < lost_start + 2.3)]
    assert len(during) >= 0.6 * 25 * 2.0, f"only {len(during)} frames in 2 s of outage"
    gaps = np.diff(times)
    assert gaps.max() < 0.25, f"output stalled for {gaps.max():.2f} s"
    # Normal frames again after the camera came back (they are brighter than the lost frame).
    assert stats.frames_out == 150
    assert np.mean(sink.means[-10:]) > np.mean(sink.means[30:40]) + 10


def test_hysteresis_does_not_flicker():
    h = Hysteresis(on=0.6, off=0.4, hold=2, ema=0.5)  # the mechanism; shipped defaults: test_smoothing.py
    rng = np.random.default_rng(0)
    noisy_mid = 0.5 + rng.uniform(-0.15, 0.15, 60)  # hovers around one threshold
    states = [h.update(x) for x in noisy_mid]
    assert sum(a != b for a, b in zip(states, states[1:])) == 0
    states = [h.update(x) for x in [0.9] * 5 + [0.55] * 5 + [0.1] * 5]
    assert states[:1] == [False] and states[4] is True and states[9] is True and states[-1] is False


def test_label_smoother_needs_a_held_change():
    s = LabelSmoother(hold=4)
    happy = {"happy": 0.8, "neutral": 0.2}
    neutral = {"happy": 0.1, "neutral": 0.9}
    assert s.update(happy) == "happy"
    assert s.update(neutral) == "happy"  # one frame is not enough
    assert s.update(happy) == "happy"
    labels = [s.update(neutral) for _ in range(8)]
    assert labels[-1] == "neutral" and labels[0] == "happy"


def test_tracker_keeps_ids_and_smooths_jitter():
    class D:
        def __init__(self, box):
            self.box, self.score, self.keypoints = box, 0.9, None

    tr = Tracker()
    rng = np.random.default_rng(1)
    ids, xs = set(), []
    for i in range(60):
        jitter = rng.normal(0, 3, 2)
        seen = tr.update([D((100 + jitter[0], 80 + jitter[1], 120, 120)),
                          D((400 + i * 2, 90, 100, 100))], t=i / 30)
        ids |= {t.id for t in seen}
        xs.append(next(t.box[0] for t in seen if t.box[0] < 300))
    assert ids == {1, 2}
    assert np.std(xs[10:]) < 2.0  # raw jitter std is 3 px
    moving = next(t for t in tr.tracks if t.id == 2)
    ahead = moving.box_at(60 / 30 + 0.1)
    assert ahead[0] > moving.box[0] + 2  # predicted forward along its motion


def test_live_settings_change_applies_without_restart(testdata):
    settings = make_settings(input=str(testdata / "video/lp_d0.mp4"), outputs=["null"], effect="none",
                             realtime=False)
    sink = RecordingSink()
    pipe = Pipeline(settings, VideoSource(testdata / "video/lp_d0.mp4"), [sink])
    switched = []

    def on_frame(img):
        if len(sink.times) == 10:
            pipe.update(effect="smile", mirror=True)
            switched.append(pipe.settings.effect)

    pipe.on_frame = on_frame
    pipe.run()
    assert switched == ["smile"] and pipe.effect.name == "smile"
    assert len(sink.times) == 78
    from hookcam.errors import HookcamError

    with pytest.raises(HookcamError):
        pipe.update(max_faces=0)
    assert pipe.settings.max_faces == 4


def test_effects_switched_to_but_never_shown_are_closed(testdata, monkeypatch):
    """Two switches before the next frame, or one just before the stop: the effect that never ran
    is still closed (an anime effect's worker threads would otherwise run on)."""
    import hookcam.pipeline as pipeline_mod

    made = []

    class Counting:
        name, needs = "counting", frozenset()

        def __init__(self):
            self.closed = 0
            made.append(self)

        def apply(self, image, faces):
            return image

        def close(self):
            self.closed += 1

    monkeypatch.setattr(pipeline_mod, "make_effect", lambda settings, store=None: Counting())
    settings = make_settings(input=str(testdata / "video/lp_d0.mp4"), outputs=["null"], effect="none",
                             realtime=False, max_frames=20)
    sink = RecordingSink()
    pipe = Pipeline(settings, VideoSource(testdata / "video/lp_d0.mp4"), [sink])
    made.clear()  # the effect the pipeline started with

    def on_frame(img):
        if len(sink.times) == 5:
            pipe.update(effect="smile")
            pipe.update(effect="emotion")  # before any frame shows "smile"
        if len(sink.times) == 20:
            pipe.update(effect="smile")  # pending when the run stops

    pipe.on_frame = on_frame
    pipe.run()
    assert len(made) == 3
    assert [e.closed for e in made] == [1, 1, 1]
