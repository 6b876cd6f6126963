"""What makes the anime GAN fast, checked on the real models: the graph clean-up keeps the
look, OpenVINO and ONNX Runtime agree, int8 looks like fp32 and is used only when faster."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from hookcam.effects.anime.align import crop_face, placement
from hookcam.effects.anime.blend import ellipse_mask
from hookcam.effects.anime.graph import fold_reflect_pads
from hookcam.effects.anime.model import (
    OnnxGenerator,
    OpenVinoGenerator,
    load_fp32_model_bytes,
    make_generator,
)
from hookcam.effects.anime.quantize import MIN_SPEEDUP, cache_paths, quantize_int8
from hookcam.settings import make_settings

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
MODELS = SHARED / "models"
FILES = {"anime_jp_face": ("AnimeGANv3_JP_face_v1.0_fp16.onnx", 320, "tight", 22),
         "anime_tiny_cute": ("AnimeGANv3_tiny_Cute.onnx", 256, "loose", 28)}


@pytest.fixture(scope="module")
def face_image():
    from hookcam.faces.detect import FaceDetector

    img = cv2.imread(str(SHARED / "testdata" / "faces" / "insightface" / "rot_0.png"))
    det = FaceDetector()
    try:
        d = det.detect(img)[0]
    finally:
        det.close()
    return img, d


def _crop(face_image, size, kind):
    img, d = face_image
    return cv2.cvtColor(crop_face(img, placement(d.box, d.keypoints, d.roll, kind), size), cv2.COLOR_BGR2RGB)


def _masked_psnr(a, b, mask) -> float:
    err = ((a.astype(np.float64) - b) ** 2 * mask[..., None]).sum() / (mask.sum() * 3)
    return 10 * np.log10(255**2 / max(err, 1e-9))


@pytest.mark.parametrize("name", list(FILES))
def test_folding_the_pads_keeps_the_face(name, face_image):
    file, size, kind, pads = FILES[name]
    model = onnx.load(str(MODELS / file))
    n_pads = sum(n.op_type == "Pad" for n in model.graph.node)
    _, folded = fold_reflect_pads(model)
    assert folded == n_pads == pads
    assert not any(n.op_type == "Pad" for n in model.graph.node)

    crop = _crop(face_image, size, kind)
    plain = OnnxGenerator(load_fp32_model_bytes(MODELS / file, fold=False))(crop)
    fast = OnnxGenerator(load_fp32_model_bytes(MODELS / file))(crop)
    mask = ellipse_mask(size, kind)
    assert _masked_psnr(plain, fast, mask) > 30  # inside the blended face: the same picture
    assert not np.array_equal(plain, fast)  # (it did change something: the outermost pixels)


def test_openvino_and_onnxruntime_give_the_same_picture(face_image):
    file, size, kind, _ = FILES["anime_tiny_cute"]
    data = load_fp32_model_bytes(MODELS / file)
    crop = _crop(face_image, size, kind)
    ov, ort = make_generator(data, runtime="openvino"), make_generator(data, runtime="onnxruntime")
    assert isinstance(ov, OpenVinoGenerator) and isinstance(ort, OnnxGenerator)
    a, b = ov(crop), ort(crop)
    assert np.abs(a.astype(int) - b).mean() < 1.0
    # Another shape through the same generator (whole-frame scope): compiled for it, same again.
    wide = cv2.resize(crop, (320, 192))
    assert ov(wide).shape == (192, 320, 3)
    assert np.abs(ov(wide).astype(int) - ort(wide)).mean() < 1.0


def test_int8_looks_like_fp32_and_is_used_only_when_faster(tmp_path, face_image):
    file, size, kind, _ = FILES["anime_tiny_cute"]
    data = load_fp32_model_bytes(MODELS / file)
    stale = tmp_path / "anime" / f"{'f' * 16}-{size}-v1-int8.onnx"  # left by an older hookcam
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    path, report = quantize_int8(data, "f" * 64, size, tmp_path, kind)
    assert not stale.exists() and not list(stale.parent.glob("*.tmp"))
    assert report["runtime"] == "openvino" and report["ok"]
    assert report["psnr"] > 30 and report["ssim"] > 0.95  # tiny_Cute int8: the same picture
    assert report["use"] == (report["speedup"] >= MIN_SPEEDUP)
    assert (path is not None) == report["use"]
    model_path, report_path = cache_paths(tmp_path, "f" * 64, size, "openvino")
    assert model_path.exists() and json.loads(report_path.read_text()) == report
    crop = _crop(face_image, size, kind)
    int8 = make_generator(model_path)(crop)
    assert _masked_psnr(int8, make_generator(data)(crop), ellipse_mask(size, kind)) > 28

    # Cached: the second call only reads the report.
    stamp = model_path.stat().st_mtime_ns
    t0 = time.perf_counter()
    again, report2 = quantize_int8(data, "f" * 64, size, tmp_path, kind)
    assert time.perf_counter() - t0 < 1.0 and report2 == report and again == path
    assert model_path.stat().st_mtime_ns == stamp
    # Another runtime shares the int8 file but times it for itself.
    _, r_ort = quantize_int8(data, "f" * 64, size, tmp_path, kind, runtime="onnxruntime")
    assert r_ort["runtime"] == "onnxruntime" and model_path.stat().st_mtime_ns == stamp
    assert cache_paths(tmp_path, "f" * 64, size, "onnxruntime")[1].exists()


@pytest.mark.parametrize("runtime,expected", [("auto", "openvino"), ("onnxruntime", "onnxruntime")])
def test_the_runtime_setting_picks_what_runs_the_gan(runtime, expected, tmp_path):
    from hookcam.effects.anime import AnimeEffect
    from hookcam.models import ModelStore

    s = make_settings(effect="anime", anime_model="anime_tiny_cute", anime_runtime=runtime)
    effect = AnimeEffect(s, ModelStore(MODELS, cache_dir=tmp_path), quantize=False)
    try:
        assert effect.wait_ready(60)
        assert effect.stylizer.kind == "gan-fp32" and effect.stylizer.runtime == expected
    finally:
        effect.close()


def _sleep_then_return(_, job):
    """A stand-in stylisation: job = (output, seconds it takes)."""
    time.sleep(job[1])
    return job[0]


def test_worker_threads_overlap_and_an_older_result_never_replaces_a_newer_one():
    from hookcam.effects.anime.worker import StyleWorker

    w = StyleWorker(lambda: object(), _sleep_then_return, threads=2)
    try:
        assert w.ready.wait(5)
        w.submit("face", ("frame 1", 0.4))  # slow
        time.sleep(0.05)  # thread 1 has taken it; thread 2 takes the next one at once
        w.submit("face", ("frame 2", 0.05))
        assert w.wait_result("face", 2)
        seq, out = w.result("face")
        assert out == "frame 2"
        time.sleep(0.5)  # frame 1 finishes later: counted, but not shown
        assert w.result("face") == (seq, "frame 2") and w.count == 2
    finally:
        w.close()


def test_worker_reset_drops_old_results_and_the_job_in_flight():
    """A worker kept across an effect switch starts clean: what the last effect left (a result,
    a job still running) never shows up in the next one."""
    from hookcam.effects.anime.worker import StyleWorker

    w = StyleWorker(lambda: object(), _sleep_then_return, threads=1)
    try:
        assert w.ready.wait(5)
        w.submit("face", ("old", 0.0))
        assert w.wait_result("face", 2)
        w.submit("face", ("in flight", 0.3))
        time.sleep(0.05)  # taken by the thread
        w.reset()
        assert w.result("face") is None
        time.sleep(0.4)  # the job in flight finishes after the reset: dropped
        assert w.result("face") is None
        w.submit("face", ("new", 0.0))
        assert w.wait_result("face", 2) and w.result("face")[1] == "new"
    finally:
        w.close()


def test_jp_face_int8_keeps_its_first_and_last_conv_in_fp32_and_passes_the_look_check(tmp_path):
    file, size, kind, _ = FILES["anime_jp_face"]
    data = load_fp32_model_bytes(MODELS / file)
    path, report = quantize_int8(data, "e" * 64, size, tmp_path, kind)
    assert report["fp32_ends"] and report["ok"] and report["ssim"] >= 0.79, report
    assert report["use"] == (report["speedup"] >= MIN_SPEEDUP)  # (speed itself: `hookcam bench`)
    model_path = cache_paths(tmp_path, "e" * 64, size, "openvino")[0]
    assert (path is None) or path == model_path
    graph = onnx.load(str(model_path)).graph
    convs = [n for n in graph.node if n.op_type == "Conv"]
    producers = {o: n for n in graph.node for o in n.output}
    quantized = [producers.get(c.input[1]) is not None and producers[c.input[1]].op_type == "DequantizeLinear"
                 for c in convs]
    assert not quantized[0] and not quantized[-1] and all(quantized[1:-1])
