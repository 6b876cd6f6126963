"""The bundled expression model on real faces (testdata, never used for training)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from hookcam.errors import ModelError
from hookcam.types import EMOTIONS

EXPR = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "expressions"


def _imread(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:  # Yale files are GIF data
        import imageio.v3 as iio

        a = np.asarray(iio.imread(path, index=0))
        img = cv2.cvtColor(a, cv2.COLOR_GRAY2BGR) if a.ndim == 2 else cv2.cvtColor(a[..., :3], cv2.COLOR_RGB2BGR)
    return img


@pytest.fixture(scope="module")
def model():
    from hookcam.analysis.expression import ExpressionModel

    m = ExpressionModel()
    yield m
    m.close()


@pytest.fixture(scope="module")
def detector():
    from hookcam.faces.detect import FaceDetector

    d = FaceDetector()
    yield d
    d.close()


def _photo(model, detector, path):
    img = _imread(path)
    faces = detector.detect(img)
    assert faces, f"no face found in {path.name}"
    return model.predict(img, [(faces[0].box, faces[0].keypoints)])[0]


def test_outputs_are_probabilities(model, detector):
    e = _photo(model, detector, EXPR / "yale" / "01_happy.gif")
    assert set(e.emotions) == set(EMOTIONS) and len(e.emotions) == 7
    assert 0.0 <= e.smile <= 1.0
    assert all(0.0 <= v <= 1.0 for v in e.emotions.values())
    assert abs(sum(e.emotions.values()) - 1.0) < 1e-3
    assert e.label in EMOTIONS
    assert model.predict(_imread(EXPR / "yale" / "01_happy.gif"), []) == []


def test_batched_matches_single(model):
    img = _imread(EXPR / "yale" / "02_happy.gif")
    box = (100.0, 60.0, 120.0, 120.0)
    one = model.predict(img, [(box, None)])[0]
    two = model.predict(img, [(box, None), ((50.0, 50.0, 80.0, 80.0), None)])
    assert len(two) == 2 and abs(two[0].smile - one.smile) < 1e-4


@pytest.fixture(scope="module")
def smile_model():
    """Smile mode's model: one network of the pair."""
    from hookcam.analysis.expression import ExpressionModel, smile_model_path

    m = ExpressionModel(smile_model_path())
    yield m
    m.close()


@pytest.mark.parametrize("which", ["model", "smile_model"])
def test_yale_happy_vs_rest(request, detector, which):
    model = request.getfixturevalue(which)
    files = sorted((EXPR / "yale").glob("*.gif"))
    assert len(files) == 22
    right = [(_photo(model, detector, p).smile > 0.5) == ("happy" in p.name) for p in files]
    assert sum(right) == 22, [p.name for p, r in zip(files, right) if not r]


@pytest.mark.parametrize("which", ["model", "smile_model"])
def test_smilesmiled(request, which):
    model = request.getfixturevalue(which)
    items = [(p, lab == "smile") for lab in ("smile", "no_smile")
             for p in sorted((EXPR / "smilesmiled" / lab).glob("*.jpg"))]
    assert len(items) == 46
    right = [(model.predict_crop(_imread(p)).smile > 0.5) == lab for p, lab in items]
    assert sum(right) >= 43, [p.name for (p, _), r in zip(items, right) if not r]


def test_smile_mode_runs_one_network_and_emotion_the_pair(model):
    """The Analyzer loads the one-network smile model for smile alone, the pair for emotion, and
    switches between them (each loaded once) when the effect changes."""
    import onnx

    from hookcam.analysis.analyzer import Analyzer
    from hookcam.analysis.expression import default_model_path, smile_model_path

    convs = lambda p: sum(n.op_type == "Conv" for n in onnx.load(str(p)).graph.node)  # noqa: E731
    assert convs(default_model_path()) == 2 * convs(smile_model_path()) > 0
    an = Analyzer(frozenset({"smile"}))
    try:
        smile = an.expression
        assert smile.path == smile_model_path()
        assert smile.face_min != model.face_min  # fitted for this network
        an.set_needs(frozenset({"emotion", "smile"}))
        assert an.expression.path == default_model_path()
        an.set_needs(frozenset({"smile"}))
        assert an.expression is smile
        an.set_needs(frozenset())
        assert an.expression is smile  # nothing needs it: kept, not run (process checks needs)
    finally:
        an.close()


# sad fails with the current model (it reads the InspireFace sad photo as neutral; see
# training/MODEL_CARD.md). Strict: a model that gets it right makes it "unexpectedly pass" and
# fail the run, so the mark is removed with the better model.
_WEAK = pytest.mark.xfail(reason="emotion model below target (MODEL_CARD.md)", strict=True)


@pytest.mark.parametrize("name,label", [("emotion_happy.png", "happy"),
                                        pytest.param("emotion_sad.png", "sad", marks=_WEAK),
                                        ("emotion_anger.png", "angry")])
def test_inspireface_emotions(model, detector, name, label):
    assert _photo(model, detector, EXPR / "inspireface" / name).label == label


def test_corrupt_model_file(tmp_path):
    from hookcam.analysis.expression import ExpressionModel

    bad = tmp_path / "expression.onnx"
    bad.write_bytes(b"\x00garbage, not a model\n" * 10)
    with pytest.raises(ModelError) as exc:
        ExpressionModel(bad)
    msg = str(exc.value)
    assert "\n" not in msg and "expression model" in msg
    with pytest.raises(ModelError):
        ExpressionModel(tmp_path / "missing.onnx")
