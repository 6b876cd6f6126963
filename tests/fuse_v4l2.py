"""A FUSE file that behaves like a v4l2loopback output device, as far as pyvirtualcam can tell.

pyvirtualcam's v4l2loopback backend opens the device O_WRONLY|O_SYNC, asks VIDIOC_QUERYCAP
(driver must be "v4l2 loopback" with the VIDEO_OUTPUT capability), sets the format with
VIDIOC_S_FMT, then write()s whole I420 frames. This filesystem answers those ioctls the way
the kernel module does and records every byte written, so a test can decode the frames that
reached the "camera". Run as:  python fuse_v4l2.py MOUNTPOINT RECORD_DIR [--count-only]

RECORD_DIR gets `frames.raw` (the bytes written, at their file offsets; a later open appends
after what is there), `format.json` (the last S_FMT) and `events.log` (open/release lines, for
the idle watcher tests; each open says the frames.raw offset its writes start at).

Faults on demand: while RECORD_DIR/fail exists and names an errno (EIO, EBUSY, ENODEV, ...),
every write() and every open() for writing fails with it, as a device that went away or was
taken by another program does. Remove the file and the device works again.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import stat
import sys
import threading
import time

from fuse import FUSE, FuseOSError, Operations

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
from hookcam import v4l2  # noqa: E402  (struct layouts shared with `hookcam doctor`)

DEVICE = "video9"
CAPS = v4l2.CAP_VIDEO_OUTPUT | v4l2.CAP_READWRITE | v4l2.CAP_STREAMING


class LoopbackDevice(Operations):
    def __init__(self, record_dir: str, keep_frames: bool = True):
        self.dir = record_dir
        # keep_frames=False (--count-only, for long benchmarks): bytes are counted, not stored;
        # the device's st_size still says how many were written.
        self.raw = open(os.path.join(record_dir, "frames.raw"), "w+b") if keep_frames else None
        self.events = open(os.path.join(record_dir, "events.log"), "a", buffering=1)
        self.write_lock = threading.Lock()
        self.size = 0
        self.fmt = v4l2.Format()
        self.bases: dict[int, int] = {}  # file handle -> where its writes start in frames.raw
        self.next_fh = 1

    def _fault(self) -> None:
        try:
            with open(os.path.join(self.dir, "fail")) as f:
                name = f.read().strip() or "EIO"
        except FileNotFoundError:
            return
        raise FuseOSError(getattr(errno, name, errno.EIO))

    # -- files -------------------------------------------------------------------------
    def getattr(self, path, fh=None):
        now = time.time()
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2, "st_atime": now,
                    "st_mtime": now, "st_ctime": now}
        if path == "/" + DEVICE:
            return {"st_mode": stat.S_IFREG | 0o666, "st_nlink": 1, "st_size": self.size,
                    "st_atime": now, "st_mtime": now, "st_ctime": now}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", DEVICE]

    def open(self, path, flags):
        if path != "/" + DEVICE:
            raise FuseOSError(errno.ENOENT)
        if flags & (os.O_WRONLY | os.O_RDWR):
            self._fault()
        with self.write_lock:
            fh, self.next_fh = self.next_fh, self.next_fh + 1
            self.bases[fh] = self.size
        self.events.write(f"{time.time():.3f} open {flags:o} at {self.bases[fh]}\n")
        return fh

    def release(self, path, fh):
        self.events.write(f"{time.time():.3f} release\n")
        return 0

    def truncate(self, path, length, fh=None):
        return 0

    def read(self, path, size, offset, fh):
        return b""

    def write(self, path, data, offset, fh):
        self._fault()
        with self.write_lock:
            offset += self.bases.get(fh, 0)
            if self.raw is not None:
                self.raw.seek(offset)
                self.raw.write(data)
                self.raw.flush()
            self.size = max(self.size, offset + len(data))
        return len(data)

    # -- the two ioctls pyvirtualcam issues (plus G_FMT for good measure) ---------------
    def ioctl(self, path, cmd, arg, fh, flags, data):
        self._fault()
        cmd &= 0xFFFFFFFF
        if cmd == v4l2.VIDIOC_QUERYCAP:
            cap = v4l2.Capability(driver=b"v4l2 loopback", card=b"hookcam test device",
                                  bus_info=b"platform:v4l2loopback-009", version=0x00060100,
                                  capabilities=CAPS | v4l2.CAP_DEVICE_CAPS, device_caps=CAPS)
            ctypes.memmove(data, ctypes.byref(cap), ctypes.sizeof(cap))
            return 0
        if cmd in (v4l2.VIDIOC_S_FMT, v4l2.VIDIOC_G_FMT):
            fmt = v4l2.Format()
            ctypes.memmove(ctypes.byref(fmt), data, ctypes.sizeof(fmt))
            if cmd == v4l2.VIDIOC_S_FMT:
                if fmt.type != v4l2.BUF_TYPE_VIDEO_OUTPUT:
                    raise FuseOSError(errno.EINVAL)
                pix = fmt.pix
                pix.bytesperline = pix.width
                pix.sizeimage = pix.width * pix.height * 3 // 2
                self.fmt = fmt
                with open(os.path.join(self.dir, "format.json"), "w") as f:
                    json.dump({"width": pix.width, "height": pix.height,
                               "pixelformat": v4l2.fourcc_text(pix.pixelformat),
                               "sizeimage": pix.sizeimage}, f)
            ctypes.memmove(data, ctypes.byref(self.fmt), ctypes.sizeof(self.fmt))
            return 0
        raise FuseOSError(errno.ENOTTY)


def main() -> None:
    mountpoint, record_dir = sys.argv[1], sys.argv[2]
    keep = "--count-only" not in sys.argv[3:]
    FUSE(LoopbackDevice(record_dir, keep), mountpoint, foreground=True, nothreads=False,
         allow_other=False, big_writes=True, direct_io=True)


if __name__ == "__main__":
    main()
