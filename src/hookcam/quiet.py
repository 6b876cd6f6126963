"""Quiet by default: the native libraries' own log lines stay off the terminal.

MediaPipe (TensorFlow Lite, absl, glog), OpenVINO and ONNX Runtime write lines such as
"INFO: Created TensorFlow Lite XNNPACK delegate for CPU." or "W0000 ... Feedback manager ..."
straight to file descriptor 2 from C++, which look like errors to a user. `hookcam` sets their
log-level variables before anything imports them, and routes fd 2 through a pipe whose reader
drops those known lines and passes every other byte on (hookcam's own lines, tracebacks, any
message a library writes that is not on the list). `--verbose` turns all of this off.
"""

from __future__ import annotations

import os
import re
import sys
import threading

# Set before MediaPipe / TensorFlow Lite / OpenCV / ONNX Runtime are imported.
QUIET_ENV = {
    "GLOG_minloglevel": "2",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "OPENCV_LOG_LEVEL": "ERROR",
}

NOISE = re.compile(
    r"^(?:INFO: Created TensorFlow Lite"
    r"|INFO: Initialized TensorFlow Lite"
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\]"  # glog/absl: W0000 00:00:17.5 123 file.cc:114]
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[[IW]:onnxruntime"  # ONNX Runtime warnings
    r"|\[ (?:INFO|WARNING) \]"  # OpenVINO
    r")"
    r"|Feedback manager requires a model"
    r"|GPU supp?ort is not available"  # sic: MediaPipe spells it "suport"
    r"|Created TensorFlow Lite XNNPACK delegate"
)


def is_noise(line: str) -> bool:
    return bool(NOISE.search(line))


def quiet_environment() -> None:
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


class StderrFilter:
    """fd 2 -> a pipe -> a reader thread that drops `is_noise` lines and writes the rest to the
    real stderr. `stop()` puts fd 2 back and passes on whatever is still in the pipe."""

    def __init__(self):
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> StderrFilter:
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)  # not inheritable: children get the pipe as their fd 2
        except (OSError, ValueError, AttributeError):  # no stderr at all (a daemon): nothing to filter
            self._saved = None
            return self
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._thread = threading.Thread(target=self._pump, args=(read_end, self._saved),
                                        name="stderr-filter", daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _pump(read_end: int, out: int) -> None:
        pending = b""
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                kept = b"".join(ln + b"\n" for ln in map(_keep, lines) if ln is not None)
                if kept:
                    _write_all(out, kept)
        if pending and not is_noise(pending.decode("utf-8", "replace")):
            _write_all(out, pending)

    def stop(self) -> None:
        if self._saved is None:
            return
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(self._saved, 2)  # the pipe's last write end closes: the reader sees EOF
        if self._thread is not None:
            self._thread.join(timeout=2)
        os.close(self._saved)
        self._saved = None


def _keep(line: bytes) -> bytes | None:
    """The line to pass on (b"" is an empty line kept), or None to drop it.

    TensorFlow Lite writes "INFO: " and its message in two writes; when another thread's line
    lands in between, the prefix ends up at the end of that line: it is cut off."""
    for prefix in (b"INFO: ", b"WARNING: "):
        if line.endswith(prefix):
            line = line[: -len(prefix)]
            if not line:
                return None
    return None if is_noise(line.decode("utf-8", "replace")) else line


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass
