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

Before the flow, the live crop is registered on the crop the result was made from (`register`:
corners on the older face tracked into the live crop, a similarity fitted to them with RANSAC).
The detector's box lags a fast-moving head by a tenth of a face or more; registering moves the
live crop (and where the anime face is pasted) onto the face itself, so the flow is left only
the mouth, eyes and the small rest, which it follows well.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from hookcam.effects.anime.align import Placement, crop_small
from hookcam.effects.anime.blend import ellipse_mask

GRID = 128  # about the side of the grey crops the flow is computed on: the crop side over a whole
# factor (160 for JP_face's 320, 128 for tiny_Cute's 256; DIS 0.55 ms a frame at 160 on one AVX2
# core). 128 for JP_face's 320 was tried: mouth sync in step with the real GAN on the validation
# clips 0.829 -> 0.784, so not.
FINEST_SCALE = 1  # DIS patches down to 1/2 of the grey crop. With an identity "GAN" (the real crop
# warped, so a perfect warp gives r 1) and results 9 frames late, as on a slow laptop, mouth sync on
# the validation clips lp_s32 / tps_driving: 1/4 0.82/0.91, 1/2 0.92/0.95 (1/1 on an 80 grid 0.87/0.89,
# 1/2 on a 107 grid 0.77/0.91). 1/2 costs ~0.7 ms more DIS, paid for by the cheaper statistics below.
PATCH_STRIDE = 6  # DIS patches every 6 pixels (the ultrafast preset's 4): 2.1 -> 1.8 ms a warp on one
# AVX2 core, mouth sync on the validation clips unchanged (JP_face in step, 0.78 -> 0.79)
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
# On the fast-talking lp_d12 (measured, not tuned on) this share passes AREA_LO in a third to half of
# the paced frames with little motion (median 0.03-0.04). Letting it dim only the show-through and
# keep the warp was tried: validation clips in step (real JP_face GAN every 15th frame, 15 late)
# 0.802 -> 0.811, paced lp_d12 4 interleaved pairs 0.49 -> 0.54 (0.45-0.72): within the run-to-run
# scatter, so not adopted; the mouth there is limited by the GAN's own drawing.
AREA_ERR = 19.0  # grey error (blurred) above which a pixel counts towards that share


# Registration: up to REG_POINTS corners on the older crop's face, tracked by pyramidal
# Lucas-Kanade (REG_WIN window, 3 levels) into the live crop; a similarity (scale, turn, shift)
# fitted with RANSAC needs REG_MIN inliers within REG_TOL grey-crop pixels, a scale within
# REG_SCALE and a turn within REG_TURN radians, else the tracked corners' median shift is used. Chosen on
# validation clips re-framed to move like a lively head (about a face width a second): 40
# points, 10 inliers within 1 px and a 15 px window registered 2 frames in 3 there; these, all.
REG_POINTS, REG_MIN, REG_TOL, REG_WIN = 50, 8, 2.0, 21
REG_SCALE, REG_TURN = (0.8, 1.25), 0.35
REG_BELOW = 0.62  # corners only above this share of the crop height (eyes, brows, nose; no mouth)


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


