"""Static int8 (QDQ) quantisation of a generator, calibrated on augmented astronaut crops,
checked against fp32 (PSNR/SSIM), timed against fp32 on the runtime that will run it, and
cached in the user cache dir (key: model sha256 + size; the report also by runtime).

Done once, in the background; until it is ready, or if it fails the look check, or if it is
not faster (ONNX Runtime's QDQ tiny_Cute is not), fp32 runs.
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
# 21.5 dB / SSIM 0.80 at 320 on OpenVINO (tiny_Cute: 37 dB / 0.985). A broken quantisation
# gives < 15 dB / < 0.5.
MIN_PSNR = 20.0
MIN_SSIM = 0.78
VERSION = 5  # bump when calibration or thresholds change: old cache entries are ignored
CALIB_CROPS = 24
CHECK_CROPS = 6
TIMING_REPS = 5
MIN_SPEEDUP = 1.05  # int8 must beat fp32 by this much to be used
GOOD_SSIM = 0.9  # below this, also try int8 with the first and last conv left in fp32
PER_CHANNEL = False  # per-channel gave the same look here; it needs opset >= 13 (_opset13)


def cache_paths(cache_dir: Path, sha256: str, size: int, runtime: str) -> tuple[Path, Path]:
    """(int8 model, report for `runtime`)."""
    base = cache_dir / "anime" / f"{sha256[:16]}-{size}-v{VERSION}"
    return base.with_name(base.name + "-int8.onnx"), base.with_name(base.name + f"-{runtime}.json")


def look_check(fp32, int8, crops: list[np.ndarray]) -> dict:
    """Mean PSNR (dB) and SSIM of int8 vs fp32 outputs on `crops` (RGB generators)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    ps, ss = [], []
    for c in crops:
        a, b = fp32(c), int8(c)
        ps.append(peak_signal_noise_ratio(a, b, data_range=255))
        ss.append(structural_similarity(a, b, channel_axis=2, data_range=255))
    return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}


def time_both(fp32, int8, crop: np.ndarray, reps: int = TIMING_REPS) -> tuple[float, float]:
    """Median ms of each generator on `crop`, interleaved (fair on a busy machine)."""
    import time

    times: tuple[list[float], list[float]] = ([], [])
    for g in (fp32, int8):
        g(crop)
    for _ in range(reps):
        for g, ts in zip((fp32, int8), times):
            t0 = time.perf_counter()
            g(crop)
            ts.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times[0])), float(np.median(times[1]))


