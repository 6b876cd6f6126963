"""Heavy background work yields the CPU to capture, analysis and output.

The anime GAN fills every core it is given; on a 2-core laptop its threads would take an equal
share beside the output loop, which then sends frames late (measured on a 2-core AVX2 machine,
JP_face on a 720p clip paced at 30 fps, two runs each: latency p95 21-25 ms and 29.7-29.9 fps
with the GAN at normal priority, 12-13 ms and 30.0 fps with it lowered, its rate the same). A
worker thread calls `yield_cpu()` first thing: on Linux the nice value is per thread and threads
it starts later (the runtime's own pools, compiled on the worker's first call) inherit it, so
the GAN still gets every cycle the live path leaves idle, but never makes a frame late.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICE = 10  # a nice-0 thread gets about 10x the CPU of a nice-10 one when both want it


def yield_cpu(nice: int = BACKGROUND_NICE) -> bool:
    """Lower the calling thread's priority by `nice`; True if it took. Elsewhere than Linux
    (where setpriority would reach the whole process) it does nothing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + nice))
        return True
    except (AttributeError, OSError):
        return False