@lru_cache(maxsize=8)
def _face_sample(n: int, crop: str, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Which of every 4th pixel (each direction) of the box is on the face: enough for the
    median motion, 16x cheaper than all."""
    m = _face_mask(n, crop)[y0:y1:4, x0:x1:4] > 0
    m.setflags(write=False)
    return m


@lru_cache(maxsize=8)
def _boxes(n: int, size: int, crop: str) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """((x0, y0, x1, y1) on the n grid, the same on the crop): a box around where the paste
    mask is not 0, a pixel of margin; the warp needs nothing outside it."""
    ys, xs = np.nonzero(ellipse_mask(size, crop))
    k = size / n
    sx0, sy0 = max(0, int(xs.min() / k) - 1), max(0, int(ys.min() / k) - 1)
    sx1, sy1 = min(n, math.ceil((xs.max() + 1) / k) + 1), min(n, math.ceil((ys.max() + 1) / k) + 1)
    return (sx0, sy0, sx1, sy1), (round(sx0 * k), round(sy0 * k), min(size, round(sx1 * k)), min(size, round(sy1 * k)))


@lru_cache(maxsize=8)
def _box_grid(n: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """(h, w, 2) float32: the n-grid positions of the box's pixels."""
    g = np.ascontiguousarray(_grid2(n)[y0:y1, x0:x1])
    g.setflags(write=False)
    return g


@lru_cache(maxsize=4)
def _inner_mask(n: int, crop: str) -> np.ndarray:
    """The face ellipse shrunk by a tenth, above the mouth: corners there are on the face (not
    its outline) and move with the head, not with the mouth and jaw."""
    m = cv2.erode(_face_mask(n, crop), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (n // 10 * 2 + 1,) * 2))
    m[int(n * REG_BELOW) :] = 0
    m.setflags(write=False)
    return m


def corners(then_g: np.ndarray, crop_kind: str = "tight") -> np.ndarray | None:
    """(k, 1, 2) float32 corners on the face of a real crop's grey copy (None: too few)."""
    n = then_g.shape[0]
    pts = cv2.goodFeaturesToTrack(then_g, REG_POINTS, 0.01, n / 20, mask=_inner_mask(n, crop_kind))
    return pts if pts is not None and len(pts) >= REG_MIN else None


def register(then_g: np.ndarray, pts: np.ndarray, now_g: np.ndarray) -> np.ndarray | None:
    """2x3 similarity taking live grey-crop pixels to where the same point of the face was in
    the older grey crop `then_g` (whose `corners` are `pts`); None where it does not fit. Where
    a turned or tilted head leaves too few corners on one similarity, the median shift of the
    tracked corners (a rough start is still far better for the flow than none)."""
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(then_g, now_g, pts, None, winSize=(REG_WIN, REG_WIN), maxLevel=3)
    ok = st.ravel() == 1
    if ok.sum() < REG_MIN:
        return None
    m, inl = cv2.estimateAffinePartial2D(nxt[ok], pts[ok], method=cv2.RANSAC, ransacReprojThreshold=REG_TOL)
    if m is not None and inl is not None and int(inl.sum()) >= REG_MIN:
        scale, turn = float(np.hypot(m[0, 0], m[1, 0])), float(np.arctan2(m[1, 0], m[0, 0]))
        if REG_SCALE[0] <= scale <= REG_SCALE[1] and abs(turn) <= REG_TURN:
            return m
    d = np.median((pts[ok] - nxt[ok]).reshape(-1, 2), axis=0)
    return np.array([[1.0, 0.0, d[0]], [0.0, 1.0, d[1]]])


def grid_side(size: int) -> int:
    """GRID or a bit more: the crop side over a whole factor (INTER_AREA's fast path)."""
    return size // max(1, int(size / GRID))


def grey(crop: np.ndarray) -> np.ndarray:
    """The small grey copy of an aligned crop that the flow is computed on."""
    n = grid_side(crop.shape[0])
    small = cv2.resize(crop, (n, n), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)


def grey_at(image: np.ndarray, p: Placement, size: int) -> np.ndarray:
    """`grey(crop_face(image, p, size))`, cut at the small size straight from the frame (sampled,
    not averaged): what the live face and the GAN's crops are compared on, without a full-size
    crop a frame."""
    return cv2.cvtColor(crop_small(image, p, size, grid_side(size)), cv2.COLOR_BGR2GRAY)


class FlowWarp:
    """One per face track: DIS flow + remap (not thread-safe: DIS keeps buffers)."""

    def __init__(self, crop_kind: str = "tight"):
        self.crop_kind = crop_kind
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.dis.setFinestScale(FINEST_SCALE)
        self.dis.setPatchStride(PATCH_STRIDE)

    def flow(self, now_g: np.ndarray, then_g: np.ndarray) -> np.ndarray:
        """(n, n, 2) float32: pixel x of the crop now was at x + flow[x] in the older crop."""
        return self.dis.calc(now_g, then_g, None)

    def warp(self, styled: np.ndarray, then_g: np.ndarray, now_g: np.ndarray,
             live: np.ndarray | Callable[[int, int, int, int], np.ndarray],
             m: np.ndarray | None = None) -> tuple[np.ndarray, WarpInfo]:
        """`styled` (made from the real crop whose grey copy is `then_g`) moved to how the face looks
        now (grey copy `now_g`). `live`: the live crop, or a function cutting its pixels
        (x0, y0, x1, y1) (only the box where the live face shows through is needed). `m` (from
        `register`): the similarity taking live grey-crop pixels to the older crop's; the flow then
        only follows what is left (mouth, eyes), and one remap applies both. Flow, statistics and
        remap cover only the box of the paste mask (the rest of the crop is never shown)."""
        n, size = now_g.shape[0], styled.shape[0]
        (sx0, sy0, sx1, sy1), (bx0, by0, bx1, by1) = _boxes(n, size, self.crop_kind)
        h, w = sy1 - sy0, sx1 - sx0
        now_s = np.ascontiguousarray(now_g[sy0:sy1, sx0:sx1])
        if m is None:
            ref = np.ascontiguousarray(then_g[sy0:sy1, sx0:sx1])
        else:  # the older crop seen through m, on the box: u -> m (u + box origin)
            mb = m.copy()
            mb[:, 2] += m[:, :2] @ np.array([sx0, sy0], np.float64)
            ref = cv2.warpAffine(then_g, mb, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
        f = self.flow(now_s, ref)
        f = cv2.blur(f, (5, 5))  # DIS patches leave blocky edges
        pos = f + _box_grid(n, sx0, sy0, sx1, sy1)  # where each live pixel was, in the registered older crop
        if m is not None:
            pos = cv2.transform(pos, m)  # ... in the older crop itself
        back = cv2.remap(then_g, pos, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        face = _face_mask(n, self.crop_kind)[sy0:sy1, sx0:sx1]
        err = cv2.absdiff(back, now_s)
        sample = f[::4, ::4][_face_sample(n, self.crop_kind, sx0, sy0, sx1, sy1)]
        motion = float(np.median(cv2.magnitude(sample[:, 0], sample[:, 1]))) / n
        error = cv2.mean(err, face)[0]
        blurred = cv2.blur(err, (7, 7))
        _, over = cv2.threshold(blurred, AREA_ERR, 255, cv2.THRESH_BINARY)
        area = cv2.countNonZero(cv2.bitwise_and(over, face)) / max(1, cv2.countNonZero(face))
        trust = 1.0 - float(np.clip((motion - FOLLOW) / (GIVE_UP - FOLLOW), 0.0, 1.0))
        trust = min(trust, 1.0 - float(np.clip((area - AREA_LO) / (AREA_HI - AREA_LO), 0.0, 1.0)))
        if error > BAD_ERR:
            trust = 0.0
        info = WarpInfo(trust, motion, error, area)
        if trust <= 0.0:
            return styled, info
        # Full-size maps: the small map in big-crop pixels, resized to the box, in fixed point
        # (2x faster remap).
        k = size / n
        pos *= np.float32(k)
        pos += np.float32(0.5 * k - 0.5)
        big = cv2.resize(pos, (bx1 - bx0, by1 - by0), interpolation=cv2.INTER_LINEAR)
        m1, m2 = cv2.convertMaps(big, None, cv2.CV_16SC2)
        out = styled.copy()
        out[by0:by1, bx0:bx1] = cv2.remap(styled, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # What flow cannot carry (a mouth's inside, teeth, a lid): the live face shows through where
        # the warped old real crop still differs from the real crop now (on the face only: outside
        # it the paste mask shows the frame itself).
        _, shows = cv2.threshold(blurred, ERR_LO, 255, cv2.THRESH_BINARY)
        gx0, gy0, gw, gh = cv2.boundingRect(cv2.bitwise_and(shows, face))
        if gw and gh:
            # Only the box where the live face shows (usually the mouth), weights sized to it.
            y0, y1 = int((gy0 + sy0) * k), min(size, int((gy0 + sy0 + gh) * k))
            x0, x1 = int((gx0 + sx0) * k), min(size, int((gx0 + sx0 + gw) * k))
            if y1 > y0 and x1 > x0:
                wt = blurred[gy0 : gy0 + gh, gx0 : gx0 + gw].astype(np.float32)
                wt -= ERR_LO
                wt *= 1.0 / (ERR_HI - ERR_LO)
                wb = cv2.resize(np.clip(wt, 0, 1), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
                now = live[y0:y1, x0:x1] if isinstance(live, np.ndarray) else live(x0, y0, x1, y1)
                out[y0:y1, x0:x1] = cv2.blendLinear(np.ascontiguousarray(now),
                                                    np.ascontiguousarray(out[y0:y1, x0:x1]), wb, 1.0 - wb)
        if trust < 1.0:
            out = cv2.addWeighted(out, trust, styled, 1.0 - trust, 0.0)
        return out, info
