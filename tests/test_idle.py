"""Idle while no app reads the virtual camera: the inotify reader counter, the watcher driving
`Pipeline.set_idle` through the FUSE v4l2loopback stand-in, and the pipeline side (camera
released while idle, reopened within a second after).

inotify does see opens of the FUSE file: the events come from the kernel's VFS on open/close
of any file, whatever filesystem serves it (what FUSE cannot report are changes made behind
the kernel's back, which does not matter here). So the FUSE test below exercises the real path:
pyvirtualcam opens the "device", the watcher starts, the test opens/closes it as a reader would.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

from conftest import TESTDATA

from hookcam.control.idle import IdleWatcher, ReaderCounter, open_elsewhere, start_idle_watcher
from hookcam.errors import SourceLost
from hookcam.pipeline import Pipeline
from hookcam.settings import make_settings
from hookcam.sources.video import VideoSource
from hookcam.types import SourceInfo

CLIP = TESTDATA / "video/lp_d0.mp4"


class LiveClip:
    """A camera stand-in (no webcam on CI): a clip at 25 fps, `live=True`, recording when the
    pipeline closes (releases) and reopens it. Reading a released camera fails as a real one would."""

    def __init__(self):
        self.video = VideoSource(CLIP, loop=True)
        self.info = SourceInfo(self.video.info.width, self.video.info.height, 25.0, "camera",
                               "test camera", live=True)
        self.is_open = True
        self.reads = 0
        self.closes: list[float] = []
        self.reopens: list[float] = []

    def read(self):
        if not self.is_open:
            raise SourceLost("read from a released camera")
        time.sleep(1 / 25)
        self.reads += 1
        return self.video.read()

    def close(self):
        self.is_open = False
        self.closes.append(time.monotonic())

    def reopen(self):
        self.is_open = True
        self.reopens.append(time.monotonic())


class CountingSink:
    name, live = "counting", True

    def __init__(self):
        self.times: list[float] = []

    def send(self, image):
        self.times.append(time.monotonic())

    def close(self):
        pass

    def rate(self, seconds: float) -> float:
        now = time.monotonic()
        return sum(1 for t in self.times if now - t <= seconds) / seconds


def wait_for(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


def start(pipe):
    th = threading.Thread(target=pipe.run, daemon=True)
    th.start()
    return th


def hold_open(path, mode="rb") -> subprocess.Popen:
    """Another process (as Zoom or a browser would be) holding `path` open until killed."""
    with open(path, mode) as f:
        return subprocess.Popen(["sleep", "60"], stdin=f)


def let_go(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def settle(c: ReaderCounter, seconds: float = 0.8) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        c.poll(0.1)
    return c.readers


def test_reader_counter_on_a_regular_file(tmp_path):
    f = tmp_path / "video9"
    f.write_bytes(b"")
    early = hold_open(f)  # a reader from before the watch: found in /proc
    c = ReaderCounter(f)
    try:
        assert c.readers == 1
        a = hold_open(f)
        b = hold_open(f, "r+b")  # browsers open V4L2 devices read-write
        assert settle(c) == 3  # two opens at once may merge into one inotify event: /proc fixes it
        assert open_elsewhere(f) == (3, True) or os.geteuid() != 0
        let_go(early)
        assert settle(c) == 2
        let_go(a)
        assert settle(c) == 1
        mine = open(f, "rb")  # our own process (the writer) never counts
        assert settle(c) == 1
        mine.close()
        let_go(b)
        assert settle(c) == 0
    finally:
        c.close()


def test_pipeline_idle_releases_and_reopens_a_live_source():
    cam, sink = LiveClip(), CountingSink()
    pipe = Pipeline(make_settings(input="0", outputs=["null"], effect="none"), cam, [sink])
    th = start(pipe)
    try:
        wait_for(lambda: len(sink.times) > 10, 10, "first frames")
        pipe.set_idle(True)
        wait_for(lambda: not cam.is_open, 1.0, "camera released")
        reads = cam.reads
        time.sleep(2.0)
        assert cam.reads == reads, "the camera was read while idle"
        assert 1 <= sink.rate(2.0) <= 4, "still frames at a low rate keep the device alive"
        t = time.monotonic()
        pipe.set_idle(False)
        wait_for(lambda: cam.is_open and cam.reads > reads + 5, 2.0, "camera back and read")
        assert cam.reopens[-1] - t < 1.0
        time.sleep(1.0)
        assert sink.rate(1.0) > 12
    finally:
        pipe.stop()
        th.join(10)
        cam.video.close()
    assert pipe.error is None


def test_file_sources_and_plain_outputs_get_no_watcher(tmp_path):
    video = VideoSource(CLIP)
    pipe = Pipeline(make_settings(input=str(CLIP), outputs=["null"], effect="none"), video, [CountingSink()])
    try:
        assert start_idle_watcher(pipe) is None  # not live
        cam = LiveClip()
        pipe2 = Pipeline(make_settings(input="0", outputs=["null"], effect="none"), cam, [CountingSink()])
        assert start_idle_watcher(pipe2) is None  # no v4l2loopback output
        cam.video.close()
    finally:
        video.close()


def test_idle_follows_readers_of_the_fuse_virtual_camera(fuse_camera):
    from hookcam.sinks.virtualcam import VirtualCamSink

    cam = LiveClip()
    sink = VirtualCamSink(str(fuse_camera.device), cam.info.width, cam.info.height, 25.0)
    pipe = Pipeline(make_settings(input="0", outputs=[str(fuse_camera.device)], effect="none"), cam, [sink])
    watcher = start_idle_watcher(pipe, idle_after=1.0, log=lambda m: None)
    assert isinstance(watcher, IdleWatcher) and watcher.device == str(fuse_camera.device)
    th = start(pipe)
    try:
        # Nobody reads: after ~1 s the camera is released.
        wait_for(lambda: pipe.idle and not cam.is_open, 3.0, "idle without readers")
        assert cam.reads > 0
        # An app opens the virtual camera: the camera is back within a second.
        t = time.monotonic()
        reader = hold_open(fuse_camera.device)
        wait_for(lambda: not pipe.idle and cam.is_open, 1.0, "resume on open")
        assert watcher.readers == 1 and cam.reopens[-1] - t < 1.0
        time.sleep(1.5)  # a reader keeps it awake past idle_after
        assert not pipe.idle
        let_go(reader)
        wait_for(lambda: pipe.idle and not cam.is_open, 2.5, "idle again after the reader left")
        # --always-on (here changed live) wakes it and keeps it awake.
        pipe.update(always_on=True)
        wait_for(lambda: not pipe.idle and cam.is_open, 1.0, "always_on resumes")
        time.sleep(1.5)
        assert not pipe.idle
    finally:
        watcher.stop()
        pipe.stop()
        th.join(10)
        cam.video.close()
    assert pipe.error is None
    opens = [e for e in fuse_camera.events() if " open " in e]
    assert len(opens) >= 2  # our writer + the test's reader went through the FUSE device
