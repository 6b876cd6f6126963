"""Shared fixtures: where the test data lives, how to run the CLI, and the FUSE virtual camera."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TESTDATA = SHARED / "testdata"
MODELS = SHARED / "models"


def pytest_configure(config):
    os.environ.setdefault("GLOG_minloglevel", "2")
    # Keep a user's own ~/.config/hookcam/config.toml out of the tests, and the control page
    # off unless a test asks for it (tests/test_control.py sets its own HOOKCAM_CONFIG).
    import tempfile

    cfg = Path(tempfile.mkdtemp(prefix="hookcam-test-config-")) / "config.toml"
    cfg.write_text("control = false\n")
    os.environ["HOOKCAM_CONFIG"] = str(cfg)


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"test data not found at {TESTDATA}: the repo must sit beside ../shared")
    return TESTDATA


@pytest.fixture(scope="session")
def ground_truth(testdata) -> dict:
    return json.loads((testdata / "ground_truth.json").read_text())["files"]


@dataclass
class CliResult:
    returncode: int
    stdout: bytes
    stderr: str


def decode_video(path) -> list[np.ndarray]:
    """Every frame of a video file, 8-bit BGR (PyAV)."""
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def run_cli(*args, timeout: float = 180, env: dict | None = None, cwd=None) -> CliResult:
    """Run `python -m hookcam ARGS` as a user would, in a fresh process."""
    full_env = {**os.environ, **(env or {})}
    p = subprocess.run([sys.executable, "-m", "hookcam", *map(str, args)], capture_output=True,
                       timeout=timeout, env=full_env, cwd=cwd)
    return CliResult(p.returncode, p.stdout, p.stderr.decode(errors="replace"))


@pytest.fixture
def cli():
    return run_cli


def user_lines(stderr: str) -> list[str]:
    """stderr without the native libraries' own log noise (TFLite/absl/glog)."""
    noise = ("INFO: Created TensorFlow", "WARNING: All log messages", "W0000", "I0000", "E0000")
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(noise)]


@dataclass
class FuseCamera:
    device: Path
    record: Path

    def format(self) -> dict:
        return json.loads((self.record / "format.json").read_text())

    def frames(self) -> np.ndarray:
        """The I420 frames written so far, as (n, height*3/2, width) uint8 arrays."""
        fmt = self.format()
        w, h = fmt["width"], fmt["height"]
        raw = np.fromfile(self.record / "frames.raw", dtype=np.uint8)
        n = raw.size // (w * h * 3 // 2)
        return raw[: n * w * h * 3 // 2].reshape(n, h * 3 // 2, w)

    def bgr(self, i: int) -> np.ndarray:
        import cv2

        return cv2.cvtColor(self.frames()[i], cv2.COLOR_YUV2BGR_I420)

    def events(self) -> list[str]:
        p = self.record / "events.log"
        return p.read_text().split("\n") if p.exists() else []


@pytest.fixture
def fuse_camera(tmp_path):
    """A v4l2loopback stand-in (see fuse_v4l2.py) mounted for one test."""
    reason = _fuse_unavailable()
    if reason:
        pytest.skip(f"FUSE virtual camera unavailable: {reason}")
    mnt, rec = tmp_path / "mnt", tmp_path / "rec"
    mnt.mkdir()
    rec.mkdir()
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "fuse_v4l2.py"), str(mnt), str(rec)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    device = mnt / "video9"
    deadline = time.monotonic() + 10
    while not device.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
            proc.kill()
            pytest.skip(f"FUSE virtual camera unavailable: mount failed: {out.strip()[-300:]}")
        time.sleep(0.05)
    try:
        yield FuseCamera(device, rec)
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], capture_output=True)
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _fuse_unavailable() -> str | None:
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing"
    try:
        import fuse  # noqa: F401  (fusepy loads libfuse.so.2 on import)
    except (ImportError, OSError) as e:
        return f"fusepy/libfuse2 not usable ({e}); install fusepy and Debian's libfuse2"
    return None
