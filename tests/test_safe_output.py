"""Output files never cost the user data: the input is never the output, a hard-killed run leaves a
file that plays, an existing output survives a failed run, a full disk is one line, and the
input's sound goes through in sync."""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time

import av
import numpy as np
import pytest
from conftest import CliResult, run_cli, user_lines
from test_bad_input import assert_one_line_error

SMALL = ("--size", "320x180", "--effect", "none")
FRAME = 320 * 180 * 3  # one raw bgr24 frame on stdout


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def partial_of(path):
    return path.with_name(f".{path.stem}.hookcam-partial{path.suffix}")


def count_frames(path) -> int:
    """Frames that decode, up to the first damage (a killed run may cut its last packet)."""
    n = 0
    try:
        with av.open(str(path)) as c:
            for _ in c.decode(video=0):
                n += 1
    except av.FFmpegError:
        pass
    return n


# ------------------------------------------------------------------ the input is never the output
@pytest.mark.parametrize("spelling", ["same", "symlink", "dotdot", "hardlink"])
def test_input_as_output_is_refused(tmp_path, testdata, spelling):
    clip = tmp_path / "clip.mp4"
    shutil.copy(testdata / "video/lp_d0.mp4", clip)
    before = sha(clip)
    (tmp_path / "sub").mkdir()
    if spelling == "same":
        out = clip
    elif spelling == "symlink":
        out = tmp_path / "link.mp4"
        out.symlink_to(clip)
    elif spelling == "dotdot":
        out = f"./sub/../{clip.name}"
    else:
        out = tmp_path / "hard.mp4"
        os.link(clip, out)
    r = run_cli("run", "--input", clip, "--output", out, *SMALL, cwd=tmp_path)
    assert_one_line_error(r, "input file")
    assert sha(clip) == before
    assert not list(tmp_path.glob(".*hookcam-partial*"))


# ------------------------------------------------------------------ an existing output survives failures
def test_existing_output_kept_when_the_run_fails_to_start(tmp_path, testdata):
    out = tmp_path / "out.mp4"
    shutil.copy(testdata / "video/lp_d0.mp4", out)
    before = sha(out)
    # The file sink opens, then the second output is refused.
    r = run_cli("run", "--input", testdata / "video/lp_s32.mp4", "--output", out, "--output", "bogus", *SMALL)
    assert_one_line_error(r, "unknown output")
    assert sha(out) == before
    assert not partial_of(out).exists()
    # A new output of a run that fails before its first frame is not left behind either.
    new = tmp_path / "new.mp4"
    r = run_cli("run", "--input", testdata / "video/lp_s32.mp4", "--output", new, "--output", "bogus", *SMALL)
    assert r.returncode != 0 and not new.exists()


def test_existing_output_kept_when_the_run_fails_mid_way(tmp_path, testdata):
    """Another output fails after 30 frames (its reader goes away): the old file stays as it was;
    the frames written so far play, beside it, and one line says where they are."""
    out = tmp_path / "out.mp4"
    shutil.copy(testdata / "video/lp_d0.mp4", out)
    before = sha(out)
    p = subprocess.Popen([sys.executable, "-m", "hookcam", "run", "--input", testdata / "video/lp_s32.mp4",
                          "--output", out, "--output", "-", *SMALL], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        got = 0
        while got < 30 * FRAME:
            chunk = p.stdout.read1(1 << 20)
            assert chunk, "hookcam stopped early"
            got += len(chunk)
        p.stdout.close()
        stderr = p.stderr.read().decode(errors="replace")
        assert p.wait(timeout=60) != 0 and "Traceback" not in stderr, stderr
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert sha(out) == before
    assert count_frames(partial_of(out)) >= 25
    assert any("unchanged" in ln and partial_of(out).name in ln for ln in user_lines(stderr)), stderr


def test_a_run_stopped_before_its_first_frame_replaces_nothing(tmp_path, testdata):
    from hookcam.sinks.video import VideoFileSink

    out = tmp_path / "out.mp4"
    shutil.copy(testdata / "video/lp_d0.mp4", out)
    before = sha(out)
    VideoFileSink(out, 64, 48, 25).close()  # e.g. Ctrl-C while the camera was still opening
    assert sha(out) == before and not partial_of(out).exists()
    new = tmp_path / "new.mp4"
    VideoFileSink(new, 64, 48, 25).close()
    assert not new.exists()
    sink = VideoFileSink(out, 64, 48, 25)
    for i in range(5):
        sink.send(np.full((48, 64, 3), 40 * i, np.uint8))
    sink.close()
    assert count_frames(out) == 5 and not partial_of(out).exists()


# ------------------------------------------------------------------ hard kills and signals
class PacedRun:
    """`hookcam run --realtime` writing a file and raw frames on stdout; the frames read from
    stdout say how many the file sink had been given (it is sent each frame first)."""

    def __init__(self, testdata, out):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hookcam", "run", "--input", testdata / "video/lp_s32.mp4", "--loop",
             "--realtime", "--output", out, "--output", "-", *SMALL],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.seen: list[float] = []  # time each frame arrived on stdout
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def _read(self):
        buf = 0
        while chunk := self.proc.stdout.read1(1 << 20):
            buf += len(chunk)
            while buf >= FRAME:
                buf -= FRAME
                self.seen.append(time.monotonic())

    def wait_frames(self, n: int, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while len(self.seen) < n:
            assert self.proc.poll() is None, "hookcam stopped early"
            assert time.monotonic() < deadline, f"only {len(self.seen)} frames in {timeout} s"
            time.sleep(0.02)

    def signal(self, sig) -> float:
        t = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=5)
        return t

    def sent_before(self, t: float) -> int:
        return sum(1 for s in self.seen if s <= t)


