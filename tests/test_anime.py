"""The anime effect on real data: alignment, blending, fallback, the GAN models, no-face frames."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hookcam.effects.anime import AnimeEffect
from hookcam.effects.anime import stylizer as stylizer_mod
from hookcam.effects.anime.align import Placement, crop_face, crop_matrix, placement
from hookcam.effects.anime.blend import ellipse_mask, paste
from hookcam.effects.anime.classical import cartoon
from hookcam.settings import make_settings
from hookcam.types import Face

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
MODELS = SHARED / "models"
FACES = SHARED / "testdata" / "faces" / "insightface"
VIDEO = SHARED / "testdata" / "video"


@pytest.fixture(scope="module")
def detector():
    from hookcam.faces.detect import FaceDetector

    d = FaceDetector()
    yield d
    d.close()


def _store(tmp_path, model_dir=MODELS):
    from hookcam.models import ModelStore

    return ModelStore(model_dir, cache_dir=tmp_path / "cache")


def _face(det) -> Face:
    return Face(0, det.box, det.score, keypoints=det.keypoints, roll=det.roll)


def _rotate_points(pts: np.ndarray, shape: tuple[int, int], k: int) -> np.ndarray:
    """Where pixel centres go under np.rot90(image, k) (counter-clockwise quarter turns)."""
    h, w = shape
    out = pts.astype(np.float64).copy()
    for _ in range(k % 4):
        x, y = out[:, 0].copy(), out[:, 1].copy()
        out[:, 0], out[:, 1] = y, (w - 1) - x
        h, w = w, h
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    b = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


# ---------------------------------------------------------------------------- alignment


def test_aligned_crops_of_rotated_faces_are_upright_and_equal(detector):
    """rot_90/180/270 are rot_0 turned. BlazeFace misplaces keypoints on sideways and
    upside-down faces (and misses rot_270), so the detector's keypoints of rot_0 are carried
    over by the same turn: the aligned crops must then all match rot_0's, eyes level."""
    img0 = cv2.imread(str(FACES / "rot_0.png"))
    d0 = detector.detect(img0)[0]
    p0 = placement(d0.box, d0.keypoints, d0.roll, "tight")
    crop0 = crop_face(img0, p0, 128)
    # Eyes level and above the mouth in the crop.
    m = crop_matrix(p0, 128)
    kp = d0.keypoints[:4] @ m[:, :2].T + m[:, 2]
    assert abs(kp[0, 1] - kp[1, 1]) < 3 and kp[0, 0] < kp[1, 0]
    assert kp[3, 1] > max(kp[0, 1], kp[1, 1]) + 15
    for deg, k in ((90, 3), (180, 2), (270, 1)):
        img = cv2.imread(str(FACES / f"rot_{deg}.png"))
        assert np.array_equal(img, np.rot90(img0, k))
        kps = _rotate_points(d0.keypoints, img0.shape[:2], k).astype(np.float32)
        p = placement((0, 0, 1, 1), kps, 0.0, "tight")
        crop = crop_face(img, p, 128)
        assert _corr(crop, crop0) > 0.97, deg
        # Without alignment (same crop, no un-rotation) it would not match.
        unaligned = crop_face(img, Placement(p.cx, p.cy, p.side, 0.0), 128)
        assert _corr(unaligned, crop0) < 0.8, deg


def test_alignment_with_detector_keypoints_on_a_rolled_face(detector):
    """rot_0 tilted by 25 degrees: the detector's own keypoints level the eyes again."""
    img0 = cv2.imread(str(FACES / "rot_0.png"))
    d0 = detector.detect(img0)[0]
    crop0 = crop_face(img0, placement(d0.box, d0.keypoints, 0, "tight"), 128)
    h, w = img0.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), 25, 1.0)
    tilted = cv2.warpAffine(img0, rot, (w, h), borderMode=cv2.BORDER_REFLECT)
    d = detector.detect(tilted)[0]
    p = placement(d.box, d.keypoints, d.roll, "tight")
    assert abs(math.degrees(p.angle) + 25) < 8  # the face's eye line is turned -25 deg on screen
    crop = crop_face(tilted, p, 128)
    unaligned = crop_face(tilted, Placement(p.cx, p.cy, p.side, 0.0), 128)
    assert _corr(crop, crop0) > 0.8  # keypoints move a little with the tilt
    assert _corr(unaligned, crop0) < _corr(crop, crop0) - 0.1


# ---------------------------------------------------------------------------- blending


