"""Anime mode end to end through `hookcam run`: to the FUSE virtual camera (paced, the GAN in its
own worker) and to an MP4 (file to file, every frame stylised in step)."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import MODELS, run_cli
from conftest import decode_video as decode

CLIP = "video/lp_d0.mp4"  # 512x512, one frontal face on a green screen, 78 frames


def face_and_background_change(out, src, box):
    """Mean abs difference inside the central face box, and in the corners far from the face."""
    x, y, w, h = (int(v) for v in box)
    cx, cy = x + w // 2, y + h // 2
    inner = (slice(cy - h // 4, cy + h // 4), slice(cx - w // 4, cx + w // 4))
    d = cv2.absdiff(out, src).astype(np.float32).mean(axis=2)
    corners = np.concatenate([d[:60, :60].ravel(), d[:60, -60:].ravel(), d[-60:, :60].ravel(),
                              d[-60:, -60:].ravel()])
    return float(d[inner].mean()), float(corners.mean())


def face_box(img):
    from hookcam.faces.detect import FaceDetector

    dets = FaceDetector().detect(img)
    assert len(dets) == 1
    return dets[0].box


def test_anime_to_mp4_every_frame_stylised(tmp_path, testdata):
    out = tmp_path / "anime.mp4"
    fresh_cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}  # a first use: the notice shows
    r = run_cli("run", "--input", testdata / CLIP, "--output", out, "--effect", "anime",
                "--anime-model", "anime_tiny_cute", "--model-dir", MODELS, "--no-control",
                env=fresh_cache)
    assert r.returncode == 0, r.stderr
    assert "non-commercial" in r.stderr.lower()  # the licence notice on first use
    frames, src = decode(out), decode(testdata / CLIP)
    assert len(frames) == len(src) == 78
    box = face_box(src[0])
    for i in (0, 30, 77):
        face, background = face_and_background_change(frames[i], src[i], box)
        assert face > 12, f"frame {i}: face barely changed ({face:.1f})"
        assert background < 3, f"frame {i}: background changed ({background:.1f})"


def test_anime_to_virtual_camera_follows_the_face(fuse_camera, testdata):
    r = run_cli("run", "--input", testdata / CLIP, "--output", fuse_camera.device, "--effect", "anime",
                "--anime-model", "anime_tiny_cute", "--model-dir", MODELS, "--no-control")
    assert r.returncode == 0, r.stderr
    frames = fuse_camera.frames()
    assert len(frames) == 78  # full count at the clip's rate: the GAN never holds the output back
    src = decode(testdata / CLIP)
    out = [cv2.cvtColor(f, cv2.COLOR_YUV2BGR_I420) for f in frames]
    box = face_box(src[0])
    changed = [i for i in range(78) if face_and_background_change(out[i], src[i], box)[0] > 12]
    assert len(changed) >= 40, f"stylised face in only {len(changed)}/78 frames"
    assert max(face_and_background_change(out[i], src[i], box)[1] for i in changed) < 4


def test_no_face_passes_through_unchanged(tmp_path, testdata):
    out = tmp_path / "bunny.mp4"
    r = run_cli("run", "--input", testdata / "video/skv_bigbuckbunny.mp4", "--output", out,
                "--effect", "anime", "--anime-model", "anime_tiny_cute", "--model-dir", MODELS,
                "--max-frames", "40", "--no-control")
    assert r.returncode == 0, r.stderr
    frames = decode(out)
    plain = tmp_path / "plain.mp4"
    assert run_cli("run", "--input", testdata / "video/skv_bigbuckbunny.mp4", "--output", plain,
                   "--effect", "none", "--max-frames", "40").returncode == 0
    ref = decode(plain)
    assert len(frames) == len(ref) == 40
    worst = max(float(cv2.absdiff(a, b).mean()) for a, b in zip(frames, ref))
    assert worst < 0.5, f"a frame without faces changed by {worst:.2f} on average"


def test_anime_with_a_corrupt_model_uses_the_cartoon_filter(tmp_path, testdata):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x01 not an onnx model at all")
    out = tmp_path / "fallback.mp4"
    r = run_cli("run", "--input", testdata / CLIP, "--output", out, "--effect", "anime",
                "--anime-model", bad, "--max-frames", "10", "--no-control")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    notes = [ln for ln in r.stderr.splitlines() if "broken.onnx" in ln]
    assert len(notes) == 1 and "models pull" in notes[0]
    frames, src = decode(out), decode(testdata / CLIP)[:10]
    face, _ = face_and_background_change(frames[5], src[5], face_box(src[0]))
    assert face > 8  # the classical cartoon filter drew the face
