"""Keep a long run's heap from creeping (glibc's malloc arenas).

glibc gives each thread that allocates its own malloc arena, up to 8 per core. Memory freed in
one arena is not reused by another, so a run that keeps starting threads creeps upward: every
switch to anime mode starts the GAN's worker threads and its runtime's thread pool again. In the
30-minute soak (`benchmarks/soak.py`) the resident memory grew 90 MB; with two arenas it stays
flat. `MALLOC_ARENA_MAX` in the environment (the user's own choice) wins.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas(n: int = 2) -> bool:
    """mallopt(M_ARENA_MAX, n) before the threads start; True if glibc took it."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc.mallopt(M_ARENA_MAX, n) == 1
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to do
        return False
