"""Faces at any distance (issue 11): the thorough detection on pasted real faces from about
40 px up to a face that fills the frame, group photos, no new false hits; the live schedule
picks up a newcomer quickly and does no detection when nothing needs faces."""

from __future__ import annotations

import importlib.util
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO, TESTDATA

from hookcam.analysis.analyzer import Analyzer
from hookcam.faces.detect import FaceDetector


def _accuracy():
    spec = importlib.util.spec_from_file_location("hookcam_accuracy", REPO / "benchmarks" / "accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


A = _accuracy()
# A fixed subset of the size sweep in benchmarks/accuracy.py: 8 photos of different people,
# light and pose (grey Yale, LFW crops, colour portraits).
PHOTOS = ["expressions/yale/03_happy.gif", "expressions/muxspace/happy__Azra_Akin_0003.jpg",
          "expressions/muxspace/neutral__Gary_Condit_0001.jpg", "expressions/inspireface/emotion_sad.png",
          "faces/face_recognition/obama.jpg", "faces/skimage/astronaut.png",
          "faces/insightface/image_T1.jpeg", "faces/mtcnn/ivan.jpg"]


@pytest.fixture(scope="module")
def detector():
    d = FaceDetector(max_faces=32)
    yield d
    d.close()


@pytest.fixture(scope="module")
def cases(detector):
    return A.sweep_cases(lambda img: A.reference_box(detector, img), photos=[TESTDATA / p for p in PHOTOS],
                         sizes=(1.0, 0.3, 0.15, 0.1))


def test_size_sweep_subset(detector, cases):
    got = A.size_sweep(lambda bgr: [d.box for d in detector.detect_all(bgr)], cases)
    assert sum(n for _, n in got.values()) == 5 * len(PHOTOS), "a sweep photo lost its reference face"
    for size, (found, n) in got.items():
        need = n - 1 if size in (0.15, 0.1) else n  # targets: >= 90% / 80% there, >= 95% elsewhere
        assert found >= need, f"size {size}: {found}/{n} found"


def test_full_pass_alone_is_blind_where_the_other_passes_look(detector, cases):
    """Guards the test above: without the extra passes the small and filling faces are lost."""
    got = A.size_sweep(lambda bgr: [d.box for d in detector.detect(bgr)], cases)
    assert got["fill"][0] <= len(PHOTOS) // 2 and got[0.1][0] <= len(PHOTOS) // 2


@pytest.mark.parametrize("path, at_least", [("faces/insightface/t1.jpg", 6),
                                            ("faces/deepface/selfie-many-people.jpg", 6),
                                            ("faces/dlib/bald_guys.jpg", 20)])
def test_group_photos(detector, path, at_least, ground_truth):
    faces = detector.detect_all(A.imread(TESTDATA / path))
    assert at_least <= len(faces) <= ground_truth[path]["faces"]


def test_no_new_false_hits(detector):
    negs = [p for p in sorted((TESTDATA / "negatives").iterdir()) if p.suffix.lower() in (".jpg", ".png")]
    hits = [p.name for p in negs if detector.detect_all(A.imread(p))]
    assert len(hits) <= 1, hits


def sliding_clip(n: int = 60, size=(640, 360)) -> list[np.ndarray]:
    """A face photo sliding in from the left into an empty grey frame, then standing still."""
    w, h = size
    face = cv2.resize(A.face_square(A.imread(TESTDATA / "faces/skimage/astronaut.png"),
                                    (160, 60, 190, 190), 0.7), (150, 150))
    frames = []
    for i in range(n):
        img = np.full((h, w, 3), 90, np.uint8)
        x = min(-150 + 12 * i, 240)  # fully inside from frame 13
        x0, x1 = max(x, 0), min(x + 150, w)
        if x1 > x0:
            img[100:250, x0:x1] = face[:, x0 - x : x1 - x]
        frames.append(img)
    return frames


def test_newcomer_is_picked_up_within_15_frames():
    a = Analyzer(frozenset({"smile"}))
    a.scan_every = 4  # what the pipeline sets at 30 fps
    found = [bool(a.process(img, i / 30)) for i, img in enumerate(sliding_clip())]
    first_inside = 13
    assert not any(found[:5]), "a face before any is in the frame"
    assert any(found[first_inside : first_inside + 15]), found
    assert all(found[first_inside + 15 :]), "the face was lost again"
    a.close()


def test_no_detection_when_nothing_needs_faces():
    calls = []

    class Spy(FaceDetector):
        def _square(self, *args, **kw):
            calls.append(1)
            return super()._square(*args, **kw)

    a = Analyzer(frozenset(), detector=Spy())
    img = sliding_clip()[30]
    assert a.process(img, 0.0) == [] and not calls
    a.want_faces()  # the control page asks
    assert len(a.process(img, 0.1)) == 1 and calls
    a.close()


def test_tracked_face_is_looked_at_every_other_frame_and_predicted_in_between():
    """Between looks the tracker's prediction stands in: the detector runs on about half the
    frames of a moving face, yet every frame has the face, close to where a look finds it, and
    the expression model still scores every frame."""
    import av

    looks = []

    class Spy(FaceDetector):
        def refine(self, *args, **kw):
            looks.append(1)
            return super().refine(*args, **kw)

    with av.open(str(TESTDATA / "video/lp_d12.mp4")) as c:  # a talking head that moves
        frames = [f.to_ndarray(format="bgr24") for _, f in zip(range(60), c.decode(video=0))]
    coasting, checking = Analyzer(frozenset({"smile"}), detector=Spy()), Analyzer(frozenset({"smile"}))
    coasting.scan_every = checking.scan_every = 4
    checking.refine_every = 1
    errs = []
    for i, img in enumerate(frames):
        t = i / 25
        a, b = coasting.process(img, t), checking.process(img, t)
        assert len(a) == 1 and len(b) == 1 and a[0].smile is not None, i
        (ax, ay, aw, _), (bx, by, bw, _) = a[0].box, b[0].box
        errs.append(max(abs(ax + aw / 2 - bx - bw / 2), abs(ay - by)) / bw)
    coasting.close()
    checking.close()
    assert len(looks) <= 0.6 * len(frames)  # about half (scans add a few)
    assert np.median(errs) < 0.04 and max(errs) < 0.15, (np.median(errs), max(errs))


def test_bench_cpu_scenarios_report_cores_beside_the_floor_and_name_the_cpu(testdata):
    """`hookcam bench --scenarios cpu` prints what issue 11 asks for (figures, not thresholds:
    speed is judged in benchmarks/, not in tests), with the CPU they ran on."""
    import json

    from conftest import run_cli

    r = run_cli("bench", "--input", testdata / "video/lp_d0.mp4", "--frames", "30", "--scenarios", "cpu", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["cpu"] and out["cpu_count"] >= 1
    assert set(out["scenarios"]) == {"cpu-floor", "cpu-none", "cpu-smile", "cpu-emotion"}
    for name, s in out["scenarios"].items():
        assert s["cores"] > 0 and s["frames"] == 30, (name, s)
