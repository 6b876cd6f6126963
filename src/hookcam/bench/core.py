"""The core scenarios: passthrough, smile mode (our pipeline), and the original 2020 method.

All read the same 720p clip unpaced into a null output, so the numbers compare like for like.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from hookcam.settings import make_settings
from hookcam.sinks.base import NullSink
from hookcam.sources.video import VideoSource
from hookcam.stats import Stats


def pipeline_scenario(input_path: str, frames: int, effect: str, model_dir=None,
                      paced: bool = False, **extra) -> dict:
    """Our real pipeline (capture thread, async analysis, output loop), every frame out; unpaced
    (as fast as it goes) or paced at the clip's frame rate, as a camera would deliver it."""
    from hookcam.pipeline import Pipeline

    settings = make_settings(input=str(input_path), outputs=["null"], effect=effect,
                             max_frames=frames, loop=True, realtime=paced, model_dir=model_dir,
                             control=False, **extra)
    source = VideoSource(input_path, loop=True)
    from hookcam.models import ModelStore

    pipe = Pipeline(settings, source, [NullSink()], store=ModelStore(model_dir), lockstep=False)
    worker = getattr(pipe.effect, "worker", None)
    n0 = 0
    if worker is not None:  # anime: start the clock once the generator is loaded
        worker.ready.wait(120)
        n0 = worker.count
    pipe.stats.started = time.monotonic()
    stats = pipe.run()
    out = result(stats)
    if worker is not None:
        elapsed = time.monotonic() - stats.started
        out["stylized_per_s"] = round((worker.count - n0) / elapsed, 2) if elapsed > 0 else 0.0
        out["model"] = getattr(worker.stylizer, "kind", None)
        out["runtime"] = getattr(worker.stylizer, "runtime", None)
        out["size"] = getattr(worker.stylizer, "size", None)
        xs = worker.times_ms[-max(1, worker.count - n0):]
        out["stages"]["stylize"] = {"median_ms": round(float(np.median(xs)), 2),
                                    "p95_ms": round(float(np.percentile(xs, 95)), 2)} if xs else {}
    return out


def original_scenario(input_path: str, frames: int, emotion: bool = False) -> dict:
    """The 2020 script's method: Haar face cascade on the full frame, Haar smile cascade per face
    (or, for emotion mode, a mini-Xception on a 64x64 gray crop), synchronously on every frame,
    then JPEG-encode every frame (it piped JPEGs into ffmpeg)."""
    faces_xml = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    smile_xml = cv2.data.haarcascades + "haarcascade_smile.xml"
    face_cascade, smile_cascade = cv2.CascadeClassifier(faces_xml), cv2.CascadeClassifier(smile_xml)
    classify = _mini_xception() if emotion else None
    source = VideoSource(input_path, loop=True)
    stats = Stats()
    try:
        for _ in range(frames):
            t0 = time.perf_counter()
            img = source.read()
            t1 = time.perf_counter()
            gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            faces = face_cascade.detectMultiScale(gray, 1.1, 5)
            t2 = time.perf_counter()
            smiling = []
            for (x, y, w, h) in faces:
                roi = gray[y : y + h, x : x + w]
                if classify is not None:
                    smiling.append(classify(roi))
                else:
                    smiling.append(len(smile_cascade.detectMultiScale(roi, 1.8, 20)) > 0)
            t3 = time.perf_counter()
            for (x, y, w, _h), s in zip(faces, smiling):
                if s:
                    cv2.circle(img, (int(x + w), int(y)), int(w // 4), (0, 255, 255), -1)
            t4 = time.perf_counter()
            ok, jpg = cv2.imencode(".jpg", img)
            t5 = time.perf_counter()
            for stage, dt in zip(("capture", "detect", "analyse", "draw", "send"),
                                 (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                stats.add(stage, dt)
            stats.add("latency", t5 - t0)
            stats.frame_out()
    finally:
        source.close()
    return result(stats)


def _mini_xception():
    """A per-face classifier the size of the original's Keras model (torch, fp32, eager)."""
    import torch

    from hookcam.bench.mini_xception import build

    net = build()

    def classify(gray_roi) -> bool:
        x = cv2.resize(gray_roi, (64, 64)).astype(np.float32) / 127.5 - 1.0
        with torch.no_grad():
            p = net(torch.from_numpy(x)[None, None])
        return int(p.argmax()) == 3  # "happy"

    return classify


def result(stats: Stats) -> dict:
    return {
        "fps": round(stats.average_fps(), 2),
        "frames": stats.frames_out,
        "stages": {k: {"median_ms": round(v["median_ms"], 2), "p95_ms": round(v["p95_ms"], 2)}
                   for k, v in stats.summary().items()},
    }


def warm_up(input_path: str) -> None:
    """Load the models once so the first scenario does not pay for imports."""
    from hookcam.analysis.expression import ExpressionModel
    from hookcam.faces.detect import FaceDetector

    img = np.zeros((720, 1280, 3), np.uint8)
    d = FaceDetector()
    d.detect(img)
    d.close()
    ExpressionModel()


def cpu_floor(input_path: str, frames: int) -> dict:
    """Decoding the clip alone, paced at its frame rate (what any webcam app pays): the floor the
    `cpu-*` scenarios are compared with."""
    source = VideoSource(input_path, loop=True)
    period = 1.0 / source.info.fps
    try:
        source.read()
        c0, w0 = time.process_time(), time.monotonic()
        due = w0
        for _ in range(frames):
            if source.read() is None:
                break
            due += period
            if (delay := due - time.monotonic()) > 0:
                time.sleep(delay)
        return _cores(c0, w0, frames)
    finally:
        source.close()


def cpu_scenario(input_path: str, frames: int, effect: str, model_dir=None) -> dict:
    """The real pipeline paced at the clip's rate (as a webcam delivers it) into a null output:
    CPU cores used = process CPU time (all threads) / wall time, after the models are loaded."""
    from hookcam.models import ModelStore
    from hookcam.pipeline import Pipeline

    settings = make_settings(input=str(input_path), outputs=["null"], effect=effect,
                             max_frames=frames, loop=True, realtime=True, model_dir=model_dir,
                             control=False)
    source = VideoSource(input_path, loop=True)
    pipe = Pipeline(settings, source, [NullSink()], store=ModelStore(model_dir), lockstep=False)
    if pipe.analyzer.needs:  # load the models before the clock starts
        pipe.analyzer.process(source.read(), time.monotonic())
    c0, w0 = time.process_time(), time.monotonic()
    pipe.stats.started = w0
    stats = pipe.run()
    out = _cores(c0, w0, stats.frames_out)
    out["fps"] = round(stats.average_fps(), 2)
    return out


def _cores(c0: float, w0: float, frames: int) -> dict:
    cpu, wall = time.process_time() - c0, time.monotonic() - w0
    return {"cores": round(cpu / wall, 3) if wall > 0 else 0.0, "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "frames": frames}


def cpu_model() -> str:
    """The CPU's model name (what `lscpu` shows), for the record beside every figure."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown"
