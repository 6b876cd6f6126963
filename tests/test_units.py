"""Small parts on real data: frame conversion, stickers, settings, legacy flags, doctor."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli, user_lines

from hookcam.cli import _legacy, build_parser
from hookcam.commands.run import settings_from_args
from hookcam.effects.stickers import draw, load_pack
from hookcam.errors import HookcamError
from hookcam.frames import to_bgr8
from hookcam.settings import parse_size
from hookcam.sources.images import load_image


def test_rgba_gray_16bit_become_bgr8(testdata):
    rgba = load_image(testdata / "faces/face_recognition/32bit.png")
    assert rgba.dtype == np.uint8 and rgba.ndim == 3 and rgba.shape[2] == 3
    gray = load_image(testdata / "expressions/yale/01_happy.gif")
    assert gray.shape == (243, 320, 3)
    assert np.array_equal(gray[:, :, 0], gray[:, :, 2])
    deep = (np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20)
    out = to_bgr8(deep)
    assert out.dtype == np.uint8 and out.shape == (48, 64, 3)
    assert out[-1, -1, 0] == (deep[-1, -1] >> 8)
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255  # red in RGB order
    assert to_bgr8(rgb, rgb_order=True)[0, 0].tolist() == [0, 0, 255]


def test_default_pack_has_every_sticker_with_alpha():
    pack = load_pack(None)
    assert {"smile", "happy", "sad", "angry", "surprise", "fear", "disgust", "neutral"} <= set(pack)
    for s in pack.values():
        a = s.image[:, :, 3]
        assert a.max() == 255 and a.min() == 0  # opaque drawing on a transparent ground


def test_sticker_follows_face_scale_and_stays_in_frame():
    pack = load_pack(None)
    frame = np.zeros((480, 640, 3), np.uint8)
    draw(frame, pack["smile"], (200, 200, 100, 100))
    ys, xs = np.nonzero(frame.max(axis=2))
    assert xs.min() > 200 and ys.max() < 230  # beside/above the face, not on it
    small = np.zeros((480, 640, 3), np.uint8)
    draw(small, pack["smile"], (200, 200, 50, 50))
    assert np.count_nonzero(small.max(axis=2)) < 0.4 * np.count_nonzero(frame.max(axis=2))
    edge = np.zeros((200, 200, 3), np.uint8)
    draw(edge, pack["smile"], (120, 5, 60, 60))  # would stick out above/right: pulled inside
    ys, xs = np.nonzero(edge[:, :, 2] > 0)
    assert ys.min() >= 0 and xs.max() <= 199 and len(xs) > 0.5 * 36 * 36


@pytest.mark.parametrize("text,expected", [("1280x720", (1280, 720)), (" 640X480 ", (640, 480))])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


def test_legacy_flags_map_to_run():
    argv = _legacy(["--input_video_num", "0", "--output_video_dev", "/dev/video2"])
    assert argv[0] == "run"
    s = settings_from_args(build_parser().parse_args(argv))
    assert s.input == "0" and s.outputs == ["/dev/video2"] and s.effect == "smile"
    s = settings_from_args(build_parser().parse_args(_legacy(
        ["--input_video_num", "1", "--output_video_dev", "/dev/video3", "--emotion_mode", "True"])))
    assert s.effect == "emotion" and s.input == "1"
    s = settings_from_args(build_parser().parse_args(_legacy(["--anime_mode", "True"])))
    assert s.effect == "anime"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--anime_mode", "maybe"])


def test_help_and_version():
    r = run_cli("--help")
    assert r.returncode == 0 and b"virtual camera" in r.stdout and b"doctor" in r.stdout
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.decode().startswith("hookcam 0.")


def test_doctor_explains_missing_loopback():
    r = run_cli("doctor")
    out = r.stdout.decode()
    import os

    if os.path.exists("/sys/module/v4l2loopback"):
        pytest.skip("this machine has v4l2loopback loaded")
    assert r.returncode == 1
    assert "v4l2loopback is not loaded" in out and "modprobe v4l2loopback" in out
    assert "exclusive_caps=1" in out
    assert "face detector" in out and "expression model" in out
    assert "anime GAN runtime: OpenVINO" in out
    assert "Traceback" not in r.stderr


def test_unknown_effect_is_refused():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--effect", "sparkles"])
    from hookcam.settings import make_settings

    with pytest.raises(HookcamError):
        make_settings(effect="sparkles")
    assert user_lines("INFO: Created TensorFlow Lite XNNPACK\nhookcam: x") == ["hookcam: x"]


def test_bundled_expression_model_matches_its_registry_entry():
    """Retraining the model without updating the registry's sha256/size fails here."""
    from hookcam.analysis.expression import default_model_path, smile_model_path
    from hookcam.models import ModelStore

    assert ModelStore(cache_dir=None).path("expression") == default_model_path()
    assert ModelStore(cache_dir=None).path("expression_smile") == smile_model_path()


def test_loaded_models_are_kept_one_at_a_time_and_closed_when_dropped():
    from hookcam.models import Loaded

    class M:
        closed = 0

        def close(self):
            self.closed += 1

    kept = Loaded(size=1)
    a, b = M(), M()
    assert kept.take("a") is None
    kept.give("a", a)
    assert kept.take("a") is a and kept.take("a") is None  # taken: the caller owns it again
    kept.give("a", a)
    kept.give("b", b)  # only one is kept: the older one is closed
    assert (a.closed, b.closed) == (1, 0) and kept.take("a") is None
    kept.close()
    assert b.closed == 1 and kept.take("b") is None


def test_anime_effect_reuses_its_stylizer_after_a_switch(tmp_path):
    """Switching away from anime and back does not load the model again (and the run's end
    closes it): the classical fallback (a broken model file) stands in for the GAN."""
    from hookcam.effects.anime import AnimeEffect
    from hookcam.models import ModelStore
    from hookcam.settings import make_settings

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    s = make_settings(effect="anime", anime_model=str(bad))
    store = ModelStore(cache_dir=tmp_path)
    e1 = AnimeEffect(s, store, quantize=False)
    assert e1.wait_ready(30)
    first = e1.stylizer
    e1.close()
    e2 = AnimeEffect(s, store, quantize=False)
    assert e2.wait_ready(30)
    assert e2.stylizer is first
    # the same worker threads too (no new threads per switch), cleared of the first's results
    assert e2.worker is e1.worker and all(th.is_alive() for th in e2.worker._threads)
    assert e2.worker.result(1) is None
    e2.close()
    store.close()
    assert store.loaded.take(e2._key) is None
    assert not any(th.is_alive() for th in e2.worker._threads)  # the run's end stops them


def test_glibc_takes_the_arena_limit(monkeypatch):
    import sys

    from hookcam.heap import limit_arenas

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_arenas() is sys.platform.startswith("linux")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False  # the user's own setting wins


def test_opencv_runs_on_the_calling_thread_and_baselines_get_its_pool(monkeypatch):
    import cv2

    from hookcam.opencv_threads import ENV, calling_thread, library_default

    before = cv2.getNumThreads()
    try:
        monkeypatch.setenv(ENV, "2")
        cv2.setNumThreads(2)
        assert calling_thread() is False and cv2.getNumThreads() == 2  # the user's own setting wins
        monkeypatch.delenv(ENV)
        assert calling_thread() is True and cv2.getNumThreads() == 1
        import os

        assert os.environ[ENV] == "1"  # what a cv2 loaded later reads
        with library_default():
            assert cv2.getNumThreads() == len(os.sched_getaffinity(0))
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
