"""Every user mistake: one line on stderr that says what to do, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import run_cli, user_lines


def assert_one_line_error(r, *words):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in user_lines(r.stderr) if not ln.startswith(("hookcam: input ", "hookcam: output "))]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("hookcam: ")
    for w in words:
        assert w.lower() in line.lower(), line


def test_missing_file(tmp_path):
    assert_one_line_error(run_cli("run", "--input", tmp_path / "nope.mp4", "--output", "null"),
                          "no such file")


def test_truncated_video(tmp_path, testdata):
    bad = tmp_path / "cut.mp4"
    data = (testdata / "video/lp_d12.mp4").read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    assert_one_line_error(run_cli("run", "--input", bad, "--output", "null"), "cut.mp4", "video")


def test_video_damaged_in_the_middle_keeps_good_frames(tmp_path, testdata):
    """A file whose index is fine but whose data is cut: the frames before the damage are
    written (file finalised), then one line and a non-zero exit."""
    src = tmp_path / "faststart.mp4"
    subprocess.run([sys.executable, "-c", f"""
import av
inp = av.open({str(testdata / 'video/lp_d0.mp4')!r}); out = av.open({str(src)!r}, 'w', options={{'movflags': 'faststart'}})
s = out.add_stream_from_template(inp.streams.video[0])
for p in inp.demux(inp.streams.video[0]):
    if p.dts is None: continue
    p.stream = s; out.mux(p)
out.close()
"""], check=True)
    data = src.read_bytes()
    cut = tmp_path / "cut_fast.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "partial.mp4"
    r = run_cli("run", "--input", cut, "--output", out, "--effect", "none")
    import av

    with av.open(str(out)) as c:
        n = sum(1 for _ in c.decode(video=0))
    if r.returncode == 0:  # FFmpeg may just end the stream early without an error
        assert 0 < n < 78
    else:
        assert_one_line_error(r, "cut_fast.mp4")
        assert n > 10


def test_image_that_is_not_an_image(tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_text("this is not a picture")
    assert_one_line_error(run_cli("run", "--input", bad, "--output", "null"), "photo.jpg")


def test_camera_that_does_not_exist():
    assert_one_line_error(run_cli("run", "--input", "7", "--output", "null"), "camera 7")


def test_missing_output_device(testdata):
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", "/dev/video9")
    assert_one_line_error(r, "/dev/video9", "modprobe v4l2loopback")


def test_output_device_that_is_not_a_loopback(tmp_path, testdata):
    fake = tmp_path / "video5"
    fake.write_bytes(b"")
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", fake)
    assert_one_line_error(r, "video5")


def test_output_in_read_only_folder(tmp_path, testdata):
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = False
    if os.geteuid() == 0:  # root ignores permissions: use a read-only mount instead
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)],
                                 capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("running as root and cannot mount a read-only tmpfs")
    else:
        ro.chmod(0o555)
    try:
        r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", ro / "out.mp4")
        assert_one_line_error(r, "out.mp4")
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)])
        else:
            ro.chmod(0o755)


def test_output_folder_missing(tmp_path, testdata):
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", tmp_path / "no/dir/out.mp4")
    assert_one_line_error(r, "does not exist")


@pytest.mark.parametrize("size", ["1280", "12x7x3", "abcxdef", "99999x99999", "0x0"])
def test_bad_size(size, testdata):
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", "null", "--size", size)
    assert_one_line_error(r, "--size")


def test_bad_setting_values(testdata):
    clip = testdata / "video/lp_d0.mp4"
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "null", "--fps", "-3"), "fps")
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "null", "--smile-on", "0.3",
                                  "--smile-off", "0.5"), "smile_off")
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "bogus"), "unknown output")


def test_bad_sticker_packs(tmp_path, testdata):
    clip = testdata / "video/lp_d0.mp4"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "null", "--stickers", empty),
                          "manifest.toml")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "manifest.toml").write_text('[stickers.smile]\nfile = "smile.png"\n')
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "null", "--stickers", pack),
                          "smile.png", "missing")
    (pack / "smile.png").write_bytes(b"GIF89a not a png")
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "null", "--stickers", pack),
                          "not a PNG")
    (pack / "manifest.toml").write_text('[stickers.smile\nfile = "smile.png"\n')
    assert_one_line_error(run_cli("run", "--input", clip, "--output", "null", "--stickers", pack),
                          "manifest.toml")


def test_analyze_missing_file_is_one_line(tmp_path):
    assert_one_line_error(run_cli("analyze", tmp_path / "nope.png", "--json"), "nope.png")
