"""Sinks: what the user typed after --output -> an open Sink."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hookcam.errors import SinkError
from hookcam.sinks.base import NullSink, Sink
from hookcam.sinks.safefile import refuse_input_as_output

if TYPE_CHECKING:
    from hookcam.sinks.audio import AudioFrom

__all__ = ["Sink", "open_sink", "resolve_auto", "is_live_spec"]

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm"}


def is_live_spec(spec: str) -> bool:
    return spec in ("window", "virtualcam") or spec.startswith("/dev/video")


def resolve_auto() -> str:
    """`auto`: the first v4l2loopback device, else a window if there is a display, else a file."""
    from hookcam.sinks.window import display_available

    if sys.platform.startswith("linux"):
        from hookcam.v4l2 import loopback_devices

        devices = loopback_devices()
        if devices:
            return devices[0]
        fallback = "window" if display_available() else "hookcam-output.mp4"
        print(f"hookcam: no virtual camera (v4l2loopback) found, so output goes to {fallback}; "
              "`hookcam doctor` explains how to get one", file=sys.stderr)
        return fallback
    return "virtualcam"


def open_sink(spec: str, width: int, height: int, fps: float, on_key=None, *,
              input_spec: str | None = None, audio: AudioFrom | None = None) -> Sink | None:
    """Returns None for a sink that is skipped (a window with no display).

    `input_spec`: what --input named; an output that is that same file is refused.
    `audio`: where a video file output takes its sound from (None: no sound).
    """
    if spec == "null":
        return NullSink()
    if spec == "-":
        from hookcam.sinks.stdout import StdoutSink

        return StdoutSink(width, height, fps)
    if spec == "window":
        from hookcam.sinks.window import WindowSink, display_available

        if not display_available():
            print("hookcam: no display (DISPLAY is not set), so the preview window is skipped",
                  file=sys.stderr)
            return None
        return WindowSink(width, height, fps, on_key)
    if spec == "virtualcam" or spec.startswith("/dev/"):
        return _virtual_camera(None if spec == "virtualcam" else spec, width, height, fps)
    path = Path(spec).expanduser()
    refuse_input_as_output(path, input_spec)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from hookcam.sinks.video import VideoFileSink

        return VideoFileSink(path, width, height, fps, audio)
    if Path(spec).exists() and not path.is_dir():
        # Any other existing file may be a virtual camera device node (tests use a FUSE file).
        return _virtual_camera(spec, width, height, fps)
    raise SinkError(f"unknown output {spec!r}: use /dev/videoN, a .mp4/.mkv file, window, - or null")


def _virtual_camera(device: str | None, width: int, height: int, fps: float) -> Sink:
    """A virtual camera that fails mid-run is retried every second (sinks/retry.py)."""
    from hookcam.sinks.retry import RetryingSink
    from hookcam.sinks.virtualcam import VirtualCamSink

    return RetryingSink(lambda: VirtualCamSink(device, width, height, fps))
