"""The few Video4Linux2 ioctls hookcam needs to tell cameras from loopback outputs (Linux only).

Struct layouts follow <linux/videodev2.h>; sizes are fixed for 64-bit Linux.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
from dataclasses import dataclass, field


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord("V") << 8) | nr


_READ, _RW = 2, 3


class Capability(ctypes.Structure):
    _fields_ = [
        ("driver", ctypes.c_char * 16),
        ("card", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("version", ctypes.c_uint32),
        ("capabilities", ctypes.c_uint32),
        ("device_caps", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    ]


class FmtDesc(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("description", ctypes.c_char * 32),
        ("pixelformat", ctypes.c_uint32),
        ("mbus_code", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    ]


class FrmSizeEnum(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 6),  # discrete: width, height; stepwise: 6 values
        ("reserved", ctypes.c_uint32 * 2),
    ]


class FrmIvalEnum(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 6),  # discrete: numerator, denominator
        ("reserved", ctypes.c_uint32 * 2),
    ]


class PixFormat(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("pixelformat", ctypes.c_uint32),
        ("field", ctypes.c_uint32),
        ("bytesperline", ctypes.c_uint32),
        ("sizeimage", ctypes.c_uint32),
        ("colorspace", ctypes.c_uint32),
        ("priv", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("ycbcr_enc", ctypes.c_uint32),
        ("quantization", ctypes.c_uint32),
        ("xfer_func", ctypes.c_uint32),
    ]


class Format(ctypes.Structure):
    """struct v4l2_format: the union is 200 bytes, 8-byte aligned (it holds pointers)."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("_pad", ctypes.c_uint32),
        ("pix", PixFormat),
        ("_rest", ctypes.c_uint8 * (200 - ctypes.sizeof(PixFormat))),
    ]


VIDIOC_QUERYCAP = _ioc(_READ, 0, ctypes.sizeof(Capability))
VIDIOC_ENUM_FMT = _ioc(_RW, 2, ctypes.sizeof(FmtDesc))
VIDIOC_G_FMT = _ioc(_RW, 4, ctypes.sizeof(Format))
VIDIOC_S_FMT = _ioc(_RW, 5, ctypes.sizeof(Format))
VIDIOC_ENUM_FRAMESIZES = _ioc(_RW, 74, ctypes.sizeof(FrmSizeEnum))
VIDIOC_ENUM_FRAMEINTERVALS = _ioc(_RW, 75, ctypes.sizeof(FrmIvalEnum))

CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_OUTPUT = 0x00000002
CAP_READWRITE = 0x01000000
CAP_STREAMING = 0x04000000
CAP_DEVICE_CAPS = 0x80000000
BUF_TYPE_VIDEO_CAPTURE = 1
BUF_TYPE_VIDEO_OUTPUT = 2
LOOPBACK_DRIVER = "v4l2 loopback"


def fourcc(code: str) -> int:
    a, b, c, d = (ord(ch) for ch in code)
    return a | (b << 8) | (c << 16) | (d << 24)


def fourcc_text(value: int) -> str:
    return "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4)).strip()


@dataclass
class DeviceInfo:
    path: str
    driver: str
    card: str
    caps: int
    formats: dict[str, list[str]] = field(default_factory=dict)  # fourcc -> ["1280x720@30", ...]

    @property
    def is_loopback(self) -> bool:
        return self.driver == LOOPBACK_DRIVER

    @property
    def can_capture(self) -> bool:
        return bool(self.caps & CAP_VIDEO_CAPTURE)

    @property
    def can_output(self) -> bool:
        return bool(self.caps & CAP_VIDEO_OUTPUT)


def query(path: str, with_formats: bool = False) -> DeviceInfo:
    """VIDIOC_QUERYCAP (and optionally the capture formats, sizes and frame rates)."""
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        cap = Capability()
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, cap)
        caps = cap.device_caps if cap.capabilities & CAP_DEVICE_CAPS else cap.capabilities
        info = DeviceInfo(path, cap.driver.decode(errors="replace"), cap.card.decode(errors="replace"), caps)
        if with_formats and info.can_capture:
            info.formats = _formats(fd)
        return info
    finally:
        os.close(fd)


def _formats(fd: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i in range(64):
        d = FmtDesc(index=i, type=BUF_TYPE_VIDEO_CAPTURE)
        try:
            fcntl.ioctl(fd, VIDIOC_ENUM_FMT, d)
        except OSError:
            break
        sizes: list[str] = []
        for j in range(64):
            s = FrmSizeEnum(index=j, pixel_format=d.pixelformat)
            try:
                fcntl.ioctl(fd, VIDIOC_ENUM_FRAMESIZES, s)
            except OSError:
                break
            w, h = s.data[0], s.data[1]
            if s.type != 1:  # stepwise/continuous: report the range
                sizes.append(f"{s.data[0]}x{s.data[2]}..{s.data[1]}x{s.data[3]}")
                break
            rates = []
            for k in range(32):
                iv = FrmIvalEnum(index=k, pixel_format=d.pixelformat, width=w, height=h)
                try:
                    fcntl.ioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, iv)
                except OSError:
                    break
                if iv.data[0]:
                    rates.append(f"{iv.data[1] / iv.data[0]:g}")
            sizes.append(f"{w}x{h}@{'/'.join(rates) or '?'}")
        out[fourcc_text(d.pixelformat)] = sizes
    return out


def is_capture_device(path: str) -> bool:
    """A real camera node (not a loopback device, not a metadata node)."""
    try:
        info = query(path)
    except OSError:
        return False
    return info.can_capture and not info.is_loopback


def loopback_devices() -> list[str]:
    """The /dev/video* nodes that belong to v4l2loopback, in number order."""
    import glob

    found = []
    for path in sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p)):
        try:
            if query(path).is_loopback:
                found.append(path)
        except OSError:
            continue
    return found
