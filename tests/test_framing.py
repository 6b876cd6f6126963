"""Auto framing on real clips: the face kept at a comfortable size and place, the crop still
while the person is still, faces mapped into output coordinates, the zoom limit said."""

from __future__ import annotations

import numpy as np
import pytest

from hookcam.faces.detect import FaceDetector
from hookcam.framing import AutoFraming
from hookcam.pipeline import Pipeline
from hookcam.settings import make_settings
from hookcam.sources.video import VideoSource
from hookcam.types import Face, SourceInfo

CLIP = "video/lp_s18.mp4"  # 1280x720, 30 fps, 282 frames, one person, slow drift


class Keep:
    name, live = "keep", False

    def __init__(self):
        self.frames = []

    def send(self, image):
        self.frames.append(image)

    def close(self):
        pass


class WideCamera:
    """The clip shrunk to half size inside a 1280x720 frame, off centre: a wide laptop camera
    with the person far away (face about 17% of the frame height instead of 35%)."""

    def __init__(self, path, frames: int):
        self.video = VideoSource(path)
        self.left = frames
        self.info = SourceInfo(1280, 720, 30.0, "video", "wide camera")

    def read(self):
        import cv2

        img = self.video.read()
        self.left -= 1
        if img is None or self.left < 0:
            return None
        canvas = np.full((720, 1280, 3), 90, np.uint8)
        canvas[300:660, 80:720] = cv2.resize(img, (640, 360), interpolation=cv2.INTER_AREA)
        return canvas

    def close(self):
        self.video.close()


def run_framed(source, **settings):
    said = []
    st = make_settings(input="x", outputs=["null"], effect="none", framing="auto", control=False, **settings)
    sink = Keep()
    pipe = Pipeline(st, source, [sink], log=said.append, lockstep=True)
    framing = pipe.stages[0]
    crops, faces_in, faces_out = [], [], []
    process = framing.process

    def record(image, faces):
        out, mapped = process(image, faces)
        crops.append(framing.transform.crop)
        faces_in.append(faces[0] if faces else None)
        faces_out.append(mapped[0] if mapped else None)
        return out, mapped

    framing.process = record
    pipe.run()
    return sink.frames, np.array(crops), faces_in, faces_out, said


def check_framing(frames, crops, faces_in, faces_out):
    h, w = frames[0].shape[:2]
    assert (w, h) == (1280, 720)  # the output keeps the size
    det = FaceDetector()
    found = [det.detect(f) for f in frames]
    det.close()
    heights = np.array([d[0].box[3] / h if d else 0.0 for d in found])
    assert (heights >= 0.25).mean() >= 0.90, np.percentile(heights, [5, 50])
    # centre: face centre on the vertical middle, eyes on the upper third line, within 10%
    dx = [abs(d[0].box[0] + d[0].box[2] / 2 - w / 2) / w for d in found if d]
    dy = [abs(float(d[0].keypoints[:2, 1].mean()) - h / 3) / h for d in found if d]
    assert np.mean(np.array(dx) <= 0.10) >= 0.9 and np.mean(np.array(dy) <= 0.10) >= 0.9, (max(dx), max(dy))
    # still subject (face centre within 0.5% of the width over the last second) -> still crop
    centres = np.array([(f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2) for f in faces_in])
    moves = np.abs(np.diff(crops, axis=0)).max(axis=1)
    still = [i for i in range(30, len(crops)) if np.ptp(centres[i - 30:i + 1], axis=0).max() <= 0.005 * w]
    assert len(still) >= 30
    assert max(moves[i - 1] for i in still) <= 1.0
    # the faces the effects get are where the face is in the output (mapped through the crop)
    for f, d in zip(faces_out, found):
        if f is not None and d:
            (x, _, bw, bh), (dx_, _, dw, dh) = f.box, d[0].box
            assert abs((x + bw / 2) - (dx_ + dw / 2)) < 0.05 * w and abs(bh - dh) < 0.25 * dh
    return heights


def test_framing_on_a_room_clip(testdata):
    frames, crops, faces_in, faces_out, said = run_framed(VideoSource(testdata / CLIP))
    assert len(frames) == 282
    check_framing(frames, crops, faces_in, faces_out)


def test_framing_zooms_in_on_a_far_face_and_says_it_enlarges(testdata):
    frames, crops, faces_in, faces_out, said = run_framed(WideCamera(testdata / CLIP, 150))
    heights = check_framing(frames, crops, faces_in, faces_out)
    zoom = 720 / crops[:, 3]
    assert zoom.max() <= 3.0 + 1e-6 and np.median(zoom) > 1.6
    assert any("enlarges" in s and "softer" in s for s in said)
    assert np.median(heights) < 0.45


def test_max_zoom_is_kept_and_said(testdata):
    frames, crops, *_, said = run_framed(WideCamera(testdata / CLIP, 20), framing_max_zoom=1.5)
    assert (720 / crops[:, 3]).max() <= 1.5 + 1e-6
    assert any("--framing-max-zoom 1.5" in s for s in said)


def test_no_face_keeps_then_widens():
    fr = AutoFraming(max_zoom=3.0)
    face = Face(1, (600, 300, 80, 80), 0.9, keypoints=np.array([[620, 330], [660, 330]] + [[640, 350]] * 4, np.float32))
    for _ in range(10):
        t = fr.update([face], 1280, 720)
    zoomed = t.crop
    assert zoomed[3] < 400
    for _ in range(30):  # 1 s without a face: hold
        t = fr.update([], 1280, 720)
    assert t.crop == pytest.approx(zoomed)
    for _ in range(300):  # then widen back to the whole frame
        t = fr.update([], 1280, 720)
    assert t.crop == pytest.approx((0, 0, 1280, 720), abs=1.0)
