"""Carry the live face's motion onto the last stylised face, every frame.

A stylised crop was made from a real aligned crop some frames ago. Dense optical flow (OpenCV's
DIS, on small grey copies of the two real aligned crops) says where each pixel of the crop now
was in that older crop; `cv2.remap` moves the stylised pixels the same way, so mouth and eyes
open and close at the camera's rate, not the GAN's.

Flow cannot make what was not there (teeth and the inside of an opening mouth, an eyelid over
a closing eye): where the warped old real crop still differs from the real crop now, the real
change (now minus warped old) is added onto the stylised face, so a mouth that opens gets its
dark inside and an eye that closes gets its lid. A motion bigger than the flow can follow (a
quick head turn) makes the warp step aside: the newest stylised result is shown unwarped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from hookcam.effects.anime.blend import ellipse_mask

GRID = 128  # side of the grey crops the flow is computed on (DIS ~0.2 ms here on one core)
# Where the warped old real crop differs from the real crop now by more than ERR_LO grey levels
# (ERR_HI: fully), the real change is added onto the stylised face.
ERR_LO, ERR_HI = 10.0, 28.0
# The warp follows motions up to FOLLOW of the crop side (median flow in the face); beyond
# GIVE_UP it steps aside completely (the newest result is shown unwarped). In between: a blend.
FOLLOW, GIVE_UP = 0.06, 0.12
BAD_ERR = 24.0  # mean residual grey error in the face after warping: the flow did not fit


@dataclass
class WarpInfo:
    trust: float  # 1: warped; 0: fell back to the result as it is
    motion: float  # median flow in the face, as a share of the crop side
    error: float  # mean abs grey error in the face after warping


@lru_cache(maxsize=4)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.arange(n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)
    gx.setflags(write=False)
    gy.setflags(write=False)
    return gx, gy


@lru_cache(maxsize=4)
def _face_mask(n: int, crop: str) -> np.ndarray:
    m = cv2.resize(ellipse_mask(256, crop), (n, n), interpolation=cv2.INTER_AREA) > 0.5
    m.setflags(write=False)
    return m


def grey(crop: np.ndarray, n: int = GRID) -> np.ndarray:
    """The small grey copy of an aligned crop that the flow is computed on."""
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return cv2.resize(g, (n, n), interpolation=cv2.INTER_AREA)


class FlowWarp:
    """One per face track: DIS flow + remap (not thread-safe: DIS keeps buffers)."""

    def __init__(self, crop_kind: str = "tight", n: int = GRID):
        self.n = n
        self.crop_kind = crop_kind
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.dis.setFinestScale(1)  # half-resolution patches: lips are a few pixels at 128

    def flow(self, now_g: np.ndarray, then_g: np.ndarray) -> np.ndarray:
        """(n, n, 2) float32: pixel x of the crop now was at x + flow[x] in the older crop."""
        return self.dis.calc(now_g, then_g, None)

    def warp(self, styled: np.ndarray, then_real: np.ndarray, then_g: np.ndarray, now_real: np.ndarray,
             now_g: np.ndarray) -> tuple[np.ndarray, WarpInfo]:
        """`styled` (made from `then_real`) moved to how the face looks in `now_real`."""
        n, size = self.n, styled.shape[0]
        f = self.flow(now_g, then_g)
        f = cv2.GaussianBlur(f, (0, 0), 1.5)  # DIS patches leave blocky edges
        gx, gy = _grid(n)
        mx, my = gx + f[..., 0], gy + f[..., 1]
        back = cv2.remap(then_g, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        face = _face_mask(n, self.crop_kind)
        err = cv2.absdiff(back, now_g)
        mag = np.sqrt(f[..., 0] ** 2 + f[..., 1] ** 2)[face]
        motion = float(np.median(mag)) / n
        error = float(err[face].mean())
        trust = 1.0 - float(np.clip((motion - FOLLOW) / (GIVE_UP - FOLLOW), 0.0, 1.0))
        if error > BAD_ERR:
            trust = 0.0
        info = WarpInfo(trust, motion, error)
        if trust <= 0.0:
            return styled, info
        # Full-size maps: the flow scaled up to the stylised crop's side.
        k = size / n
        big = cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) * k
        bx, by = _grid(size)
        mx, my = bx + big[..., 0], by + big[..., 1]
        out = cv2.remap(styled, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # What flow cannot carry: add the real change where the warped old real crop is wrong.
        w = np.clip((cv2.GaussianBlur(err.astype(np.float32), (0, 0), 2.0) - ERR_LO) / (ERR_HI - ERR_LO), 0, 1)
        if float(w.max()) > 0.0:
            w = cv2.resize(w, (size, size), interpolation=cv2.INTER_LINEAR)
            old = cv2.remap(then_real, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            delta = (now_real.astype(np.float32) - old.astype(np.float32)) * w[..., None]
            out = cv2.add(out.astype(np.float32), delta)
            out = np.clip(out, 0, 255).astype(np.uint8)
        if trust < 1.0:
            out = cv2.addWeighted(out, trust, styled, 1.0 - trust, 0.0)
        return out, info
