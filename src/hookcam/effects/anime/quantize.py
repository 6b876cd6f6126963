"""Static int8 (QDQ) quantisation of a generator, calibrated on augmented astronaut crops,
checked against fp32 (PSNR/SSIM) and cached in the user cache dir (key: model sha256 + size).

Done once, in the background; until it is ready (or if it fails the look check) fp32 runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from hookcam.effects.anime.calib import augmented_crops

# The int8 output must look like fp32's: mean over check crops, else we keep fp32.
# JP_face int8 draws the same lines and eyes with a slightly warmer overall tone: about
# 21.5 dB / SSIM 0.83 (tiny_Cute: 28 dB / 0.96). A broken quantisation gives < 15 dB / < 0.5.
MIN_PSNR = 20.0
MIN_SSIM = 0.78
VERSION = 2  # bump when calibration or thresholds change: old cache entries are ignored
CALIB_CROPS = 24
CHECK_CROPS = 6
PER_CHANNEL = False  # per-channel gave the same look here; it needs opset >= 13 (_opset13)


def cache_paths(cache_dir: Path, sha256: str, size: int) -> tuple[Path, Path]:
    base = cache_dir / "anime" / f"{sha256[:16]}-{size}-v{VERSION}"
    return base.with_name(base.name + "-int8.onnx"), base.with_name(base.name + "-int8.json")


def look_check(fp32, int8, crops: list[np.ndarray]) -> dict:
    """Mean PSNR (dB) and SSIM of int8 vs fp32 outputs on `crops` (RGB generators)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    ps, ss = [], []
    for c in crops:
        a, b = fp32(c), int8(c)
        ps.append(peak_signal_noise_ratio(a, b, data_range=255))
        ss.append(structural_similarity(a, b, channel_axis=2, data_range=255))
    return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}


def quantize_int8(fp32_bytes: bytes, sha256: str, size: int, cache_dir: Path, crop: str = "tight",
                  threads: int | None = None) -> tuple[Path | None, dict]:
    """The cached int8 model for (sha256, size) -> (path or None if it failed the check, report)."""
    from hookcam.effects.anime.model import OnnxGenerator

    model_path, report_path = cache_paths(cache_dir, sha256, size)
    if report_path.exists():
        try:
            report = json.loads(report_path.read_text())
            if not report.get("ok"):
                return None, report
            if model_path.exists():
                return model_path, report
        except (OSError, ValueError):
            pass
    import cv2
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    fp32 = OnnxGenerator(fp32_bytes, threads)
    calib = [cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in augmented_crops(size, CALIB_CROPS, crop, seed=1)]
    check = [cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in augmented_crops(size, CHECK_CROPS, crop, seed=2)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            c = next(self.it, None)
            if c is None:
                return None
            x = (c.astype(np.float32) / 127.5 - 1.0)[None]
            if fp32.nchw:
                x = x.transpose(0, 3, 1, 2)
            return {fp32.input_name: x}

    model_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "fp32.onnx"
        src.write_bytes(_opset13(fp32_bytes) if PER_CHANNEL else fp32_bytes)
        out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(src), str(out), Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=PER_CHANNEL,
            op_types_to_quantize=["Conv"],  # shape subgraphs (Resize scales) must stay exact
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
        int8 = OnnxGenerator(out, threads)
        report = look_check(fp32, int8, check)
        report.update(ok=report["psnr"] >= MIN_PSNR and report["ssim"] >= MIN_SSIM,
                      min_psnr=MIN_PSNR, min_ssim=MIN_SSIM, size=size, sha256=sha256)
        if report["ok"]:
            tmp_target = model_path.with_name(model_path.name + f".{os.getpid()}.tmp")
            tmp_target.write_bytes(out.read_bytes())
            os.replace(tmp_target, model_path)
    report_path.write_text(json.dumps(report))
    return (model_path if report["ok"] else None), report


def _opset13(fp32_bytes: bytes) -> bytes:
    """Upgrade old graphs (JP_face is opset 9) so per-channel DequantizeLinear is valid."""
    import onnx
    from onnx import version_converter

    m = onnx.load_from_string(fp32_bytes)
    ver = max((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), default=13)
    if ver >= 13:
        return fp32_bytes
    return version_converter.convert_version(m, 13).SerializeToString()


def main() -> None:
    """python -m hookcam.effects.anime.quantize FP32 SHA256 SIZE CACHE_DIR CROP THREADS
    (run by the stylizer in a child process)."""
    import sys

    src, sha, size, cache, crop, threads = sys.argv[1:7]
    quantize_int8(Path(src).read_bytes(), sha, int(size), Path(cache), crop, int(threads) or None)


if __name__ == "__main__":
    main()
