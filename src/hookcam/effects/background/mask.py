"""Turning the model's coarse mask into a composite mask that looks right at the edges.

- `Refiner`: a fast guided filter (He & Sun 2015). The linear coefficients (a, b) are fitted on a
  small copy of the frame (grey guide), then applied to the full-resolution grey frame, so the
  mask's edge follows the real edge of hair and shoulders at full resolution. The feather (the
  ramp from background to person) is folded into a and b, so per output frame it costs two
  resizes and one multiply-add.
- `Steady`: temporal smoothing that keeps a still boundary still (small changes are averaged,
  big ones, a person moving, are taken at once).
- `Mover`: moves the newest mask with the person (DIS optical flow on tiny grey frames) when the
  segmentation is older than the frame it is drawn on.
"""

from __future__ import annotations

import cv2
import numpy as np


def box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, cv2.CV_32F, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


class Refiner:
    """Guided-filter coefficients on the small guide; `alpha()` applies them at full resolution."""

    def __init__(self, radius: int = 3, eps: float = 2e-3, low: float = 0.3, high: float = 0.7):
        self.radius, self.eps = radius, eps
        self.low, self.high = low, high  # the feather: q <= low is background, q >= high person

    def coefficients(self, guide_small: np.ndarray, mask_small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """guide: uint8 grey (h, w); mask: float32 (h, w) in [0, 1] -> (a, b), float32 (h, w)."""
        r, i = self.radius, guide_small.astype(np.float32) * (1.0 / 255.0)
        p = mask_small
        mean_i, mean_p = box(i, r), box(p, r)
        cov_ip = box(i * p, r) - mean_i * mean_p
        var_i = box(i * i, r) - mean_i * mean_i
        a = cov_ip / (var_i + self.eps)
        b = mean_p - a * mean_i
        a, b = box(a, r), box(b, r)
        # Fold the feather ramp and the 0..255 scale in: alpha8 = 255 (a*I + b - low) / (high - low),
        # for I in 0..255, so that one multiply-add with saturation to uint8 gives the final mask.
        k = 255.0 / (self.high - self.low)
        return (a * (k / 255.0)).astype(np.float32), ((b - self.low) * k).astype(np.float32)

    @staticmethod
    def alpha(a: np.ndarray, b: np.ndarray, grey: np.ndarray, bufs: Buffers | None = None) -> np.ndarray:
        """Full-resolution alpha, uint8 0..255 (grey's size), from the small coefficients."""
        h, w = grey.shape[:2]
        bufs = bufs or Buffers()
        a_up = cv2.resize(a, (w, h), dst=bufs.get("a", h, w, np.float32), interpolation=cv2.INTER_LINEAR)
        b_up = cv2.resize(b, (w, h), dst=bufs.get("b", h, w, np.float32), interpolation=cv2.INTER_LINEAR)
        q = cv2.multiply(a_up, grey, dst=a_up, dtype=cv2.CV_32F)
        # saturates to uint8: the clip to 0..255 for free
        return cv2.add(q, b_up, dst=bufs.get("alpha", h, w, np.uint8), dtype=cv2.CV_8U)


class Buffers:
    """Scratch arrays kept from frame to frame: a fresh 720p temporary each frame costs page
    faults (measured: 1500 a frame, about a third of the composite's CPU)."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, h: int, w: int, dtype, channels: int = 1) -> np.ndarray:
        shape = (h, w) if channels == 1 else (h, w, channels)
        arr = self._arrays.get(name)
        if arr is None or arr.dtype != dtype or arr.shape[0] < h or arr.shape[1] < w or arr.shape[2:] != shape[2:]:
            big = (max(h, arr.shape[0] if arr is not None else 0), max(w, arr.shape[1] if arr is not None else 0))
            arr = self._arrays[name] = np.empty(big + shape[2:], dtype)
        return arr[:h, :w]


def blend(front: np.ndarray, back: np.ndarray, alpha8: np.ndarray, bufs: Buffers | None = None,
          dst: np.ndarray | None = None) -> np.ndarray:
    """front * alpha + back * (1 - alpha), all uint8 (alpha one channel); into `dst` if given."""
    h, w = alpha8.shape[:2]
    bufs = bufs or Buffers()
    a3 = cv2.cvtColor(alpha8, cv2.COLOR_GRAY2BGR, dst=bufs.get("a3", h, w, np.uint8, 3))
    fg = cv2.multiply(front, a3, dst=bufs.get("fg", h, w, np.uint8, 3), scale=1 / 255)
    inv = cv2.bitwise_not(a3, dst=a3)
    bg = cv2.multiply(back, inv, dst=inv, scale=1 / 255)
    return cv2.add(fg, bg, dst=dst)


class Steady:
    """Per-pixel smoothing over time: changes below `still` are averaged away (no flicker on a
    still boundary), changes above `moving` are taken at once (no lag when the person moves)."""

    def __init__(self, still: float = 0.1, moving: float = 0.4, keep: float = 0.7):
        self.still, self.moving, self.keep = still, moving, keep
        self.prev: np.ndarray | None = None

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        if self.prev is None or self.prev.shape != mask.shape:
            self.prev = mask.copy()
            return mask
        diff = np.abs(mask - self.prev)
        # weight of the new mask: (1 - keep) where still, 1 where moving, linear between
        t = np.clip((diff - self.still) / (self.moving - self.still), 0.0, 1.0)
        w = (1.0 - self.keep) + self.keep * t
        out = self.prev + w * (mask - self.prev)
        self.prev = out
        return out

    def reset(self) -> None:
        self.prev = None


class Mover:
    """Warps coefficients made for an older frame to the current one (optical flow, tiny grey)."""

    def __init__(self):
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        h, w = 0, 0
        self._grid: tuple[np.ndarray, np.ndarray] | None = None
        self._shape = (h, w)

    def move(self, maps: list[np.ndarray], tiny_then: np.ndarray, tiny_now: np.ndarray) -> list[np.ndarray]:
        """maps: same-size float32 arrays made for `tiny_then`; returns them moved to `tiny_now`."""
        flow = self._dis.calc(tiny_now, tiny_then, None)  # for each pixel now: where it was then
        th, tw = tiny_now.shape[:2]
        mh, mw = maps[0].shape[:2]
        if self._shape != (mh, mw):
            gx, gy = np.meshgrid(np.arange(mw, dtype=np.float32), np.arange(mh, dtype=np.float32))
            self._grid, self._shape = (gx, gy), (mh, mw)
        flow = cv2.resize(flow, (mw, mh), interpolation=cv2.INTER_LINEAR)
        gx, gy = self._grid
        mx = gx + flow[..., 0] * (mw / tw)
        my = gy + flow[..., 1] * (mh / th)
        return [cv2.remap(m, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for m in maps]