def quantize_int8(fp32_bytes: bytes, sha256: str, size: int, cache_dir: Path, crop: str = "tight",
                  threads: int | None = None, runtime: str = "auto") -> tuple[Path | None, dict]:
    """The cached int8 model for (sha256, size) -> (path, or None if fp32 is to stay, report).

    The report says why: `ok` (the look check), `fp32_ms`/`int8_ms`/`speedup` on `runtime`,
    and `use` (ok and faster)."""
    from hookcam.effects.anime.model import make_generator, pick_runtime

    runtime = pick_runtime(runtime)
    model_path, report_path = cache_paths(cache_dir, sha256, size, runtime)
    if report_path.exists():
        try:
            report = json.loads(report_path.read_text())
            if not report.get("use"):
                return None, report
            if model_path.exists():
                return model_path, report
        except (OSError, ValueError):
            pass
    import cv2

    def rgb_crops(n: int, seed: int) -> list[np.ndarray]:
        return [cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in augmented_crops(size, n, crop, seed=seed)]

    model_path.parent.mkdir(parents=True, exist_ok=True)
    fp32 = make_generator(fp32_bytes, threads, runtime)
    check = rgb_crops(CHECK_CROPS, 2)
    if model_path.exists():  # made for another runtime: check and time it for this one
        int8 = make_generator(model_path, threads, runtime)
        report = look_check(fp32, int8, check)
    else:
        _forget_old_versions(cache_dir, sha256, size)
        calib = rgb_crops(CALIB_CROPS, 1)
        # Both candidates are made beside the cache entry and the better one moved in, so a run
        # stopped half way leaves no entry (the next run starts over).
        best = model_path.with_name(model_path.name + ".all.tmp")
        _quantize_to(fp32_bytes, best, calib, threads)
        int8 = make_generator(best, threads, runtime)
        report = look_check(fp32, int8, check)
        if report["ssim"] < GOOD_SSIM:
            # Keep the first conv (raw pixels in) and the last (RGB out) in fp32: JP_face's SSIM
            # goes 0.78 -> 0.80. Only then: on tiny_Cute they are a third of the work.
            alt = model_path.with_name(model_path.name + ".ends.tmp")
            _quantize_to(fp32_bytes, alt, calib, threads, keep_ends=True)
            alt_int8 = make_generator(alt, threads, runtime)
            alt_report = look_check(fp32, alt_int8, check)
            if alt_report["ssim"] > report["ssim"]:
                best.unlink(missing_ok=True)
                best, int8, report = alt, alt_int8, {**alt_report, "fp32_ends": True}
            else:
                alt.unlink(missing_ok=True)
        os.replace(best, model_path)  # (the generators hold their model in memory)
    fp32_ms, int8_ms = time_both(fp32, int8, check[0])
    ok = report["psnr"] >= MIN_PSNR and report["ssim"] >= MIN_SSIM
    report.update(ok=ok, min_psnr=MIN_PSNR, min_ssim=MIN_SSIM, size=size, sha256=sha256, runtime=runtime,
                  fp32_ms=round(fp32_ms, 1), int8_ms=round(int8_ms, 1), speedup=round(fp32_ms / int8_ms, 2))
    report["use"] = ok and report["speedup"] >= MIN_SPEEDUP
    tmp = report_path.with_name(report_path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report))
    os.replace(tmp, report_path)
    return (model_path if report["use"] else None), report


def checked_int8(cache_dir: Path, report: dict) -> Path | None:
    """The cached int8 model a report speaks of, if it passed the look check (faster or not)."""
    if not report.get("ok"):
        return None
    path = cache_paths(cache_dir, report["sha256"], report["size"], report["runtime"])[0]
    return path if path.exists() else None


def _forget_old_versions(cache_dir: Path, sha256: str, size: int) -> None:
    """Delete this model's cache entries made by older versions of this code."""
    current = f"{sha256[:16]}-{size}-v{VERSION}-"
    for old in (cache_dir / "anime").glob(f"{sha256[:16]}-{size}-v*"):
        if not old.name.startswith(current):
            old.unlink(missing_ok=True)


def _quantize_to(fp32_bytes: bytes, target: Path, calib: list[np.ndarray], threads: int | None,
                 keep_ends: bool = False) -> None:
    """ONNX Runtime's static QDQ quantisation of the Convs (with `keep_ends`, all but the first
    and the last), written atomically to `target`."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from hookcam.effects.anime.model import OnnxGenerator

    probe = OnnxGenerator(fp32_bytes, threads)  # calibration runs on ONNX Runtime: its layout
    keep_fp32: list[str] = []
    if keep_ends:
        import onnx

        convs = [n.name for n in onnx.load_from_string(fp32_bytes).graph.node if n.op_type == "Conv"]
        keep_fp32 = [convs[0], convs[-1]] if len(convs) > 2 and convs[0] and convs[-1] else []

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            c = next(self.it, None)
            if c is None:
                return None
            x = (c.astype(np.float32) / 127.5 - 1.0)[None]
            if probe.nchw:
                x = x.transpose(0, 3, 1, 2)
            return {probe.input_name: x}

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
            nodes_to_exclude=keep_fp32,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
        tmp_target = target.with_name(target.name + f".{os.getpid()}.tmp")
        tmp_target.write_bytes(out.read_bytes())
        os.replace(tmp_target, target)


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
    """python -m hookcam.effects.anime.quantize FP32 SHA256 SIZE CACHE_DIR CROP THREADS RUNTIME
    (run by the stylizer in a child process)."""
    import sys

    src, sha, size, cache, crop, threads, runtime = sys.argv[1:8]
    quantize_int8(Path(src).read_bytes(), sha, int(size), Path(cache), crop, int(threads) or None, runtime)


if __name__ == "__main__":
    main()
