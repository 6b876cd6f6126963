"""Put a stylised crop back: feathered elliptical mask, colour matched at the seam."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from hookcam.effects.anime.align import Placement, crop_matrix, frame_roi, invert


@lru_cache(maxsize=8)
def ellipse_mask(size: int, crop: str = "tight") -> np.ndarray:
    """float32 size x size in [0, 1]: 1 on the face, a soft edge, exactly 0 at the crop border."""
    m = np.zeros((size, size), np.float32)
    if crop == "tight":
        axes, centre_y = (0.34, 0.42), 0.54
    else:
        axes, centre_y = (0.33, 0.41), 0.52
    sigma = 0.04 * size
    ax = (int(size * axes[0] - sigma), int(size * axes[1] - sigma))
    cv2.ellipse(m, (size // 2, int(size * centre_y)), ax, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    k = int(sigma * 3) * 2 + 1
    m = cv2.GaussianBlur(m, (k, k), sigma)
    # Fade to exactly 0 over the outer 5% so no crop edge can ever show.
    r = np.arange(size, dtype=np.float32)
    edge = np.clip(np.minimum(r, size - 1 - r) / (0.05 * size), 0, 1)
    edge = edge * edge * (3 - 2 * edge)
    m *= edge[:, None] * edge[None, :]
    m[m < 1e-3] = 0
    m.setflags(write=False)
    return m


@lru_cache(maxsize=8)
def _seam_weight(size: int, crop: str) -> np.ndarray:
    """How much of the colour correction to apply: full at the seam, partial in the middle."""
    core = cv2.GaussianBlur(ellipse_mask(size, crop), (0, 0), 0.08 * size)
    w = 0.75 + 0.25 * (1.0 - np.clip((core - 0.5) * 2.5, 0, 1))
    w = np.ascontiguousarray(w, dtype=np.float32)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=8)
def _ring(size: int, crop: str) -> tuple[np.ndarray, int]:
    """uint8 mask of the seam ring (where the soft edge is) and its pixel count."""
    m = ellipse_mask(size, crop)
    ring = ((m > 0.05) & (m < 0.7)).astype(np.uint8)
    ring.setflags(write=False)
    return ring, int(ring.sum())


def match_seam(styled: np.ndarray, original: np.ndarray, crop: str = "tight") -> np.ndarray:
    """Match mean/std in Lab of the stylised ring near the mask edge to the original's ring.

    The correction is full at the seam and fades to partial inside, so the anime look stays.
    """
    size = styled.shape[0]
    ring, n = _ring(size, crop)
    if n < 16:
        return styled
    s_lab = cv2.cvtColor(styled, cv2.COLOR_BGR2LAB)
    s_mu, s_sd = (v.ravel() for v in cv2.meanStdDev(s_lab, mask=ring))
    o_mu, o_sd = (v.ravel() for v in cv2.meanStdDev(cv2.cvtColor(original, cv2.COLOR_BGR2LAB), mask=ring))
    gain = np.clip((o_sd + 1.0) / (s_sd + 1.0), 0.5, 2.0)
    # matched = (s - s_mu) * gain + o_mu: one per-channel affine map (cv2.transform, saturated)
    m = np.zeros((3, 4), np.float32)
    m[[0, 1, 2], [0, 1, 2]] = gain
    m[:, 3] = o_mu - gain * s_mu
    matched = cv2.transform(s_lab, m)
    w = _seam_weight(size, crop)
    return cv2.cvtColor(cv2.blendLinear(matched, s_lab, w, 1.0 - w), cv2.COLOR_LAB2BGR)


def paste(frame: np.ndarray, crop: np.ndarray, p: Placement, crop_kind: str = "tight") -> np.ndarray:
    """Warp `crop` (upright, canonical) to placement `p` and blend it into `frame` in place."""
    size = crop.shape[0]
    roi = frame_roi(p, frame.shape)
    if roi is None:
        return frame
    x0, y0, x1, y1 = roi
    inv = invert(crop_matrix(p, size))
    inv[:, 2] -= (x0, y0)
    dsize = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop, inv, dsize, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(ellipse_mask(size, crop_kind), inv, dsize, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = frame[y0:y1, x0:x1]
    frame[y0:y1, x0:x1] = cv2.blendLinear(warped, region, mask, 1.0 - mask)
    return frame