def test_paste_changes_face_only_and_has_no_hard_seam(detector):
    img = cv2.imread(str(FACES / "rot_0.png"))
    d = detector.detect(img)[0]
    p = placement(d.box, d.keypoints, d.roll, "tight")
    styled = 255 - crop_face(img, p, 256)  # a strong change everywhere in the crop
    out = paste(img.copy(), styled, p, "tight")
    diff = np.abs(out.astype(int) - img).sum(2)
    # Away from the face: untouched (outside the crop's square, and its corners).
    r = p.side / 2 * math.sqrt(2) + 2
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    far = np.hypot(xx - p.cx, yy - p.cy) > r
    assert diff[far].max() == 0
    corner = crop_matrix(p, 256)
    inv = cv2.invertAffineTransform(corner)
    cx, cy = inv @ np.array([8, 8, 1.0])  # inside the crop square, outside the ellipse
    assert diff[int(cy), int(cx)] == 0
    # The face itself: strongly changed.
    fx, fy = d.keypoints[2]
    assert diff[int(fy) - 5 : int(fy) + 5, int(fx) - 5 : int(fx) + 5].mean() > 150
    # No hard seam: paste white onto flat gray; the blend weight changes slowly per pixel.
    flat = np.full_like(img, 60)
    white = np.full_like(styled, 255)
    alpha = (paste(flat.copy(), white, p, "tight")[..., 1].astype(float) - 60) / 195
    assert alpha.max() > 0.99 and alpha.min() == 0
    step = max(np.abs(np.diff(alpha, axis=0)).max(), np.abs(np.diff(alpha, axis=1)).max())
    assert step < 0.12  # a square paste would jump by 1.0 in one pixel
    m = ellipse_mask(256, "tight")
    assert m[0].max() == 0 and m[-1].max() == 0 and m[:, 0].max() == 0 and m[:, -1].max() == 0


def test_classical_filter_changes_the_picture():
    img = cv2.imread(str(FACES / "rot_0.png"))
    out = cartoon(img)
    assert out.shape == img.shape
    assert np.abs(out.astype(int) - img).mean() > 8


# ---------------------------------------------------------------------------- fallback


def _wait_stylizer(effect: AnimeEffect):
    assert effect.wait_ready(60)
    return effect.stylizer


def test_corrupt_model_file_falls_back_to_classical(tmp_path, capsys):
    stylizer_mod._said.clear()
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"this is not an onnx model" * 100)
    s = make_settings(effect="anime", anime_model=str(bad))
    effect = AnimeEffect(s, _store(tmp_path), quantize=False)
    try:
        assert _wait_stylizer(effect).kind == "classical"
        img = cv2.imread(str(FACES / "rot_0.png"))
        effect.apply(img.copy(), [])  # no crash
    finally:
        effect.close()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert "classical" in err[0] and "hookcam models pull anime_jp_face" in err[0]


def test_wrong_hash_model_falls_back_once(tmp_path, capsys, detector):
    stylizer_mod._said.clear()
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    # A valid ONNX generator under the JP_face name: the registry's sha256 check must refuse it.
    shutil.copy(MODELS / "AnimeGANv3_tiny_Cute.onnx", model_dir / "AnimeGANv3_JP_face_v1.0_fp16.onnx")
    s = make_settings(effect="anime", anime_model="anime_jp_face", model_dir=str(model_dir))
    img = cv2.imread(str(FACES / "rot_0.png"))
    faces = [_face(detector.detect(img)[0])]
    effects = [AnimeEffect(s, _store(tmp_path, model_dir), quantize=False) for _ in range(2)]
    try:
        for e in effects:
            assert _wait_stylizer(e).kind == "classical"
        out = None
        for _ in range(200):  # the classical result arrives from the worker within a few frames
            out = effects[0].apply(img.copy(), faces)
            if not np.array_equal(out, img):
                break
            time.sleep(0.01)
        assert not np.array_equal(out, img)
    finally:
        for e in effects:
            e.close()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err  # said once, not once per effect
    assert "sha256" in err[0] and "classical" in err[0] and "models pull anime_jp_face" in err[0]


# ---------------------------------------------------------------------------- the GAN models


@pytest.mark.parametrize("name", ["anime_jp_face", "anime_tiny_cute"])
def test_gan_models_stylise_a_face_crop(name, tmp_path, detector):
    from hookcam.effects.anime.stylizer import load_gan, resolve_model

    info = resolve_model(name, _store(tmp_path))
    styl, _ = load_gan(info)
    img = cv2.imread(str(FACES / "rot_0.png"))
    d = detector.detect(img)[0]
    crop = crop_face(img, placement(d.box, d.keypoints, d.roll, info.crop), info.size)
    out = styl(crop)
    assert out.shape == crop.shape and out.dtype == np.uint8
    from skimage.metrics import structural_similarity

    ssim = structural_similarity(out, crop, channel_axis=2)
    # Redrawn, not a copy (tiny_Cute keeps identity and the background, so it moves less).
    min_diff, max_ssim = {"anime_jp_face": (25, 0.7), "anime_tiny_cute": (7, 0.95)}[name]
    assert np.abs(out.astype(int) - crop).mean() > min_diff
    assert ssim < max_ssim, ssim
    assert out.std() > 20  # a picture, not a flat fill