@pytest.fixture
def paced(testdata):
    """Starts PacedRuns; any still running when the test ends (a failed test) is killed."""
    runs = []

    def start(out) -> PacedRun:
        runs.append(PacedRun(testdata, out))
        return runs[-1]

    yield start
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def test_sigkill_leaves_a_new_output_that_plays(tmp_path, paced):
    out = tmp_path / "new.mp4"
    run = paced(out)
    run.wait_frames(100)  # a little over 3 s at 30 fps
    killed = run.signal(signal.SIGKILL)
    expected = run.sent_before(killed - 1.0)
    assert expected >= 60
    assert out.exists() and not partial_of(out).exists()  # under its own name
    assert count_frames(out) >= expected


def test_sigkill_leaves_an_existing_output_intact_and_the_partial_beside_it(tmp_path, testdata, paced):
    out = tmp_path / "out.mkv"
    shutil.copy(testdata / "video/lp_d0.mp4", out)
    before = sha(out)
    run = paced(out)
    run.wait_frames(100)
    killed = run.signal(signal.SIGKILL)
    assert sha(out) == before
    assert count_frames(partial_of(out)) >= run.sent_before(killed - 1.0) >= 60


def test_sigterm_replaces_an_existing_output_with_the_finished_file(tmp_path, testdata, paced):
    out = tmp_path / "out.mp4"
    shutil.copy(testdata / "video/lp_d0.mp4", out)
    run = paced(out)
    run.wait_frames(45)
    run.signal(signal.SIGTERM)
    assert run.proc.returncode == 0
    assert not partial_of(out).exists()
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.width == 320  # the new file, finalised
        n = sum(1 for _ in c.decode(video=0))
    assert n >= 45 and abs(n - len(run.seen)) <= 1


# ------------------------------------------------------------------ a full disk mid-run
def test_full_disk_mid_run_is_one_line_and_keeps_what_was_written(tmp_path, testdata):
    small = tmp_path / "small"
    small.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode == 0
    out = small / "out.mp4"
    args = [sys.executable, "-m", "hookcam", "run", "--input", testdata / "video/lp_s32.mp4", "--loop",
            "--max-frames", "900", "--output", out, *SMALL]
    limit = None if mounted else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10)))
    try:
        p = subprocess.run(args, capture_output=True, timeout=180, preexec_fn=limit)
        r = CliResult(p.returncode, p.stdout, p.stderr.decode(errors="replace"))
        assert_one_line_error(r, "writing", "out.mp4", "free some space")
        assert count_frames(out) >= 30
    finally:
        if mounted:
            subprocess.run(["umount", str(small)])


def test_full_disk_behind_stdout_is_one_line(testdata):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "hookcam", "run", "--input", testdata / "video/lp_d0.mp4",
                            "--output", "-", *SMALL], stdout=full, stderr=subprocess.PIPE, timeout=120)
    r = CliResult(p.returncode, b"", p.stderr.decode(errors="replace"))
    lines = [ln for ln in user_lines(r.stderr) if not ln.startswith("hookcam: raw video on stdout")]
    assert_one_line_error(CliResult(r.returncode, b"", "\n".join(lines)), "stdout", "no space left")


