"""End to end: `hookcam run` on a real clip into the virtual camera (pyvirtualcam's real
v4l2loopback backend writing to the FUSE stand-in), into an MP4, and onto stdout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import av
import cv2
import numpy as np
import pytest
from conftest import decode_video as decode
from conftest import run_cli, user_lines

CLIP = "video/lp_d0.mp4"  # 512x512, 25 fps, 78 frames: neutral -> broad smile -> neutral


def sticker_fraction(out: np.ndarray, src: np.ndarray) -> float:
    """Share of pixels the effect changed a lot (I420 round trip alone changes them by a few)."""
    diff = cv2.absdiff(out, src).max(axis=2)
    return float((diff > 60).mean())


def segments(ground_truth, clip):
    note = ground_truth[clip]
    segs = note.get("smile_segments")
    assert segs, f"ground truth for {clip} has no smile_segments"
    return segs


@pytest.fixture(scope="module")
def clip_frames(testdata):
    return decode(testdata / CLIP)


def test_virtual_camera_smile_end_to_end(fuse_camera, testdata, ground_truth, clip_frames):
    r = run_cli("run", "--input", testdata / CLIP, "--output", fuse_camera.device, "--effect", "smile")
    assert r.returncode == 0, r.stderr
    fmt = fuse_camera.format()
    assert (fmt["width"], fmt["height"], fmt["pixelformat"]) == (512, 512, "YU12")
    frames = fuse_camera.frames()
    assert len(frames) == len(clip_frames) == 78
    out = [cv2.cvtColor(f, cv2.COLOR_YUV2BGR_I420) for f in frames]
    # The frames are the clip's frames (not black, not another clip): close in the whole picture.
    for i in (0, 40, 77):
        assert out[i].mean() > 40
        # Most pixels are the clip's own (a sticker covers only a corner of the smiling frames).
        assert np.median(cv2.absdiff(out[i], clip_frames[i])) <= 4
    for i in (0, 77):  # neutral frames: the whole picture matches
        assert np.corrcoef(out[i].ravel(), clip_frames[i].ravel())[0, 1] > 0.97
    segs = segments(ground_truth, CLIP)
    smiling = [i for a, b in segs["smiling_teeth"] for i in range(a + 8, b + 1)]  # allow onset delay
    neutral = [i for a, b in segs["neutral"] for i in range(a, b + 1) if i < 18 or i > 72]
    with_sticker = [i for i in smiling if sticker_fraction(out[i], clip_frames[i]) > 0.01]
    assert len(with_sticker) >= 0.9 * len(smiling), f"sticker in {len(with_sticker)}/{len(smiling)} smiling frames"
    stray = [i for i in neutral if sticker_fraction(out[i], clip_frames[i]) > 0.01]
    assert not stray, f"sticker shown in neutral frames {stray}"


def test_mp4_output_has_every_frame_at_source_rate(tmp_path, testdata):
    out = tmp_path / "out.mp4"
    r = run_cli("run", "--input", testdata / CLIP, "--output", out, "--effect", "smile")
    assert r.returncode == 0, r.stderr
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        assert (s.codec_context.name, s.width, s.height) == ("h264", 512, 512)
        assert float(s.average_rate) == pytest.approx(25.0, abs=0.01)
    assert n == 78


def test_two_outputs_and_stdout_raw_frames(tmp_path, testdata):
    out = tmp_path / "a.mkv"
    r = run_cli("run", "--input", testdata / "video/skv_carphone_pristine.mp4", "--output", "-",
                "--output", out, "--effect", "none", "--max-frames", "30")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == 30 * 176 * 144 * 3
    first = np.frombuffer(r.stdout[: 176 * 144 * 3], np.uint8).reshape(144, 176, 3)
    src = decode(testdata / "video/skv_carphone_pristine.mp4")[0]
    assert np.abs(first.astype(int) - src).mean() < 1.0  # effect none: the frame itself
    assert len(decode(out)) == 30


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_signal_leaves_a_playable_mp4(tmp_path, testdata, sig):
    out = tmp_path / "stopped.mp4"
    p = subprocess.Popen([sys.executable, "-m", "hookcam", "run", "--input", str(testdata / "video/lp_d12.mp4"),
                          "--loop", "--realtime", "--output", str(out), "--effect", "smile"],
                         stderr=subprocess.PIPE, env={**os.environ})
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size < 20000) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err.decode()
    frames = decode(out)
    assert len(frames) >= 20
    assert frames[-1].mean() > 30


def test_odd_size_input_and_resize(tmp_path, testdata):
    out = tmp_path / "odd.mp4"
    r = run_cli("run", "--input", testdata / "video/tps_driving.mp4", "--output", out, "--effect", "none",
                "--max-frames", "10")
    assert r.returncode == 0, r.stderr
    frames = decode(out)
    assert len(frames) == 10 and frames[0].shape == (412, 410, 3)  # 410x412 stays (even already)
    out2 = tmp_path / "resized.mp4"
    r = run_cli("run", "--input", testdata / "video/lp_s18.mp4", "--output", out2, "--effect", "none",
                "--max-frames", "5", "--size", "641x359")
    assert r.returncode == 0, r.stderr
    assert decode(out2)[0].shape == (360, 642, 3)  # padded to even sides for H.264


def test_images_and_folders_as_input(tmp_path, testdata):
    out = tmp_path / "imgs.mp4"
    r = run_cli("run", "--input", testdata / "expressions/yale", "--output", out, "--effect", "smile",
                "--fps", "5")
    assert r.returncode == 0, r.stderr
    frames = decode(out)
    assert len(frames) == 22  # one frame per image
    r = run_cli("run", "--input", testdata / "faces/face_recognition/32bit.png", "--output", "null",
                "--max-frames", "3", "--loop")
    assert r.returncode == 0, r.stderr


def test_demo_source_moves_and_has_a_face(tmp_path):
    out = tmp_path / "demo.mp4"
    r = run_cli("run", "--input", "demo", "--output", out, "--effect", "none", "--max-frames", "40",
                "--size", "640x360")
    assert r.returncode == 0, r.stderr
    frames = decode(out)
    assert len(frames) == 40 and frames[0].shape == (360, 640, 3)
    assert cv2.absdiff(frames[0], frames[39]).mean() > 3  # it pans and zooms
    from hookcam.faces.detect import FaceDetector

    d = FaceDetector()
    assert len(d.detect(frames[20])) == 1


def test_no_output_left_when_window_has_no_display(testdata):
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
    r = run_cli("run", "--input", testdata / CLIP, "--output", "window", env=env)
    assert r.returncode == 2
    lines = user_lines(r.stderr)
    assert any("no display" in ln for ln in lines)
    assert lines[-1].startswith("hookcam: no output left")


@pytest.mark.parametrize("clip", ["video/lp_s18.mp4", "video/tps_driving.mp4"])
def test_sticker_stays_on_small_and_frame_filling_faces(tmp_path, testdata, clip):
    """lp_s18: a person standing in a room; tps_driving: a face that fills the frame. With the
    smile threshold at 0 the sticker shows whenever the face is tracked: it must be there in
    (nearly) every frame and sit on the face the thorough detector finds in the source frame."""
    from hookcam.faces.detect import FaceDetector

    out = tmp_path / "out.mp4"
    r = run_cli("run", "--input", testdata / clip, "--output", out, "--effect", "smile",
                "--smile-on", "0.0", "--smile-off", "0.0", "--max-frames", "30")
    assert r.returncode == 0, r.stderr
    got, src = decode(out), decode(testdata / clip)[:30]
    assert len(got) == 30
    det = FaceDetector()
    on_face = 0
    for i in range(3, 30):
        changed = cv2.absdiff(got[i], src[i]).max(axis=2) > 60
        if changed.mean() < 0.002:
            continue
        ys, xs = np.nonzero(changed)
        cx, cy = float(np.median(xs)), float(np.median(ys))
        if i % 9 == 0:  # reference boxes on a few frames (the thorough detector is slow)
            (x, y, w, h), = [d.box for d in det.detect_all(src[i])][:1]
            assert x - 0.5 * w <= cx <= x + 1.5 * w and y - 0.8 * h <= cy <= y + 1.5 * h, (i, (cx, cy), (x, y, w, h))
        on_face += 1
    assert on_face >= 0.9 * 27, f"sticker in {on_face}/27 frames"