def test_effect_draws_the_gan_face_and_leaves_the_rest(tmp_path, detector):
    s = make_settings(effect="anime", anime_model="anime_jp_face")
    effect = AnimeEffect(s, _store(tmp_path), quantize=False)
    img = cv2.imread(str(FACES / "rot_0.png"))
    faces = [_face(detector.detect(img)[0])]
    try:
        assert _wait_stylizer(effect).kind == "gan-fp32"
        first = effect.apply(img.copy(), faces)
        assert np.array_equal(first, img)  # nothing stylised yet: the frame passes through
        assert effect.worker.wait_result(0, 30)
        fading_in = effect.apply(img.copy(), faces)  # the result fades in from the real face
        assert np.abs(fading_in.astype(int) - img).mean() < 2
        time.sleep(0.25)  # past the cross-fade
        out = effect.apply(img.copy(), faces)
    finally:
        effect.close()
    diff = np.abs(out.astype(int) - img).sum(2)
    fx, fy = faces[0].keypoints[2]
    assert diff[int(fy) - 20 : int(fy) + 20, int(fx) - 20 : int(fx) + 20].mean() > 15
    assert diff[:10, :10].max() == 0 and diff[-10:, -10:].max() == 0


def test_no_face_leaves_the_frame_unchanged(tmp_path, detector):
    import av

    with av.open(str(VIDEO / "skv_bigbuckbunny.mp4")) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i == 30:
                frame = fr.to_ndarray(format="bgr24")
                break
    faces = [_face(d) for d in detector.detect(frame)]
    assert faces == []
    s = make_settings(effect="anime", anime_model="anime_tiny_cute")
    effect = AnimeEffect(s, _store(tmp_path), quantize=False)
    try:
        _wait_stylizer(effect)
        for _ in range(5):
            out = effect.apply(frame.copy(), faces)
            assert np.array_equal(out, frame)
    finally:
        effect.close()


# ---------------------------------------------------------------------------- scope and pip


def _settled(effect: AnimeEffect, img: np.ndarray, faces) -> np.ndarray:
    """Apply until a stylised result is in and faded in, then return one more output."""
    effect.apply(img.copy(), faces)
    key = "frame" if effect.scope == "frame" else faces[0].track_id
    assert effect.worker.wait_result(key, 30)
    effect.apply(img.copy(), faces)
    time.sleep(0.25)  # past the cross-fade
    return effect.apply(img.copy(), faces)


def test_frame_scope_stylises_everything(tmp_path, detector):
    from hookcam.effects.anime.calib import astronaut_bgr

    img = astronaut_bgr()
    faces = [_face(detector.detect(img)[0])]
    s = make_settings(effect="anime", anime_model="anime_tiny_cute", anime_scope="frame")
    effect = AnimeEffect(s, _store(tmp_path), quantize=False)
    try:
        assert _wait_stylizer(effect).kind == "gan-fp32"
        out = _settled(effect, img, faces)
    finally:
        effect.close()
    assert out.shape == img.shape
    diff = np.abs(out.astype(int) - img).sum(2)
    h, w = diff.shape
    # Far from the face too: every corner of the picture is redrawn, not only the face.
    for corner in (diff[: h // 5, : w // 5], diff[: h // 5, -w // 5 :], diff[-h // 5 :, : w // 5],
                   diff[-h // 5 :, -w // 5 :]):
        assert corner.mean() > 8
    assert _corr(out, img) > 0.8  # the same scene, redrawn


@pytest.mark.parametrize("scope", ["face", "frame"])
def test_pip_shows_the_real_face_in_the_corner(scope, tmp_path, detector):
    from hookcam.effects.anime.calib import astronaut_bgr

    img = astronaut_bgr()
    d = detector.detect(img)[0]
    faces = [_face(d)]
    s = make_settings(effect="anime", anime_model="anime_tiny_cute", anime_scope=scope, pip=True)
    effect = AnimeEffect(s, _store(tmp_path), quantize=False)
    try:
        styl = _wait_stylizer(effect)
        out = _settled(effect, img, faces)
    finally:
        effect.close()
    h, w = img.shape[:2]
    side = min(h, w) // 5
    m = max(4, side // 16)
    corner = out[h - side - m : h - m, w - side - m : w - m]
    kind, size = (styl.crop, styl.size) if scope == "face" else ("loose", 160)
    real = cv2.resize(crop_face(img, placement(d.box, d.keypoints, d.roll, kind), size), (side, side),
                      interpolation=cv2.INTER_AREA)
    assert _corr(corner, real) > 0.99  # the real face (the stylised one: 0.97, mean diff 14)
    assert np.abs(corner.astype(int) - real).mean() < 6
    frame_edge = out[h - side - m - 2, w - side - m : w - m]
    assert (frame_edge > 240).all()  # its white frame
