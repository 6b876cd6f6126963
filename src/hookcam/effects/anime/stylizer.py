"""Pick and load what stylises a crop: the GAN (fp32, later int8) or the classical filter.

Never raises for a missing or bad model: it says so once on stderr and falls back.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import cv2
import numpy as np

from hookcam.effects.anime.classical import ClassicalStylizer
from hookcam.effects.anime.model import (
    DEFAULT_MODEL,
    DEFAULT_SIZE,
    KNOWN_MODELS,
    GanInfo,
    OnnxGenerator,
    is_registry_name,
    load_fp32_model_bytes,
    make_generator,
)
from hookcam.errors import ModelError
from hookcam.models import sha256_file

PULL_HINT = f"`hookcam models pull {DEFAULT_MODEL}`"
_said: set[str] = set()


def say_once(msg: str) -> None:
    """One line on stderr, once per process per message."""
    line = " ".join(msg.split())
    if line in _said:
        return
    _said.add(line)
    print(line, file=sys.stderr, flush=True)


class GanStylizer:
    """BGR crop -> BGR stylised crop through an AnimeGAN generator (int8 swapped in when ready)."""

    def __init__(self, generator: OnnxGenerator, info: GanInfo, streams: int = 1):
        self.generator = generator
        self.streams = streams  # calls that may run at once (the worker's threads)
        self.runtime = generator.runtime  # "openvino" | "onnxruntime"
        self.info = info
        self.size = info.size
        self.crop = info.crop
        self.name = info.name
        self.kind = "gan-fp32"
        self.quant_report: dict | None = None
        self.quant_proc = None  # the child process making the int8 model, while it runs
        self.quant_tmp: Path | None = None

    def close(self) -> None:
        if self.quant_proc is not None and self.quant_proc.poll() is None:
            self.quant_proc.terminate()
            self.quant_proc.wait(5)
            if self.quant_tmp is not None:
                self.quant_tmp.unlink(missing_ok=True)

    def use(self, generator: OnnxGenerator, kind: str) -> None:
        self.generator, self.kind = generator, kind

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        h, w = bgr.shape[:2]
        m = 16
        hh, ww = max(m, round(h / m) * m), max(m, round(w / m) * m)
        x = bgr if (hh, ww) == (h, w) else cv2.resize(bgr, (ww, hh), interpolation=cv2.INTER_AREA)
        y = self.generator(cv2.cvtColor(x, cv2.COLOR_BGR2RGB))
        y = cv2.cvtColor(y, cv2.COLOR_RGB2BGR)
        return y if (hh, ww) == (h, w) else cv2.resize(y, (w, h), interpolation=cv2.INTER_LINEAR)

    def frame_size(self, w: int, h: int) -> tuple[int, int]:
        """Input size for a whole frame: long side 4/3 of the face size, multiples of 16."""
        s = self.size * 4 / 3 / max(w, h)
        return max(16, round(w * s / 16) * 16), max(16, round(h * s / 16) * 16)


def resolve_model(model: str | None, store) -> GanInfo:
    """Registry name or path (optionally 'PATH@SIZE') -> GanInfo. Raises ModelError."""
    text = (model or DEFAULT_MODEL).strip()
    size = None
    if "@" in text and text.rsplit("@", 1)[1].isdigit():
        text, s = text.rsplit("@", 1)
        size = int(s)
    if is_registry_name(text):
        if store is None:
            from hookcam.models import ModelStore

            store = ModelStore()
        path = store.path(text)
        store.notice(text)
        cfg = KNOWN_MODELS.get(text, {"size": DEFAULT_SIZE, "crop": "tight"})
        return GanInfo(text, path, sha256_file(path), size or cfg["size"], cfg["crop"])
    path = Path(text).expanduser()
    if not path.is_file():
        raise ModelError(f"anime model file {str(path)!r} does not exist")
    sha = sha256_file(path)
    cfg, name = {"size": DEFAULT_SIZE, "crop": "tight"}, path.name
    try:  # the user's copy of a registry file: same look settings, same licence notice
        from hookcam.models import REGISTRY

        for spec in REGISTRY.values():
            if spec.sha256 == sha and spec.name in KNOWN_MODELS:
                cfg, name = KNOWN_MODELS[spec.name], spec.name
                if store is not None:
                    store.notice(spec.name)
    except ImportError:
        pass
    return GanInfo(name, path, sha, size or cfg["size"], cfg["crop"])


def load_gan(info: GanInfo, threads: int | None = None, runtime: str = "auto",
             streams: int = 1) -> tuple[GanStylizer, bytes]:
    data = load_fp32_model_bytes(info.path)
    gen = make_generator(data, threads, runtime, streams)
    probe = np.full((info.size, info.size, 3), 128, np.uint8)  # fails now, not mid-stream
    out = gen(probe)
    if out.shape != probe.shape:
        raise ModelError(f"{info.path.name} is not an image-to-image generator (output {out.shape})")
    return GanStylizer(gen, info, streams), data


def load_stylizer(model: str | None, store, *, threads: int | None = None, quantize: bool = True,
                  cache_dir: Path | None = None, runtime: str = "auto", streams: int = 1):
    """The stylizer to use; with `quantize`, an int8 model replaces fp32 in the background
    (when it looks the same and is faster on this runtime)."""
    info = None
    try:
        info = resolve_model(model, store)
        styl, fp32_bytes = load_gan(info, threads, runtime, streams)
    except Exception as e:  # noqa: BLE001 - any bad file means the fallback, never a crash
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if info is not None and not isinstance(e, ModelError):  # ONNX's own words: say which file
            reason = f"{info.path} is not a usable ONNX generator ({reason.lower()})"
        if len(reason) > 300:
            reason = reason[:300] + "..."
        hint = "" if "models pull" in reason else f"; get the GAN model with {PULL_HINT}"
        say_once(f"hookcam: anime: {reason}: using the classical cartoon filter instead{hint}")
        return ClassicalStylizer()
    if runtime == "openvino" and styl.runtime != "openvino":
        say_once("hookcam: anime: OpenVINO is not installed (`pip install openvino`): "
                 "running the GAN on ONNX Runtime")
    if quantize:
        cache = cache_dir or _cache_dir(store)
        threading.Thread(target=_quantize_later, args=(styl, fp32_bytes, cache, threads),
                         name="anime-int8", daemon=True).start()
    return styl


def _cache_dir(store) -> Path:
    if store is not None and getattr(store, "cache_dir", None) is not None:
        return Path(store.cache_dir)
    import platformdirs

    return Path(platformdirs.user_cache_dir("hookcam")) / "models"


def _quantize_later(styl: GanStylizer, fp32_bytes: bytes, cache: Path, threads: int | None) -> None:
    """Use the cached int8 model, or make it in a child process (niced): ONNX Runtime's
    calibration must not be left running in a thread of ours when hookcam exits, and a child
    can be stopped at any moment (`GanStylizer.close`) without harm: it writes atomically."""
    import json
    import subprocess
    import sys

    from hookcam.effects.anime.quantize import cache_paths
    from hookcam.priority import yield_cpu

    yield_cpu()  # the int8 runtime it may load starts its thread pool from here
    model_path, report_path = cache_paths(cache, styl.info.sha256, styl.size, styl.runtime)
    try:
        if not report_path.exists():
            model_path.parent.mkdir(parents=True, exist_ok=True)
            src = model_path.with_name(model_path.name + ".fp32.tmp")
            src.write_bytes(fp32_bytes)
            cmd = [sys.executable, "-m", "hookcam.effects.anime.quantize", str(src), styl.info.sha256,
                   str(styl.size), str(cache), styl.crop, str(threads or 0), styl.runtime]
            styl.quant_tmp = src
            styl.quant_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                               preexec_fn=lambda: os.nice(10))
            styl.quant_proc.wait()
            src.unlink(missing_ok=True)
        report = json.loads(report_path.read_text())
        styl.quant_report = report
        if report.get("use") and model_path.exists():
            styl.use(make_generator(model_path, threads, styl.runtime, styl.streams), "gan-int8")
    except Exception as e:  # noqa: BLE001 - int8 is only a speed-up; fp32 keeps running
        styl.quant_report = {"ok": False, "error": str(e).splitlines()[0] if str(e) else type(e).__name__}
