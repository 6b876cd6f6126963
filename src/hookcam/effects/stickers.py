"""Sticker packs: a folder of PNGs (with alpha) and a `manifest.toml` saying which is which.

    name = "my pack"
    [stickers.smile]          # one table per sticker key: smile, happy, sad, angry, ...
    file = "smile.png"
    anchor = "above-right"    # above | above-left | above-right | left | right | over
    scale = 0.6               # sticker width as a fraction of the face width

Stickers are placed relative to their face, scaled with it and turned with the head's roll.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from hookcam.errors import HookcamError

ANCHORS = {  # (dx, dy) of the sticker centre, in face widths/heights from the face centre
    "above": (0.0, -0.95),
    "above-left": (-0.75, -0.8),
    "above-right": (0.75, -0.8),
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "over": (0.0, 0.0),
}


@dataclass
class Sticker:
    key: str
    image: np.ndarray  # BGRA uint8
    anchor: str = "above-right"
    scale: float = 0.6


def default_pack_dir() -> Path:
    return Path(str(resources.files("hookcam") / "assets" / "stickers" / "default"))


def load_pack(folder: Path | None) -> dict[str, Sticker]:
    """Read a pack; any problem is one HookcamError naming the file and the fix."""
    folder = Path(folder) if folder else default_pack_dir()
    manifest = folder / "manifest.toml"
    if not manifest.is_file():
        raise HookcamError(f"sticker pack {folder}: no manifest.toml (see the README, 'Sticker packs')")
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise HookcamError(f"sticker pack {manifest}: {e}") from None
    table = data.get("stickers")
    if not isinstance(table, dict) or not table:
        raise HookcamError(f"sticker pack {manifest}: needs a [stickers.<name>] table per sticker")
    pack = {}
    for key, entry in table.items():
        if not isinstance(entry, dict) or "file" not in entry:
            raise HookcamError(f"sticker pack {manifest}: [stickers.{key}] needs file = \"name.png\"")
        path = folder / str(entry["file"])
        anchor = entry.get("anchor", "above-right")
        if anchor not in ANCHORS:
            raise HookcamError(f"sticker pack {manifest}: [stickers.{key}] anchor {anchor!r} "
                               f"is not one of {', '.join(ANCHORS)}")
        scale = entry.get("scale", 0.6)
        if not isinstance(scale, (int, float)) or not 0.05 <= scale <= 5:
            raise HookcamError(f"sticker pack {manifest}: [stickers.{key}] scale must be 0.05-5")
        pack[key] = Sticker(key, _read_png(path), anchor, float(scale))
    return pack


def _read_png(path: Path) -> np.ndarray:
    if not path.is_file():
        raise HookcamError(f"sticker {path} is missing: add it or fix manifest.toml")
    if path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise HookcamError(f"sticker {path} is not a PNG: stickers must be PNG files (with alpha)")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise HookcamError(f"sticker {path} cannot be decoded: re-export it as PNG")
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    return img


def place(sticker: Sticker, box, roll: float = 0.0) -> tuple[float, float, float, float]:
    """Where the sticker goes for a face box: (centre x, centre y, width in px, roll degrees)."""
    x, y, w, h = box
    dx, dy = ANCHORS[sticker.anchor]
    ox, oy = dx * w, dy * h
    r = math.radians(roll)
    cx = x + w / 2 + ox * math.cos(r) - oy * math.sin(r)
    cy = y + h / 2 + ox * math.sin(r) + oy * math.cos(r)
    return cx, cy, sticker.scale * w, roll


def draw(frame: np.ndarray, sticker: Sticker, box, roll: float = 0.0, opacity: float = 1.0):
    """Alpha-blend the sticker onto the frame in place, clipped at the frame's edges. Returns the
    rectangle written, (x0, y0, x1, y1), or None when nothing was drawn."""
    cx, cy, width, angle = place(sticker, box, roll)
    sh, sw = sticker.image.shape[:2]
    s = width / sw
    if s * sw < 4:
        return None
    # Output patch big enough for the rotated sticker.
    half = 0.5 * math.hypot(sw, sh) * s
    # Keep the sticker on screen when the face is near an edge (a sticker cut off is lost).
    fh, fw = frame.shape[:2]
    inner = 0.5 * max(sw, sh) * s
    if fw > 2 * inner:
        cx = min(max(cx, inner), fw - inner)
    if fh > 2 * inner:
        cy = min(max(cy, inner), fh - inner)
    x0, y0 = int(math.floor(cx - half)), int(math.floor(cy - half))
    size = int(math.ceil(2 * half)) + 1
    m = cv2.getRotationMatrix2D((sw / 2, sh / 2), -angle, s)
    m[0, 2] += cx - x0 - sw / 2
    m[1, 2] += cy - y0 - sh / 2
    ax0, ay0, ax1, ay1 = max(x0, 0), max(y0, 0), min(x0 + size, fw), min(y0 + size, fh)
    if ax1 <= ax0 or ay1 <= ay0:
        return None
    m[0, 2] -= ax0 - x0
    m[1, 2] -= ay0 - y0
    patch = cv2.warpAffine(sticker.image, m, (ax1 - ax0, ay1 - ay0), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    # OpenCV's per-pixel weighted sum: 4-5x cheaper than the same sum in numpy floats
    alpha = patch[:, :, 3].astype(np.float32) * (opacity / 255.0)
    roi = frame[ay0:ay1, ax0:ax1]
    roi[:] = cv2.blendLinear(cv2.cvtColor(patch, cv2.COLOR_BGRA2BGR), roi, alpha, 1.0 - alpha)
    return ax0, ay0, ax1, ay1
