"""What a new user meets first (issue 14): hookcam without OpenCV's system libraries, a quiet
terminal (only hookcam's own lines on stderr, raw, unfiltered), and the small mistakes that must
each be one line and a non-zero exit. stderr is checked as it comes, not through `user_lines`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
from conftest import TESTDATA, run_cli

CLIP = TESTDATA / "video/lp_d0.mp4"  # 512x512, 25 fps, a face
FACE = TESTDATA / "faces/deepface/couple.jpg"
NOISE = ("TensorFlow", "XNNPACK", "absl", "W0000", "I0000", "E0000", "Feedback manager",
         "GPU sup", "onnxruntime", "Traceback")


def lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip()]


def one_line_error(r, *words) -> str:
    assert r.returncode != 0, r.stderr
    own = [ln for ln in lines(r.stderr) if not ln.startswith(("hookcam: input ", "hookcam: output "))]
    assert len(own) == 1, r.stderr  # raw stderr: no native log lines either
    assert own[0].startswith("hookcam: ")
    for w in words:
        assert w.lower() in own[0].lower(), own[0]
    return own[0]


# ------------------------------------------------------------------ without OpenCV's system libs


@pytest.fixture
def no_opencv(tmp_path):
    """A stand-in `cv2` first on PYTHONPATH that fails the way the real one does without libGL."""
    stub = tmp_path / "stub"
    (stub / "cv2").mkdir(parents=True)
    (stub / "cv2" / "__init__.py").write_text(
        'raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")\n')
    path = os.pathsep.join([str(stub)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return {"PYTHONPATH": path, "HOOKCAM_CONFIG": str(tmp_path / "config.toml")}


def test_help_version_and_config_work_without_opencv(no_opencv):
    probe = subprocess.run([sys.executable, "-c", "import cv2"], env={**os.environ, **no_opencv},
                           capture_output=True, text=True)
    assert "libGL.so.1" in probe.stderr  # the stand-in is what Python finds
    for args, out in [(["--help"], "usage: hookcam"), (["--version"], "hookcam "),
                      (["run", "--help"], "--input"), (["analyze", "--help"], "IMAGE_OR_VIDEO"),
                      (["config", "path"], "config.toml"), (["config", "init"], ""),
                      (["config", "show"], "effect")]:
        r = run_cli(*args, env=no_opencv, timeout=60)
        assert r.returncode == 0, (args, r.stderr)
        assert "Traceback" not in r.stderr
        assert out in r.stdout.decode() + r.stderr, (args, r.stdout[:300])


@pytest.mark.parametrize("args", [["run", "--input", CLIP, "--output", "null"], ["analyze", FACE]])
def test_commands_needing_opencv_name_the_packages(no_opencv, args):
    from hookcam.cli import SYSTEM_PACKAGES

    line = one_line_error(run_cli(*args, env=no_opencv, timeout=60), "libGL.so.1")
    assert any(cmd in line for cmd in SYSTEM_PACKAGES.values()), line


@pytest.mark.parametrize("os_release, family, packages", [
    ('ID=debian\n', "debian", "libgl1 libglib2.0-0"),
    ('ID=ubuntu\nID_LIKE=debian\n', "debian", "libgl1 libglib2.0-0"),
    ('ID=fedora\n', "fedora", "mesa-libGL glib2"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "fedora", "mesa-libGL glib2"),
    ('ID=arch\n', "arch", "libglvnd glib2"),
    ('ID=manjaro\nID_LIKE=arch\n', "arch", "libglvnd glib2"),
    ('ID=plan9\n', None, None),
])
def test_system_packages_per_distribution(tmp_path, os_release, family, packages):
    from hookcam.cli import SYSTEM_PACKAGES, _distro_family

    f = tmp_path / "os-release"
    f.write_text(os_release)
    assert _distro_family(str(f)) == family
    if family:
        assert packages in SYSTEM_PACKAGES[family]


# ---------------------------------------------------------------------------------- quiet


def test_analyze_prints_nothing_but_results():
    r = run_cli("analyze", FACE)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # no TFLite/absl/glog lines
    assert "face at" in r.stdout.decode()


def test_run_stderr_has_only_hookcams_lines_unless_verbose():
    args = ("run", "--input", CLIP, "--output", "null", "--effect", "emotion", "--max-frames", "10")
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    for ln in lines(r.stderr):
        assert ln.startswith("hookcam: ") or re.match(r"^  \w+ +median ", ln), ln
        assert not any(n in ln for n in NOISE), ln
    loud = run_cli(*args, "--verbose")
    assert loud.returncode == 0
    assert "XNNPACK" in loud.stderr  # the filter is what removes them (and -v brings them back)


def test_a_run_until_stopped_says_ctrl_c():
    p = subprocess.Popen([sys.executable, "-m", "hookcam", "run", "--input", CLIP, "--loop",
                          "--output", "null", "--effect", "none", "--no-control"],
                         stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for ln in p.stderr:
            seen.append(ln)
            if "Ctrl-C" in ln or len(seen) > 20:
                break
        assert any("Ctrl-C to stop" in ln for ln in seen), seen
        p.send_signal(signal.SIGINT)
        rest = p.communicate(timeout=30)[1]
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and "frames out in" in rest


# ----------------------------------------------------------------------------- small items


def test_empty_input_is_an_error_not_the_current_folder(tmp_path):
    shutil.copy(FACE, tmp_path / "photo.jpg")  # the current folder has an image it must not read
    one_line_error(run_cli("run", "--input", "", "--output", "null", cwd=tmp_path), "--input", "empty")


def test_analyze_an_empty_folder_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    one_line_error(run_cli("analyze", tmp_path), str(tmp_path), "no images")


def test_a_png_named_mp4_is_an_image(tmp_path):
    fake = tmp_path / "clip.mp4"
    shutil.copy(TESTDATA / "faces/deepface/couple.jpg", fake)  # JPEG bytes, .mp4 name
    r = run_cli("run", "--input", fake, "--output", "-", "--effect", "none")
    assert r.returncode == 0, r.stderr
    assert "input image" in r.stderr and "0.00 fps" not in r.stderr, r.stderr
    assert len(r.stdout) == 2280 * 1588 * 3  # one frame, the picture's size
    a = run_cli("analyze", fake)
    assert a.returncode == 0 and "#0 2280x1588" in a.stdout.decode()


def test_huge_size_says_the_size_not_the_format():
    line = one_line_error(run_cli("run", "--input", CLIP, "--output", "null", "--size", "100000x100000"),
                          "--size", "7680")
    assert "WIDTHxHEIGHT" not in line


def test_loop_is_paced_like_a_webcam_unless_no_realtime():
    from hookcam.settings import make_settings

    assert make_settings(loop=True).paced(outputs_are_live=False)
    assert not make_settings(loop=True, realtime=False).paced(outputs_are_live=False)
    assert not make_settings(loop=False).paced(outputs_are_live=False)
    # 15 frames at 10 fps take at least 1.4 s when paced (unpaced: a fraction of that).
    r = run_cli("run", "--input", CLIP, "--loop", "--fps", "10", "--output", "null", "--effect", "none",
                "--max-frames", "15")
    assert r.returncode == 0, r.stderr
    took = float(re.search(r"15 frames out in ([\d.]+) s", r.stderr).group(1))
    assert took >= 1.3, r.stderr


def test_unknown_anime_model_is_one_line():
    one_line_error(run_cli("run", "--input", CLIP, "--output", "null", "--anime-model", "bogus"),
                   "unknown anime model", "anime_tiny_cute")


def test_noise_filter_keeps_everything_else():
    from hookcam.quiet import _keep

    for noise in [b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
                  b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                  b"W0000 00:00:1796177021.311276   12762 face_landmarker_graph.cc:174] Sets FaceBlendshapes",
                  b"I0000 00:00:1796177021.306833   12762 task_runner.cc:85] GPU suport is not available",
                  b"2026-12-02 02:00:00.123456789 [W:onnxruntime:, graph.cc:1] Removing initializer",
                  b"INFO: "]:
        assert _keep(noise) is None, noise
    for own in [b"hookcam: input video file a.mp4", b"Traceback (most recent call last):", b"",
                b"  detect   median    8.4 ms   p95   15.7 ms", b"F0000 00:00:1.0 1 x.cc:1] Check failed"]:
        assert _keep(own) == own
    # TFLite's "INFO: " prefix written just before another thread's line break
    assert _keep(b"hookcam: running until stopped: Ctrl-C to stopINFO: ") == \
        b"hookcam: running until stopped: Ctrl-C to stop"
