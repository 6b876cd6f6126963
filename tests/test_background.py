"""Background blur and replacement on real pictures: a real green screen (the chroma key is the
true person mask), the NASA astronaut in front of a flag, and what the backdrops promise."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from conftest import decode_video, run_cli, user_lines

from hookcam.effects.background import BackgroundStage
from hookcam.effects.background.fill import Movie, Picture, parse_background
from hookcam.effects.background.mask import Mover, Refiner, Steady
from hookcam.errors import HookcamError

MAGENTA = (255, 0, 255)  # BGR; no person pixel is close to it
LETTERBOX_FROM = 480  # lp_d0's bottom rows are black letterbox (from row 485): left out


def chroma_key_person(bgr: np.ndarray) -> np.ndarray:
    """True where a pixel is not the green screen."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    green = (hsv[..., 0] >= 40) & (hsv[..., 0] <= 100) & (hsv[..., 1] > 60) & (hsv[..., 2] > 40)
    return ~green


def laplacian_var(bgr: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def coarse_sharpness(bgr: np.ndarray) -> float:
    return laplacian_var(cv2.resize(bgr, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def green_frames(testdata):
    return decode_video(testdata / "video/lp_d0.mp4")


def test_green_screen_replace_keeps_exactly_the_person(green_frames):
    stage = BackgroundStage("#ff00ff")
    stage.sync = True  # every frame gets its own mask, as file to file does
    ious, diffs = [], []
    try:
        for f in green_frames:
            out, _ = stage.process(f, [])
            assert out.shape == f.shape and f is not out
            key = chroma_key_person(f)[:LETTERBOX_FROM]
            o, src = out[:LETTERBOX_FROM].astype(np.int32), f[:LETTERBOX_FROM].astype(np.int32)
            # kept = the output pixel is closer to the camera pixel than to the new background
            kept = np.abs(o - src).sum(2) < np.abs(o - np.array(MAGENTA)).sum(2)
            ious.append((key & kept).sum() / (key | kept).sum())
            diffs.append(np.abs(o - src)[key].mean())
    finally:
        stage.close()
    assert len(ious) == 78
    assert np.mean(ious) >= 0.95 and min(ious) >= 0.93, (np.mean(ious), min(ious))
    assert np.mean(diffs) <= 4 and max(diffs) <= 6, (np.mean(diffs), max(diffs))
    # the background really is replaced: pixels outside the key are magenta
    outside = ~chroma_key_person(green_frames[-1])[:LETTERBOX_FROM]
    assert np.abs(out[:LETTERBOX_FROM][outside].astype(int) - MAGENTA).mean() < 20


def test_blur_flattens_the_flag_and_keeps_the_face(testdata):
    img = cv2.imread(str(testdata / "faces/skimage/astronaut.png"))
    stage = BackgroundStage("blur")
    stage.sync = True
    try:
        out, _ = stage.process(img, [])
    finally:
        stage.close()
    flag = (slice(0, 180), slice(0, 70))  # the textured US flag behind her, top left
    assert laplacian_var(out[flag]) <= 0.30 * laplacian_var(img[flag])
    from hookcam.faces.detect import FaceDetector

    d = FaceDetector()
    x, y, w, h = (int(v) for v in d.detect(img)[0].box)
    d.close()
    assert np.abs(out[y:y + h, x:x + w].astype(int) - img[y:y + h, x:x + w]).mean() <= 6
    assert out.shape == img.shape and not np.array_equal(out, img)


def test_mask_moves_with_the_person_between_segmentations(testdata):
    """A mask made for an older frame is warped to the newer one (the person moved 16 px)."""
    img = cv2.imread(str(testdata / "faces/skimage/astronaut.png"))
    moved = np.roll(img, 16, axis=1)
    stage = BackgroundStage("blur")
    try:
        then, now = stage.alpha(img) > 0.5, stage.alpha(moved) > 0.5
        q_then = cv2.resize(img, (128, 128), interpolation=cv2.INTER_AREA)
        q_now = cv2.resize(moved, (128, 128), interpolation=cv2.INTER_AREA)
        tiny = [cv2.resize(cv2.cvtColor(q, cv2.COLOR_BGR2GRAY), (160, 160)) for q in (q_then, q_now)]
        m = then.astype(np.float32)
        (warped,) = Mover().move([cv2.resize(m, (128, 128))], tiny[0], tiny[1])
        warped = cv2.resize(warped, (512, 512)) > 0.5
    finally:
        stage.close()

    def iou(a, b):
        return (a & b).sum() / (a | b).sum()

    assert iou(warped, now) > iou(then, now) + 0.02


def test_steady_mask_does_not_flicker_on_a_still_picture(testdata):
    img = cv2.imread(str(testdata / "faces/skimage/astronaut.png"))
    from hookcam.effects.background.segment import Segmenter

    seg, rng = Segmenter(), np.random.default_rng(0)
    raw = [seg.mask(np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)) for _ in range(6)]
    seg.close()
    steady = Steady()
    smooth = [steady(m) for m in raw]
    flicker_raw = np.mean([np.abs(a - b).mean() for a, b in zip(raw[2:], raw[3:])])
    flicker = np.mean([np.abs(a - b).mean() for a, b in zip(smooth[2:], smooth[3:])])
    assert flicker < 0.6 * flicker_raw


def test_refined_alpha_follows_the_frame_at_full_resolution(testdata):
    """The guided filter puts the edge where the full-resolution frame has it."""
    img = cv2.imread(str(testdata / "faces/skimage/astronaut.png"))
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA)
    mask = (small > 128).astype(np.float32)  # a mask that follows brightness
    a, b = Refiner().coefficients(small, cv2.GaussianBlur(mask, (0, 0), 2))
    alpha = Refiner.alpha(a, b, grey).astype(np.float32) / 255
    assert alpha.shape == grey.shape and alpha.min() == 0 and alpha.max() == 1
    truth = grey > 128
    plain = cv2.resize(cv2.GaussianBlur(mask, (0, 0), 2), (512, 512)) > 0.5
    assert (truth == (alpha > 0.5)).mean() > (truth == plain).mean()


def test_picture_is_fitted_without_distortion(tmp_path):
    pic = np.full((100, 200, 3), 255, np.uint8)
    cv2.circle(pic, (100, 50), 40, (0, 0, 0), -1)
    path = tmp_path / "round.png"
    cv2.imwrite(str(path), pic)
    out = Picture(path).frame(np.zeros((480, 640, 3), np.uint8))
    assert out.shape == (480, 640, 3)
    ys, xs = np.nonzero(out[..., 0] < 128)
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert abs(w - h) <= 3, (w, h)  # still a circle


def test_replacement_video_loops(tmp_path):
    path = tmp_path / "five.mp4"
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for col in colours:
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), col, np.uint8), format="bgr24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    movie = Movie(path)
    try:
        got = [movie.frame(np.zeros((90, 160, 3), np.uint8)) for _ in range(12)]
    finally:
        movie.close()
    assert got[0].shape == (90, 160, 3)
    means = [g.reshape(-1, 3).mean(0) for g in got]
    for i in range(12):
        assert np.abs(means[i] - colours[i % 5]).max() < 20, (i, means[i])


