"""The virtual camera, through pyvirtualcam (v4l2loopback on Linux, OBS on Windows/macOS)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from hookcam.errors import SinkError

if TYPE_CHECKING:
    import numpy as np

MODPROBE = ('sudo modprobe v4l2loopback devices=1 video_nr=10 card_label="hookcam" '
            "exclusive_caps=1")


class VirtualCamSink:
    live = True

    def __init__(self, device: str | None, width: int, height: int, fps: float):
        import pyvirtualcam

        self.device = device
        linux = bool(device) and sys.platform.startswith("linux")
        if linux:
            _precheck(device)
        fds = _fds_on(device) if linux else set()
        try:
            self.cam = pyvirtualcam.Camera(
                width=width, height=height, fps=fps, fmt=pyvirtualcam.PixelFormat.BGR,
                device=device, print_fps=False,
            )
        except Exception as e:  # pyvirtualcam raises RuntimeError/ValueError with its own text
            raise SinkError(explain(device, e)) from None
        self.name = f"virtual camera {self.cam.device}"
        # pyvirtualcam only prints a failed write ("error writing frame") and carries on, so the
        # device's own file descriptor is asked (VIDIOC_G_FMT) before each frame: a device that
        # went away or fails answers with an error, and send() raises SinkError.
        self._fd = _device_fd(device, fds) if linux else None

    def send(self, image: np.ndarray) -> None:
        if self._fd is not None and (problem := _device_problem(self._fd)):
            raise SinkError(f"{self.name} stopped taking frames ({problem})")
        try:
            self.cam.send(image)
        except Exception as e:
            raise SinkError(f"{self.name}: writing failed ({e}); is the device still there?") from None

    def close(self) -> None:
        self._fd = None
        self.cam.close()


def _fds_on(device: str) -> set[int]:
    """This process's file descriptors open on `device`."""
    target, found = os.path.realpath(device), set()
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") == target:
                found.add(int(name))
        except (OSError, ValueError):
            continue
    return found


def _device_fd(device: str, before: set[int]) -> int | None:
    """The descriptor pyvirtualcam just opened on `device` (None if not found, or if the device
    does not answer VIDIOC_G_FMT even now: then there is nothing to check)."""
    new = _fds_on(device) - before
    if len(new) != 1:
        return None
    fd = new.pop()
    return None if _device_problem(fd) else fd


def _device_problem(fd: int) -> str | None:
    import fcntl

    from hookcam import v4l2

    fmt = v4l2.Format()
    fmt.type = v4l2.BUF_TYPE_VIDEO_OUTPUT
    try:
        fcntl.ioctl(fd, v4l2.VIDIOC_G_FMT, bytearray(bytes(fmt)), True)
    except OSError as e:
        return (e.strerror or str(e)).lower()
    return None


def _precheck(device: str) -> None:
    if not os.path.exists(device):
        raise SinkError(f"{device} does not exist: load v4l2loopback ({MODPROBE}) "
                        "and use the device it creates (`hookcam doctor` lists them)")
    if not os.access(device, os.W_OK):
        raise SinkError(f"no permission to write {device}: add yourself to the video group "
                        "(sudo usermod -aG video $USER, then log in again)")


def explain(device: str | None, e: Exception) -> str:
    """pyvirtualcam's error -> one line that says what to do."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    low = text.lower()
    where = device or "the virtual camera"
    if "busy" in low or "resource" in low:
        return f"{where} is busy: another program is writing to it; close it or use another device"
    if "not a valid v4l2loopback" in low or "v4l2 loopback" in low or "not an output" in low:
        return (f"{where} is not a v4l2loopback output device (a real camera?): "
                "`hookcam doctor` lists the loopback devices")
    if "permission" in low:
        return f"no permission to open {where}: add yourself to the video group"
    if "no v4l2 loopback device found" in low or "no device" in low:
        return f"no virtual camera device: load v4l2loopback first: {MODPROBE}"
    if "obs" in low:
        return f"virtual camera unavailable ({text}): install OBS Studio and start its virtual camera once"
    return f"cannot open {where}: {text} (`hookcam doctor` explains the setup)"
