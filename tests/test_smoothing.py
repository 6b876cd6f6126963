"""The decision rules of the analysis stage with their shipped defaults (issue 10)."""

from __future__ import annotations

from hookcam.analysis.smoothing import FaceCheck, Hysteresis, LabelSmoother


def test_default_hysteresis_is_fast_and_steady():
    h = Hysteresis(on=0.6, off=0.4)
    calm = [0.05] * 6
    spike = calm + [0.95] + calm  # one odd frame (a blink, a bad crop) changes nothing
    assert not any(h.update(x) for x in spike)
    smile = [0.9] * 6 + [0.9, 0.1, 0.9, 0.9] + [0.55, 0.45] * 5  # a dip, then wobbling mid-band
    states = [h.update(x) for x in smile]
    assert states[:2] == [False, True]  # on at the 2nd frame of a clear smile
    assert all(states[1:])  # held through the dip and the wobble
    states = [h.update(x) for x in calm]
    assert states[:2] == [True, False]  # off at the 2nd calm frame


def test_still_face_stays_neutral_until_an_emotion_is_clearly_ahead_and_held():
    s = LabelSmoother(default="neutral", lead=0.3, hold=4)
    doubt = {"neutral": 0.35, "fear": 0.45, "sad": 0.2}  # fear ahead, but not by the lead
    assert [s.update(doubt) for _ in range(20)] == ["neutral"] * 20
    happy = {"neutral": 0.05, "happy": 0.9, "sad": 0.05}
    labels = [s.update(happy) for _ in range(8)]
    assert labels[0] == "neutral" and labels[-1] == "happy"
    labels = [s.update(doubt) for _ in range(12)]
    assert labels[0] == "happy" and labels[-1] == "neutral"  # doubt goes back to neutral
    first = LabelSmoother(default="neutral", lead=0.3)
    assert first.update(doubt) == "neutral" and LabelSmoother(default="neutral", lead=0.3).update(happy) == "happy"


def test_face_check_averages_the_face_probability():
    c = FaceCheck(face_min=0.9)
    assert c.update(0.99, 0.8) and c.update(0.95, 0.8)
    assert not c.update(0.2, 0.8)  # a run of non-face crops closes it
    assert FaceCheck(face_min=0.0, min_score=0.8).update(1.0, 0.7) is False
