"""Bench scenarios for the frame stages: background blur, background image, framing.

Each runs the real pipeline (capture thread, async analysis, segmentation worker, output loop)
on the clip, unpaced, effect none, and adds the process CPU per wall second (`cpu_cores`)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from hookcam.bench.core import result
from hookcam.models import ModelStore
from hookcam.settings import make_settings
from hookcam.sinks.base import NullSink
from hookcam.sources.video import VideoSource


def _picture(folder: Path) -> Path:
    """A replacement picture (a colour gradient with rings), written to a temporary folder."""
    y, x = np.mgrid[0:720, 0:1280].astype(np.float32)
    img = np.dstack([x / 5 % 256, y / 3 % 256, (np.hypot(x - 640, y - 360) / 2) % 256]).astype(np.uint8)
    path = folder / "backdrop.jpg"
    cv2.imwrite(str(path), img)
    return path


def run(name: str, input_path: str, frames: int, model_dir=None, paced: bool = False) -> dict:
    from hookcam.pipeline import Pipeline

    with tempfile.TemporaryDirectory(prefix="hookcam-bench-") as tmp:
        extra = {"background-blur": {"background": "blur"},
                 "background-image": {"background": str(_picture(Path(tmp)))},
                 "framing": {"framing": "auto"}}[name]
        settings = make_settings(input=str(input_path), outputs=["null"], effect="none", max_frames=frames,
                                 loop=True, realtime=paced, model_dir=model_dir, control=False, **extra)
        pipe = Pipeline(settings, VideoSource(input_path, loop=True), [NullSink()],
                        store=ModelStore(model_dir), lockstep=False, log=lambda m: None)
        info = pipe.source.info
        for stage in pipe.stages:
            if hasattr(stage, "wait_ready"):  # the segmentation model is loaded before the clock starts
                stage.process(np.zeros((info.height, info.width, 3), np.uint8), [])
                stage.wait_ready(60)
        t0, c0 = time.monotonic(), _cpu()
        pipe.stats.started = time.monotonic()
        stats = pipe.run()
        wall, cpu = time.monotonic() - t0, _cpu() - c0
    out = result(stats)
    out["cpu_cores"] = round(cpu / wall, 2) if wall > 0 else None
    return out


def _cpu() -> float:
    t = os.times()
    return t.user + t.system
