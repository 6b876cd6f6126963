"""Carry the live face's motion onto the last stylised face, every frame.

A stylised crop was made from a real aligned crop some frames ago. Dense optical flow (OpenCV's
DIS, on small grey copies of the two real aligned crops) says where each pixel of the crop now
was in that older crop; `cv2.remap` moves the stylised pixels the same way, so mouth and eyes
open and close at the camera's rate, not the GAN's.

Flow cannot make what was not there (teeth and the inside of an opening mouth, an eyelid over
a closing eye): where the warped old real crop still differs from the real crop now, the live
face shows through (feathered) until the next GAN result draws it, so a mouth that opens gets
its dark inside at once. (Adding only the real change onto the stylised face was tried: the
red of the lips subtracted from the pale anime skin left a grey smear.) A motion bigger than
the flow can follow (a quick head turn) makes the warp step aside: the newest stylised result
is shown unwarped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from hookcam.effects.anime.blend import ellipse_mask

GRID = 128  # about the side of the grey crops the flow is computed on (DIS ~0.2 ms on one core)
FINEST_SCALE = 1  # DIS patches down to 1/2 of the grey crop. With an identity "GAN" (the real crop
# warped, so a perfect warp gives r 1) and results 9 frames late, as on a slow laptop, mouth sync on
# the validation clips lp_s32 / tps_driving: 1/4 0.82/0.91, 1/2 0.92/0.95 (1/1 on an 80 grid 0.87/0.89,
# 1/2 on a 107 grid 0.77/0.91). 1/2 costs ~0.7 ms more DIS, paid for by the cheaper statistics below.
# Where the warped old real crop differs from the real crop now by more than ERR_LO grey levels
# (ERR_HI: fully), the live face shows through. Chosen on the validation clips lp_d19,
# tps_driving and lp_s32 (GAN every 8th frame, JP_face): 10/28 gave r 0.847/0.875/0.878, 6/18
# 0.864/0.900/0.862; about even, and 10/28 shows less of the live face (and holds up better
# with the head moving, lp_s32).
ERR_LO, ERR_HI = 10.0, 28.0
# The warp follows motions up to FOLLOW of the crop side (median flow in the face); beyond
# GIVE_UP it steps aside completely (the newest result is shown unwarped). In between: a blend.
FOLLOW, GIVE_UP = 0.10, 0.16
BAD_ERR = 24.0  # mean residual grey error in the face after warping: the flow did not fit
# Share of the face the live face would show through: a mouth is up to ~10%; more is a turn the
# flow did not follow (it would ghost), so the warp steps aside between AREA_LO and AREA_HI.
AREA_LO, AREA_HI = 0.12, 0.25
AREA_ERR = 19.0  # grey error (blurred) above which a pixel counts towards that share


@dataclass
class WarpInfo:
    trust: float  # 1: warped; 0: fell back to the result as it is
    motion: float  # median flow in the face, as a share of the crop side
    error: float  # mean abs grey error in the face after warping
    area: float = 0.0  # share of the face where the live face shows through


@lru_cache(maxsize=4)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.arange(n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)
    gx.setflags(write=False)
    gy.setflags(write=False)
    return gx, gy


@lru_cache(maxsize=4)
def _grid2(n: int) -> np.ndarray:
    gx, gy = _grid(n)
    g = np.dstack([gx, gy])
    g.setflags(write=False)
    return g


@lru_cache(maxsize=4)
def _face_mask(n: int, crop: str) -> np.ndarray:
    """uint8 n x n, 255 on the face (inside the paste mask's ellipse)."""
    m = (cv2.resize(ellipse_mask(256, crop), (n, n), interpolation=cv2.INTER_AREA) > 0.5).astype(np.uint8) * 255
    m.setflags(write=False)
    return m


@lru_cache(maxsize=4)
def _face_sample(n: int, crop: str) -> np.ndarray:
    """Every other face pixel in each direction: enough for the median motion, 4x cheaper."""
    m = np.zeros((n, n), bool)
    m[::2, ::2] = _face_mask(n, crop)[::2, ::2] > 0
    m.setflags(write=False)
    return m


@lru_cache(maxsize=4)
def _scaled_grid(n: int, k: float) -> np.ndarray:
    """Small-grid positions in big-crop pixels, k (x + 0.5) - 0.5: resized bilinearly to the big
    side they are the big crop's own pixel grid, so the small map can be resized as it is."""
    g = _grid2(n) * np.float32(k) + np.float32(0.5 * k - 0.5)
    g.setflags(write=False)
    return g


def grid_side(size: int) -> int:
    """GRID or a bit more: the crop side over a whole factor (INTER_AREA's fast path)."""
    return size // max(1, int(size / GRID))


def grey(crop: np.ndarray) -> np.ndarray:
    """The small grey copy of an aligned crop that the flow is computed on."""
    n = grid_side(crop.shape[0])
    small = cv2.resize(crop, (n, n), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)


class FlowWarp:
    """One per face track: DIS flow + remap (not thread-safe: DIS keeps buffers)."""

    def __init__(self, crop_kind: str = "tight"):
        self.crop_kind = crop_kind
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.dis.setFinestScale(FINEST_SCALE)

    def flow(self, now_g: np.ndarray, then_g: np.ndarray) -> np.ndarray:
        """(n, n, 2) float32: pixel x of the crop now was at x + flow[x] in the older crop."""
        return self.dis.calc(now_g, then_g, None)

    def warp(self, styled: np.ndarray, then_real: np.ndarray, then_g: np.ndarray, now_real: np.ndarray,
             now_g: np.ndarray) -> tuple[np.ndarray, WarpInfo]:
        """`styled` (made from `then_real`) moved to how the face looks in `now_real`."""
        n, size = now_g.shape[0], styled.shape[0]
        f = self.flow(now_g, then_g)
        f = cv2.GaussianBlur(f, (0, 0), 1.5)  # DIS patches leave blocky edges
        gx, gy = _grid(n)
        back = cv2.remap(then_g, gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        face = _face_mask(n, self.crop_kind)
        err = cv2.absdiff(back, now_g)
        sample = f[_face_sample(n, self.crop_kind)]
        motion = float(np.median(np.hypot(sample[:, 0], sample[:, 1]))) / n
        error = cv2.mean(err, face)[0]
        blurred = cv2.GaussianBlur(err, (0, 0), 2.0)
        _, over = cv2.threshold(blurred, AREA_ERR, 255, cv2.THRESH_BINARY)
        area = cv2.countNonZero(cv2.bitwise_and(over, face)) / max(1, cv2.countNonZero(face))
        trust = 1.0 - float(np.clip((motion - FOLLOW) / (GIVE_UP - FOLLOW), 0.0, 1.0))
        trust = min(trust, 1.0 - float(np.clip((area - AREA_LO) / (AREA_HI - AREA_LO), 0.0, 1.0)))
        if error > BAD_ERR:
            trust = 0.0
        info = WarpInfo(trust, motion, error, area)
        if trust <= 0.0:
            return styled, info
        # Full-size maps: the small map (flow + grid, in big-crop pixels) resized, in fixed point
        # (2x faster remap).
        k = size / n
        small = f * np.float32(k)
        small += _scaled_grid(n, k)
        m1, m2 = cv2.convertMaps(cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR), None,
                                 cv2.CV_16SC2)
        out = cv2.remap(styled, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # What flow cannot carry (a mouth's inside, teeth, a lid): the live face shows through where
        # the warped old real crop still differs from the real crop now (on the face only: outside
        # it the paste mask shows the frame itself).
        _, shows = cv2.threshold(blurred, ERR_LO, 255, cv2.THRESH_BINARY)
        gx0, gy0, bw, bh = cv2.boundingRect(cv2.bitwise_and(shows, face))
        if bw and bh:
            # Only the box where the live face shows (usually the mouth), weights sized to it.
            y0, y1, x0, x1 = int(gy0 * k), min(size, int((gy0 + bh) * k)), int(gx0 * k), min(size, int((gx0 + bw) * k))
            if y1 > y0 and x1 > x0:
                w = blurred[gy0 : gy0 + bh, gx0 : gx0 + bw].astype(np.float32)
                w -= ERR_LO
                w *= 1.0 / (ERR_HI - ERR_LO)
                wb = cv2.resize(np.clip(w, 0, 1), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
                out[y0:y1, x0:x1] = cv2.blendLinear(np.ascontiguousarray(now_real[y0:y1, x0:x1]),
                                                    np.ascontiguousarray(out[y0:y1, x0:x1]), wb, 1.0 - wb)
        if trust < 1.0:
            out = cv2.addWeighted(out, trust, styled, 1.0 - trust, 0.0)
        return out, info