# ------------------------------------------------------------------ sound
def _decode_audio(path) -> tuple[np.ndarray, int, float]:
    """Mono samples, rate, and the first sample's time."""
    with av.open(str(path)) as c:
        frames = list(c.decode(audio=0))
    data = np.concatenate([f.to_ndarray().reshape(len(f.layout.channels), -1) for f in frames], axis=1)
    return data.mean(axis=0), frames[0].sample_rate, float(frames[0].time or 0.0)


def _loudness(sound: np.ndarray, rate: int, step: float) -> np.ndarray:
    n = int(rate * step)
    k = len(sound) // n
    return np.sqrt((sound[: k * n].reshape(k, n) ** 2).mean(axis=1))


def _video_span(path) -> tuple[float, float, int]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        times = [f.time for f in c.decode(v)]
        return times[0], times[-1] + 1 / float(v.average_rate), len(times)


def test_audio_goes_through_in_sync(tmp_path, testdata):
    # This clip's video starts 0.85 s after its sound: the output starts both at the first frame.
    clip = testdata / "video/fr_short_hamilton_clip.mp4"
    out = tmp_path / "out.mp4"
    r = run_cli("run", "--input", clip, "--output", out, *SMALL)
    assert r.returncode == 0, r.stderr
    v0, v1, n = _video_span(out)
    assert n == 275 and abs(v0) < 1e-6
    sound, rate, a0 = _decode_audio(out)
    frame = 1 / 29.97
    assert abs(a0 - v0) <= frame
    assert abs(a0 + len(sound) / rate - v1) <= frame, (a0 + len(sound) / rate, v1)
    # In step with the input's sound: the lag of best correlation is under half a frame.
    ref, ref_rate, ref0 = _decode_audio(clip)
    assert ref_rate == rate
    ref = ref[round((_video_span(clip)[0] - ref0) * rate):]  # the input's sound from its first frame on
    m = min(len(ref), len(sound)) - rate // 5
    lags = range(-rate // 5, rate // 5, 4)
    score = [np.dot(ref[rate // 5: m], sound[rate // 5 + lag: m + lag]) for lag in lags]
    best = int(np.argmax(score))
    assert abs(lags[best] / rate) < frame / 2, f"sound is {lags[best] / rate * 1000:.0f} ms off"
    assert np.corrcoef(ref[rate // 5: m], sound[rate // 5 + lags[best]: m + lags[best]])[0, 1] > 0.9

    r = run_cli("run", "--input", testdata / "video/lp_s32.mp4", "--output", tmp_path / "silent.mp4",
                "--no-audio", *SMALL)
    assert r.returncode == 0
    with av.open(str(tmp_path / "silent.mp4")) as c:
        assert not c.streams.audio and c.streams.video


def test_audio_follows_a_new_frame_rate_and_clips_without_sound_say_nothing(tmp_path, testdata):
    out = tmp_path / "fast.mkv"
    # lp_d12: 25 fps with AAC; at 50 fps the video lasts half as long, and so does the sound.
    r = run_cli("run", "--input", testdata / "video/lp_d12.mp4", "--fps", "50", "--output", out, *SMALL)
    assert r.returncode == 0, r.stderr
    v0, v1, n = _video_span(out)
    sound, rate, a0 = _decode_audio(out)
    assert n == 183 and abs(v1 - v0 - n / 50) < 1e-3
    assert abs(a0 - v0) <= 1 / 50 and abs(a0 + len(sound) / rate - v1) <= 1 / 50
    # The input's sound played twice as fast: loudness over time (20 ms steps) follows the
    # input's in 40 ms steps.
    ref, _, _ = _decode_audio(testdata / "video/lp_d12.mp4")
    fast, slow = _loudness(sound, rate, 0.02), _loudness(ref, rate, 0.04)
    k = min(len(fast), len(slow))
    assert np.corrcoef(fast[:k], slow[:k])[0, 1] > 0.8
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", tmp_path / "d0.mp4", *SMALL)
    assert r.returncode == 0
    said = [ln for ln in user_lines(r.stderr) if not ln.startswith(("hookcam: input ", "hookcam: output "))]
    assert not [ln for ln in said if "audio" in ln.lower() or "sound" in ln.lower()], said
    with av.open(str(tmp_path / "d0.mp4")) as c:
        assert not c.streams.audio
