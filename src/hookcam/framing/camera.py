"""Auto framing: a virtual camera operator that pans and zooms a crop of the camera frame.

The goal crop puts the face(s) at about a third of the output height with the eyes on the upper
third line; the crop then moves like an operator would: not at all while the goal stays inside
a dead zone around the current crop, else smoothly (exponential approach, capped speed) until
it is there, then still again. Zoom never passes `max_zoom`; hookcam says once when the face
would need more, and once when it starts upscaling the camera's pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from hookcam.types import Face

FACE_SHARE = 1 / 3  # face height / crop height
EYE_LINE = 1 / 3  # eyes this far down the crop
DEAD_POS = 0.06  # goal centre may wander this share of the crop size before the crop moves
DEAD_ZOOM = 0.12  # goal size may differ by this share before the crop zooms
OMEGA = 3.0  # 1/s: stiffness of the move (a critically damped spring; settles in about 1.5 s)
MAX_SPEED = 0.35  # crop widths per second, at most
MAX_SHARE = 0.45  # zooming in to centre a face stops when it fills this share of the height
POS_SLACK = 0.05  # the face may sit this share of the crop off its ideal place
HOLD = 2.0  # seconds: keep the crop when the face is lost, then widen slowly
GOAL_TAU = 0.4  # seconds: the goal is smoothed over about this long (detection boxes jitter)
ARRIVE = DEAD_POS / 3  # with faces, a move ends once the crop is this close to the target (share of its height)


@dataclass
class Crop:
    cx: float
    cy: float
    h: float  # crop height in source pixels; width = h * aspect

    def rect(self, aspect: float) -> tuple[float, float, float, float]:
        w = self.h * aspect
        return self.cx - w / 2, self.cy - self.h / 2, w, self.h


class Transform:
    """Source pixels -> output pixels: one scale and one shift (the crop, resized)."""

    def __init__(self, crop: tuple[float, float, float, float], out_size: tuple[int, int]):
        x, y, w, h = crop
        self.crop = crop
        self.out_size = out_size
        self.scale = out_size[0] / w
        self.matrix = np.float32([[self.scale, 0, -x * self.scale], [0, self.scale, -y * self.scale]])

    @property
    def identity(self) -> bool:
        return abs(self.scale - 1) < 1e-6 and abs(self.crop[0]) < 1e-3 and abs(self.crop[1]) < 1e-3

    def apply(self, image: np.ndarray) -> np.ndarray:
        if self.identity:
            return image
        return cv2.warpAffine(image, self.matrix, self.out_size, flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def point(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.crop[0]) * self.scale, (y - self.crop[1]) * self.scale

    def points(self, pts: np.ndarray | None) -> np.ndarray | None:
        if pts is None:
            return None
        p = np.asarray(pts, dtype=np.float32)
        out = p.copy()
        out[..., 0] = (p[..., 0] - self.crop[0]) * self.scale
        out[..., 1] = (p[..., 1] - self.crop[1]) * self.scale
        return out

    def face(self, f: Face) -> Face:
        x, y, w, h = f.box
        x0, y0 = self.point(x, y)
        return replace(f, box=(x0, y0, w * self.scale, h * self.scale),
                       keypoints=self.points(f.keypoints), landmarks=self.points(f.landmarks))


class AutoFraming:
    """`process(image, faces)` -> (the framed image, the faces in output coordinates)."""

    name = "framing"
    needs = frozenset({"faces"})  # the analysis stage must find faces even for effect none

    def __init__(self, max_zoom: float = 3.0, log: Callable[[str], None] | None = None, fps: float = 30.0):
        self.max_zoom = max_zoom
        self.log = log or (lambda msg: None)
        self.dt = 1.0 / fps
        self.crop: Crop | None = None
        self.target: Crop | None = None  # where the crop is heading (None: it is there)
        self._goal: Crop | None = None  # the smoothed goal
        self.last_seen = 0.0
        self.clock = 0.0
        self._said_cap = False
        self._said_upscale = False
        self.transform: Transform | None = None
        self.velocity = [0.0, 0.0, 0.0]  # px/s of cx, cy, h
        self.frame_h = 720

    def bind(self, run) -> None:
        self.dt = 1.0 / run.fps  # the crop moves at so many pixels per second

    def goal(self, faces: Sequence[Face], w: int, h: int) -> Crop:
        """The crop that frames `faces` well in a w x h source."""
        x0 = min(f.box[0] for f in faces)
        x1 = max(f.box[0] + f.box[2] for f in faces)
        y0 = min(f.box[1] for f in faces)
        y1 = max(f.box[1] + f.box[3] for f in faces)
        face_h = max(f.box[3] for f in faces)
        eyes = [float(np.mean(f.keypoints[:2, 1])) for f in faces if f.keypoints is not None]
        eye_y = float(np.mean(eyes)) if eyes else y0 + 0.4 * (y1 - y0)
        aspect = w / h
        ch = face_h / FACE_SHARE
        ch = max(ch, (y1 - y0) * 1.6, (x1 - x0) * 1.3 / aspect)  # several faces: all of them, with air
        cx = (x0 + x1) / 2
        # Near an edge the crop cannot be centred on the face at this size: zoom in a little more
        # (up to the face filling MAX_SHARE of the height) so it can be, within POS_SLACK.
        room_x = 2 * min(cx, w - cx) / (1 - 2 * POS_SLACK) / aspect
        room_y = min(2 * (h - eye_y) / (2 - 2 * EYE_LINE - 2 * POS_SLACK),
                     eye_y / max(EYE_LINE - POS_SLACK, 1e-3))
        ch = max(min(ch, room_x, room_y), face_h / MAX_SHARE)
        zoom = h / ch
        if zoom > self.max_zoom:
            if not self._said_cap:
                self.log(f"framing: the face is small; it would need {zoom:.1f}x zoom, stopping at "
                         f"--framing-max-zoom {self.max_zoom:g} (raise it, or sit closer)")
                self._said_cap = True
            ch = h / self.max_zoom
        ch = min(ch, float(h))
        return Crop(cx, eye_y - ch * EYE_LINE + ch / 2, ch)

    def _smooth(self, goal: Crop) -> Crop:
        """Exponential smoothing of the goal, so box jitter does not push a settled crop."""
        prev = self._goal
        if prev is None or self.crop is None:
            self._goal = goal
            return goal
        a = 1 - math.exp(-self.dt / GOAL_TAU)
        self._goal = Crop(prev.cx + a * (goal.cx - prev.cx), prev.cy + a * (goal.cy - prev.cy),
                          prev.h + a * (goal.h - prev.h))
        return self._goal

    def _clamp(self, c: Crop, w: int, h: int) -> Crop:
        ch = min(max(c.h, h / self.max_zoom), float(h))
        cw = ch * w / h
        cx = min(max(c.cx, cw / 2), w - cw / 2)
        cy = min(max(c.cy, ch / 2), h - ch / 2)
        return Crop(cx, cy, ch)

    def update(self, faces: Sequence[Face], w: int, h: int) -> Transform:
        self.clock += self.dt
        self.frame_h = h
        full = Crop(w / 2, h / 2, float(h))
        if faces:
            self.last_seen = self.clock
            goal = self._smooth(self._clamp(self.goal(faces, w, h), w, h))
        elif self.crop is not None and self.clock - self.last_seen < HOLD:
            goal = self.crop
        else:
            goal = full
        if self.crop is None:
            self.crop = goal if faces else full  # the first framing is a cut, not a slow zoom
        cur = self.crop
        if self.target is None:
            off = max(abs(goal.cx - cur.cx), abs(goal.cy - cur.cy)) / cur.h
            if off > DEAD_POS or abs(math.log(goal.h / cur.h)) > DEAD_ZOOM:
                self.target = goal
        else:
            self.target = goal  # while moving, follow the newest goal
        if self.target is not None:
            cur = self._step(cur, self.target, w)
            near = max(0.5, ARRIVE * cur.h) if faces else 0.5  # back to the whole frame: exactly
            if (abs(cur.cx - self.target.cx) < near and abs(cur.cy - self.target.cy) < near
                    and abs(cur.h - self.target.h) < near):
                # arrived: stop here (jumping the last pixels onto the target would be a visible step)
                self.target, self.velocity = None, [0.0, 0.0, 0.0]
        self.crop = self._clamp(cur, w, h)
        zoom = h / self.crop.h
        if zoom > 1.05 and not self._said_upscale:
            self.log(f"framing: zooming {zoom:.1f}x enlarges a {round(self.crop.h * w / h)}x"
                     f"{round(self.crop.h)} crop of the camera's picture to {w}x{h}, softer than the "
                     "camera itself (--framing-max-zoom limits it)")
            self._said_upscale = True
        self.transform = Transform(self.crop.rect(w / h), (w, h))
        return self.transform

    def _step(self, cur: Crop, goal: Crop, w: int) -> Crop:
        """One frame of a critically damped spring: starts gently, arrives without overshoot."""
        dt, om = self.dt, OMEGA
        v = self.velocity
        new_v = []
        for x, g, vx in zip((cur.cx, cur.cy, cur.h), (goal.cx, goal.cy, goal.h), v):
            vx += (om * om * (g - x) - 2 * om * vx) * dt
            new_v.append(vx)
        cap = MAX_SPEED * cur.h * w / self.frame_h  # crop widths per second, in px/s
        speed = math.hypot(new_v[0], new_v[1])
        if speed > cap:
            new_v[0], new_v[1] = new_v[0] * cap / speed, new_v[1] * cap / speed
        new_v[2] = max(-cap, min(cap, new_v[2]))
        self.velocity = new_v
        return Crop(cur.cx + new_v[0] * dt, cur.cy + new_v[1] * dt, cur.h + new_v[2] * dt)

    def process(self, image: np.ndarray, faces: Sequence[Face]) -> tuple[np.ndarray, list[Face]]:
        h, w = image.shape[:2]
        t = self.update(faces, w, h)
        return t.apply(image), [t.face(f) for f in faces]

    def close(self) -> None:
        pass
