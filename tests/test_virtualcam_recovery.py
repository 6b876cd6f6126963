"""A virtual camera that fails mid-run (issue 14): one line, the other outputs keep every frame,
retried every second, frames flow again when it is back. The FUSE v4l2loopback stand-in fails
on demand (RECORD_DIR/fail names an errno, see fuse_v4l2.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
from conftest import TESTDATA

from hookcam.errors import SinkError
from hookcam.sinks.retry import RetryingSink

CLIP = TESTDATA / "video/lp_d0.mp4"  # 25 fps
W = H = 128
FRAMES = 125  # 5 s paced


def test_device_fails_and_comes_back_mid_run(fuse_camera, tmp_path):
    raw = tmp_path / "out.raw"
    err = tmp_path / "stderr.log"
    with raw.open("wb") as out, err.open("wb") as log:
        p = subprocess.Popen(
            [sys.executable, "-m", "hookcam", "run", "--input", CLIP, "--loop", "--size", f"{W}x{H}",
             "--effect", "none", "--output", fuse_camera.device, "--output", "-", "--max-frames", str(FRAMES)],
            stdout=out, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not ((fuse_camera.record / "format.json").exists() and len(fuse_camera.frames()) >= 10):
                assert p.poll() is None and time.monotonic() < deadline, err.read_text()
                time.sleep(0.05)
            (fuse_camera.record / "fail").write_text("EIO")  # writes and opens now fail
            time.sleep(1.5)
            (fuse_camera.record / "fail").unlink()
            rc = p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
    stderr = err.read_text()
    assert rc == 0, stderr
    assert "Traceback" not in stderr and "error writing frame" not in stderr, stderr
    failed = [ln for ln in stderr.splitlines() if "stopped taking frames" in ln]
    back = [ln for ln in stderr.splitlines() if "is back" in ln]
    assert len(failed) == 1 and "retrying" in failed[0] and failed[0].startswith("hookcam: "), stderr
    assert len(back) == 1, stderr

    # The other output has every frame.
    size = W * H * 3
    data = raw.read_bytes()
    assert len(data) == FRAMES * size
    stdout_frames = np.frombuffer(data, np.uint8).reshape(FRAMES, H, W, 3)

    # The device got frames before the fault and again after it; some were missed in between.
    opens = [int(m.group(1)) for e in fuse_camera.events() if (m := re.search(r" open \d+ at (\d+)", e))]
    assert len(opens) >= 2, fuse_camera.events()
    i420 = W * H * 3 // 2
    device = fuse_camera.frames()
    after = len(device) - opens[-1] // i420
    assert after >= 15, (len(device), opens)
    assert len(device) < FRAMES - 10, len(device)
    import cv2

    last = cv2.cvtColor(device[-1], cv2.COLOR_YUV2BGR_I420).astype(int)
    assert np.abs(last - stdout_frames[-1]).mean() < 4  # the same picture as the last frame out


class Flaky:
    """A sink that fails while `broken` is set, and cannot be opened then either."""

    live = True
    name = "flaky camera"
    broken = False
    opened = 0

    def __init__(self):
        if Flaky.broken:
            raise SinkError("flaky camera cannot be opened")
        Flaky.opened += 1
        self.got = 0

    def send(self, image):
        if Flaky.broken:
            raise SinkError("flaky camera stopped taking frames (no such device)")
        self.got += 1

    def close(self):
        pass


def test_retrying_sink_reports_once_and_retries_at_its_interval():
    said = []
    Flaky.broken, Flaky.opened = False, 0
    sink = RetryingSink(Flaky, retry_every=0.2, log=said.append)
    img = np.zeros((4, 4, 3), np.uint8)
    sink.send(img)
    Flaky.broken = True
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5:  # frames keep coming while it is down: no exception
        sink.send(img)
        time.sleep(0.01)
    assert sink.down and sink.missed > 10 and len(said) == 1 and "retrying" in said[0]
    Flaky.broken = False
    t0 = time.monotonic()
    while sink.down and time.monotonic() - t0 < 1.0:
        sink.send(img)
        time.sleep(0.01)
    assert not sink.down and Flaky.opened == 2 and "is back" in said[-1] and len(said) == 2
    assert 0.1 <= time.monotonic() - t0 <= 0.5  # at the next retry, not at once nor never
    sink.send(img)
    assert sink.inner.got == 2  # the frame that found it back, and this one
    sink.close()
