"""Idle while no app reads the virtual camera (Linux, v4l2loopback).

The watcher puts an inotify watch (libc through ctypes) on the loopback device node and counts
IN_OPEN against IN_CLOSE_WRITE / IN_CLOSE_NOWRITE. It starts after our own writer opened the
device, so every open it sees is someone else's (a reader: Zoom, a browser, ffplay). With no
reader for `idle_after` seconds it calls `pipeline.set_idle(True)` (camera released, still frame
at a low rate); the next open calls `set_idle(False)` (the camera reopens within a second).

Readers that were there before we started, and opens that inotify merged, are found in /proc/*/fd.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import threading
import time
from pathlib import Path

IN_CLOSE_WRITE = 0x00000008
IN_CLOSE_NOWRITE = 0x00000010
IN_OPEN = 0x00000020
IN_IGNORED = 0x00008000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len

DEFAULT_IDLE_AFTER = 3.0


class Inotify:
    """The three libc calls we need, nothing more."""

    def __init__(self):
        if not sys.platform.startswith("linux"):
            raise OSError(errno.ENOSYS, "inotify is Linux only")
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, f"inotify_init1: {os.strerror(e)}")
        self.fd = fd

    def add_watch(self, path: str | os.PathLike, mask: int) -> int:
        wd = self._add(self.fd, os.fsencode(path), mask)
        if wd < 0:
            e = ctypes.get_errno()
            raise OSError(e, f"inotify_add_watch {path}: {os.strerror(e)}")
        return wd

    def read(self, timeout: float) -> list[int]:
        """Event masks that arrived within `timeout` seconds (possibly none)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return []
        masks, pos = [], 0
        while pos + _EVENT.size <= len(data):
            _wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
            masks.append(mask)
            pos += _EVENT.size + length
        return masks

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_elsewhere(device: str | os.PathLike) -> tuple[int, bool]:
    """(file descriptors of other processes pointing at `device`, whether every process could be
    looked at). Without root, other users' processes cannot be: their readers are not seen."""
    try:
        target = os.path.realpath(device)
    except OSError:
        return 0, False
    me, n, complete = os.getpid(), 0, True
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except PermissionError:
            complete = False
            continue
        except OSError:
            continue  # gone meanwhile
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    n += 1
            except OSError:
                continue
    return n, complete


class ReaderCounter:
    """Counts other processes' opens of one file.

    inotify events give the reaction time (an open is seen at once), but the kernel merges an
    event with an identical one still unread in the queue, so two opens (or closes) at the same
    moment count once. A /proc/*/fd scan shortly after each burst of events (and every few
    seconds) corrects the count: taken as is when it could look at every process (root), and
    only ever raising the count otherwise (a reader of another user is invisible to it)."""

    RESYNC_AFTER = 0.3  # s after the last event (a new fd shows in /proc just after IN_OPEN)
    RESYNC_EVERY = 5.0

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self._ino = Inotify()
        self._ino.add_watch(self.path, IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)
        self.readers, _ = open_elsewhere(self.path)  # readers from before we started
        self.changed_at = time.monotonic()
        self._resync_at = self.changed_at + self.RESYNC_EVERY

    def poll(self, timeout: float) -> bool:
        """Wait up to `timeout` s for events; True when the reader count changed."""
        before = self.readers
        masks = self._ino.read(timeout)
        for mask in masks:
            if mask & IN_OPEN:
                self.readers += 1
            if mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE):
                self.readers = max(0, self.readers - 1)  # also our own writer closing at the end
            if mask & IN_IGNORED:
                self.readers = 0  # the device went away
        now = time.monotonic()
        if masks:
            self._resync_at = now + self.RESYNC_AFTER
        elif now >= self._resync_at:
            seen, complete = open_elsewhere(self.path)
            self.readers = seen if complete else max(self.readers, seen)
            self._resync_at = now + self.RESYNC_EVERY
        if self.readers != before:
            self.changed_at = now
            return True
        return False

    def close(self) -> None:
        self._ino.close()


class IdleWatcher:
    """Drives `pipeline.set_idle` from the readers of `device` (see the module text)."""

    def __init__(self, pipeline, device: str | os.PathLike, *, idle_after: float = DEFAULT_IDLE_AFTER,
                 log=None):
        self.pipeline = pipeline
        self.device = str(device)
        self.idle_after = idle_after
        self.log = log or (lambda msg: print(f"hookcam: {msg}", file=sys.stderr))
        self.counter = ReaderCounter(self.device)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="idle-watch", daemon=True)

    @property
    def readers(self) -> int:
        return self.counter.readers

    def start(self) -> IdleWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.counter.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.counter.poll(0.2)
            if self.pipeline.settings.always_on or self.counter.readers > 0:
                if self.pipeline.idle:
                    self.pipeline.set_idle(False)
            elif (not self.pipeline.idle
                  and time.monotonic() - self.counter.changed_at >= self.idle_after):
                self.pipeline.set_idle(True)
        if self.pipeline.idle:
            self.pipeline.set_idle(False)


def loopback_device(pipeline) -> str | None:
    """The v4l2loopback device among the pipeline's outputs (a pyvirtualcam sink on Linux)."""
    for sink in pipeline.sinks:
        sink = getattr(sink, "inner", None) or sink  # a RetryingSink around it (sinks/retry.py)
        cam = getattr(sink, "cam", None)
        device = getattr(cam, "device", None) or getattr(sink, "device", None)
        if device and type(sink).__name__ == "VirtualCamSink" and Path(str(device)).exists():
            return str(device)
    return None


def start_idle_watcher(pipeline, *, idle_after: float = DEFAULT_IDLE_AFTER, log=None) -> IdleWatcher | None:
    """An IdleWatcher when it makes sense: Linux, a live source and a loopback output."""
    if not sys.platform.startswith("linux") or not pipeline.source.info.live:
        return None
    device = loopback_device(pipeline)
    if device is None:
        return None
    try:
        return IdleWatcher(pipeline, device, idle_after=idle_after, log=log).start()
    except OSError as e:
        (log or (lambda m: print(f"hookcam: {m}", file=sys.stderr)))(
            f"cannot watch {device} for readers ({e}); the camera stays on")
        return None
