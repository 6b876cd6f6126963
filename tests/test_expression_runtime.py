"""Issue 10 targets, measured with benchmarks/accuracy.py's own functions (one copy of the
metrics): FER2013 / FER+ PrivateTest accuracy, neutral frames read neutral, no emotion on the
Big Buck Bunny cartoon, and the smile sticker's onset / offset delay on lp_d0."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("hookcam_accuracy", REPO / "benchmarks" / "accuracy.py")
acc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acc)

# PrivateTest on the shipped model (benchmarks/accuracy.py), one pass as the live camera runs it:
# 67.0% / 82.5% (the models before it: 65.8% / 81.7%, 64.1% / 81.9%); averaged with the mirror
# image as `hookcam analyze` runs it: 67.3% / 83.1%. The FER2013 target (68%) is not met;
# these floors catch a worse model.
FER2013_MIN, FERPLUS_MIN = 0.66, 0.815
MIRROR_FER2013_MIN, MIRROR_FERPLUS_MIN = 0.665, 0.825

pytestmark = pytest.mark.skipif(not (acc.SHARED / "data" / "ferplus" / "labels.csv").is_file(),
                                reason="../shared (test data, FER2013/FER+ labels) not present")


@pytest.fixture(scope="module")
def model():
    from hookcam.analysis.expression import ExpressionModel

    m = ExpressionModel()
    yield m
    m.close()


def _pct(s: str) -> float:
    return float(s.split("%")[0]) / 100


def test_fer2013_and_ferplus_private_test(model):
    """The runtime output (blended, calibrated), scored against each label set: one pass (live)
    and the mirror average (`hookcam analyze`), which must be at least as good on both."""
    import numpy as np

    from hookcam.analysis.expression import ExpressionModel
    from hookcam.types import EMOTIONS

    mirror = ExpressionModel(mirror=True)
    crops = {}

    def probs(m, gray):
        key = gray.tobytes()  # each image is aligned once (2.3 kB), then run through both
        if key not in crops:
            crops[key] = model.whole_image_crop(gray)[None]
        e = m.predict_crops(crops[key])[0]
        return np.array([e.emotions[k] for k in EMOTIONS])

    one = acc.emotion_scores(lambda b: "x", lambda b: "x", lambda g: probs(model, g))
    two = acc.emotion_scores(lambda b: "x", lambda b: "x", lambda g: probs(mirror, g))
    assert _pct(one["fer2013_private"]) >= FER2013_MIN, one
    assert _pct(one["ferplus_private"]) >= FERPLUS_MIN, one
    assert _pct(two["fer2013_private"]) >= MIRROR_FER2013_MIN, two
    assert _pct(two["ferplus_private"]) >= MIRROR_FERPLUS_MIN, two
    for k in ("fer2013_private", "ferplus_private"):
        assert _pct(two[k]) >= _pct(one[k]), (one, two)


def test_mirror_average_is_the_mean_of_the_two_passes(model):
    """`mirror=True` answers with the mean of the crop's and its mirror image's probabilities."""
    import numpy as np

    from hookcam.analysis.expression import ExpressionModel
    from hookcam.types import EMOTIONS

    crop = model.whole_image_crop(acc.imread(acc.EXPR / "inspireface" / "emotion_sad.png"))
    a, b = model.predict_crops(np.stack([crop, crop[:, ::-1]]))
    m = ExpressionModel(mirror=True).predict_crops(crop[None])[0]
    vec = lambda e: np.array([*(e.emotions[k] for k in EMOTIONS), e.smile, e.face])  # noqa: E731
    assert not np.allclose(vec(a), vec(b), atol=1e-3)  # the mirror image really is a second opinion
    assert np.allclose(vec(m), (vec(a) + vec(b)) / 2, atol=1e-5)


def test_still_faces_read_neutral(model):
    r = acc.neutral_frames(model)
    n, t = sum(a for a, _ in r.values()), sum(b for _, b in r.values())
    assert n >= 0.9 * t, r


def test_no_emotion_on_the_cartoon_rabbit(model):
    hit, frames = acc.no_face_frames(model)
    assert frames == 132 and hit == 0, f"emotion shown on {hit}/{frames} Big Buck Bunny frames"


@pytest.mark.parametrize("paced", [False, True], ids=["file", "paced"])
def test_smile_sticker_follows_the_smile_within_4_frames(paced):
    r = acc.smile_delays(paced=paced)
    assert r["frames"] == 78
    assert r["onset"] is not None and -2 <= r["onset"] <= 4, r
    assert r["offset"] is not None and -2 <= r["offset"] <= 4, r
    assert r["toggles"] == 2, f"flicker: {r}"
