"""OpenCV works on the calling thread.

OpenCV splits each call (resize, remap, blur, colour conversion) over a pool of one thread per
core. hookcam's per-frame images are small (the anime warp's 160x160 grey face, a 320 crop, the
detector's input) and every stage already runs on a thread of its own, so on a 2-core laptop the
pool mostly hands work over and spins waiting for it. Measured on a 2-core AMD EPYC (AVX2): the
anime warp's per-frame path took 4.75 ms of process CPU a frame with the pool against 2.78 on the
calling thread, for 2.65 against 2.78 ms of wall time; paced at 720p30, smile and emotion used 8%
fewer cores on one thread (four interleaved pairs each, `benchmarks/README.md`).

The command line starts with `OPENCV_FOR_THREADS_NUM=1` unless the environment already says
otherwise (the user's choice wins). `library_default()` gives a baseline the library's own pool
back, as the 2020 tool ran it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "OPENCV_FOR_THREADS_NUM"


def calling_thread() -> bool:
    """OpenCV on the calling thread from now on (before cv2 is first used: OpenCV reads the
    variable then); True if set, False where the environment already chose."""
    if ENV in os.environ:
        return False
    os.environ[ENV] = "1"
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:  # already loaded (a library user): tell it directly too
        cv2.setNumThreads(1)
    return True


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextmanager
def library_default() -> Iterator[None]:
    """OpenCV's own pool (a thread per core) inside the block, as a plain OpenCV script runs."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(_cores())
    try:
        yield
    finally:
        cv2.setNumThreads(before)