def test_background_values_parse():
    assert parse_background("blur") == "blur" and parse_background("none") == "none"
    assert parse_background("#1E90ff") == "colour" and parse_background("room.jpg") == "file"
    for bad in ("#12345", "#gggggg", "#1234567"):
        with pytest.raises(HookcamError, match="#RRGGBB"):
            parse_background(bad)


@pytest.mark.parametrize("kind", ["missing", "corrupt image", "corrupt video", "bad colour"])
def test_bad_background_is_one_line_and_exit_2(kind, tmp_path, testdata):
    value = {"missing": str(tmp_path / "nope.jpg"), "bad colour": "#12345"}.get(kind)
    if kind == "corrupt image":
        value = str(tmp_path / "broken.png")
        (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 50)
    if kind == "corrupt video":
        value = str(tmp_path / "broken.mp4")
        (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", "null", "--max-frames", "2",
                "--background", value)
    assert r.returncode == 2, r.stderr
    lines = user_lines(r.stderr)
    assert len(lines) == 1 and lines[0].startswith("hookcam: ") and "Traceback" not in r.stderr, r.stderr
    assert ("background" in lines[0]) or ("#RRGGBB" in lines[0])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # inputs never written


def test_virtual_camera_blur_with_smile_sticker(fuse_camera, testdata, ground_truth, green_frames):
    """End to end through the FUSE virtual camera: background blurred, sticker still on the face."""
    r = run_cli("run", "--input", testdata / "video/lp_d0.mp4", "--output", fuse_camera.device,
                "--effect", "smile", "--background", "blur")
    assert r.returncode == 0, r.stderr
    out = [cv2.cvtColor(f, cv2.COLOR_YUV2BGR_I420) for f in fuse_camera.frames()]
    assert len(out) == 78
    for i in (5, 75):  # neutral frames (no sticker): the person is untouched
        key = chroma_key_person(green_frames[i])
        person = cv2.erode(key.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
        person[LETTERBOX_FROM - 20:] = False
        assert np.abs(out[i].astype(int) - green_frames[i])[person].mean() <= 6, i
    # the sticker: in the smiling frames, beside the face (over the blurred background)
    segs = ground_truth["video/lp_d0.mp4"]["smile_segments"]
    smiling = [i for a, b in segs["smiling_teeth"] for i in range(a + 8, b + 1)]
    neutral = [i for a, b in segs["neutral"] for i in range(a, b + 1) if i < 18 or i > 72]

    def sticker(i):  # share of strongly changed pixels, against the blurred neighbour frames
        ref = out[neutral[0]] if i > 40 else out[neutral[-1]]
        return float((cv2.absdiff(out[i], ref).max(axis=2) > 80).mean())

    with_sticker = [i for i in smiling if sticker(i) > 0.01]
    assert len(with_sticker) >= 0.9 * len(smiling), f"sticker in {len(with_sticker)}/{len(smiling)}"
    assert not [i for i in neutral if sticker(i) > 0.01]


def test_virtual_camera_blur_on_a_room(fuse_camera, testdata):
    """The same command on a clip with a real room behind the person: the room is blurred, the
    face is not."""
    r = run_cli("run", "--input", testdata / "video/lp_s18.mp4", "--output", fuse_camera.device,
                "--effect", "smile", "--background", "blur", "--max-frames", "30")
    assert r.returncode == 0, r.stderr
    out = [cv2.cvtColor(f, cv2.COLOR_YUV2BGR_I420) for f in fuse_camera.frames()]
    src = decode_video(testdata / "video/lp_s18.mp4")[:30]
    assert len(out) == 30
    from hookcam.faces.detect import FaceDetector

    d = FaceDetector()
    for i in (10, 29):
        room = (slice(0, 720), slice(0, 400))  # left of the person (she stands at x 550-1000)
        # at quarter size: the room's own detail (already soft in this clip) without the I420 noise
        assert coarse_sharpness(out[i][room]) <= 0.3 * coarse_sharpness(src[i][room]), i
        x, y, w, h = (int(v) for v in d.detect(src[i])[0].box)
        assert np.abs(out[i][y:y + h, x:x + w].astype(int) - src[i][y:y + h, x:x + w]).mean() <= 6
    d.close()
