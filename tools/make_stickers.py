"""Draw hookcam's default sticker pack (MIT, made here by code) into src/hookcam/assets/stickers/default.

    python tools/make_stickers.py

Each sticker is drawn 4x larger and shrunk, for smooth anti-aliased edges, with a white outline
so it reads on any background. Re-running produces the same PNGs.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "hookcam" / "assets" / "stickers" / "default"
SIZE = 256
K = 4  # supersampling
S = SIZE * K

YELLOW = (40, 200, 255)
ORANGE = (20, 140, 255)
INK = (40, 30, 30)
WHITE = (255, 255, 255)
RED = (60, 60, 220)
BLUE = (230, 160, 60)
GREEN = (90, 190, 90)
PURPLE = (200, 90, 160)
PINK = (170, 140, 255)


def p(x: float, y: float) -> tuple[int, int]:
    return int(x * S), int(y * S)


def canvas():
    return np.zeros((S, S, 3), np.uint8), np.zeros((S, S), np.uint8)


def disc(img, mask, centre, r, colour, outline=0.035):
    cv2.circle(img, p(*centre), int((r + outline) * S), WHITE, -1, cv2.LINE_AA)
    cv2.circle(mask, p(*centre), int((r + outline) * S), 255, -1, cv2.LINE_AA)
    cv2.circle(img, p(*centre), int(r * S), colour, -1, cv2.LINE_AA)
    cv2.circle(img, p(*centre), int(r * S), INK, int(0.012 * S), cv2.LINE_AA)


def arc(img, centre, axes, start, end, colour=INK, thick=0.03, fill=False):
    cv2.ellipse(img, p(*centre), p(*axes), 0, start, end, colour, -1 if fill else int(thick * S), cv2.LINE_AA)


def eye(img, x, y, r=0.045):
    cv2.circle(img, p(x, y), int(r * S), INK, -1, cv2.LINE_AA)
    cv2.circle(img, p(x + r * 0.35, y - r * 0.35), int(r * 0.35 * S), WHITE, -1, cv2.LINE_AA)


def brows(img, tilt, y=0.33, colour=INK):
    for side in (-1, 1):
        x = 0.5 + side * 0.14
        dx, dy = 0.07, tilt * side
        cv2.line(img, p(x - dx, y - dy), p(x + dx, y + dy), colour, int(0.03 * S), cv2.LINE_AA)


def star(img, mask, cx, cy, r, colour):
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        rr = r if i % 2 == 0 else r * 0.45
        pts.append(p(cx + rr * math.cos(a), cy + rr * math.sin(a)))
    pts = np.array(pts, np.int32)
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA)
    cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)


def face(colour=YELLOW):
    img, mask = canvas()
    disc(img, mask, (0.5, 0.52), 0.4, colour)
    return img, mask


def smile():
    img, mask = face()
    eye(img, 0.37, 0.43)
    eye(img, 0.63, 0.43)
    arc(img, (0.5, 0.58), (0.22, 0.17), 10, 170, INK, fill=True)
    arc(img, (0.5, 0.66), (0.12, 0.07), 20, 160, (90, 80, 230), fill=True)  # tongue
    cv2.circle(img, p(0.27, 0.58), int(0.05 * S), PINK, -1, cv2.LINE_AA)
    cv2.circle(img, p(0.73, 0.58), int(0.05 * S), PINK, -1, cv2.LINE_AA)
    star(img, mask, 0.84, 0.14, 0.12, ORANGE)
    star(img, mask, 0.12, 0.2, 0.07, ORANGE)
    return img, mask


def happy():
    img, mask = face()
    arc(img, (0.37, 0.45), (0.06, 0.05), 200, 340, INK)
    arc(img, (0.63, 0.45), (0.06, 0.05), 200, 340, INK)
    arc(img, (0.5, 0.6), (0.2, 0.14), 10, 170, INK, fill=True)
    return img, mask


def neutral():
    img, mask = face()
    eye(img, 0.37, 0.43)
    eye(img, 0.63, 0.43)
    cv2.line(img, p(0.37, 0.66), p(0.63, 0.66), INK, int(0.03 * S), cv2.LINE_AA)
    return img, mask


def sad():
    img, mask = face(colour=(90, 200, 240))
    brows(img, 0.03, y=0.34)
    eye(img, 0.37, 0.45)
    eye(img, 0.63, 0.45)
    arc(img, (0.5, 0.74), (0.14, 0.08), 200, 340, INK)
    cv2.ellipse(img, p(0.66, 0.58), p(0.025, 0.05), 0, 0, 360, BLUE, -1, cv2.LINE_AA)  # tear
    return img, mask


def angry():
    img, mask = face(colour=(70, 90, 235))
    brows(img, -0.035, y=0.36)
    eye(img, 0.37, 0.46)
    eye(img, 0.63, 0.46)
    arc(img, (0.5, 0.74), (0.15, 0.07), 200, 340, INK, thick=0.04)
    for dx in (-1, 1):  # steam puffs
        cv2.circle(img, p(0.5 + dx * 0.36, 0.12), int(0.06 * S), WHITE, -1, cv2.LINE_AA)
        cv2.circle(mask, p(0.5 + dx * 0.36, 0.12), int(0.06 * S), 255, -1, cv2.LINE_AA)
    return img, mask


def surprise():
    img, mask = face()
    brows(img, 0.0, y=0.27)
    cv2.circle(img, p(0.37, 0.42), int(0.06 * S), WHITE, -1, cv2.LINE_AA)
    cv2.circle(img, p(0.63, 0.42), int(0.06 * S), WHITE, -1, cv2.LINE_AA)
    eye(img, 0.37, 0.42, 0.03)
    eye(img, 0.63, 0.42, 0.03)
    cv2.ellipse(img, p(0.5, 0.67), p(0.07, 0.1), 0, 0, 360, INK, -1, cv2.LINE_AA)
    return img, mask


def fear():
    img, mask = face(colour=(200, 210, 150))
    brows(img, 0.03, y=0.3)
    eye(img, 0.37, 0.43, 0.05)
    eye(img, 0.63, 0.43, 0.05)
    pts = [p(0.34 + i * 0.04, 0.68 + (0.02 if i % 2 else -0.02)) for i in range(9)]
    cv2.polylines(img, [np.array(pts, np.int32)], False, INK, int(0.025 * S), cv2.LINE_AA)
    return img, mask


def disgust():
    img, mask = face(colour=(110, 200, 150))
    brows(img, -0.02, y=0.34)
    arc(img, (0.37, 0.45), (0.06, 0.03), 0, 180, INK)
    eye(img, 0.63, 0.45)
    pts = [p(0.36, 0.7), p(0.5, 0.64), p(0.64, 0.7)]
    cv2.polylines(img, [np.array(pts, np.int32)], False, INK, int(0.03 * S), cv2.LINE_AA)
    cv2.ellipse(img, p(0.56, 0.71), p(0.04, 0.05), 0, 0, 180, GREEN, -1, cv2.LINE_AA)
    return img, mask


DRAWINGS = {
    "smile": (smile, "above-right", 0.6),
    "happy": (happy, "above-right", 0.5),
    "neutral": (neutral, "above-right", 0.5),
    "sad": (sad, "above-right", 0.5),
    "angry": (angry, "above-right", 0.5),
    "surprise": (surprise, "above-right", 0.5),
    "fear": (fear, "above-right", 0.5),
    "disgust": (disgust, "above-right", 0.5),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [
        'name = "hookcam default"',
        'author = "hookcam developers (drawn by tools/make_stickers.py)"',
        'licence = "MIT"',
        "",
    ]
    for key, (fn, anchor, scale) in DRAWINGS.items():
        img, mask = fn()
        bgra = np.dstack([img, mask])
        bgra = cv2.resize(bgra, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(OUT / f"{key}.png"), bgra)
        lines += [f"[stickers.{key}]", f'file = "{key}.png"', f'anchor = "{anchor}"',
                  f"scale = {scale}", ""]
    (OUT / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {len(DRAWINGS)} stickers to {OUT}")


if __name__ == "__main__":
    main()
