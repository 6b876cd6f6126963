"""Accuracy of hookcam's face detector and expression model against the original's methods.

    python benchmarks/accuracy.py [--json] [--skip-fer]

Reads only ../shared (test data and reference models); prints a markdown table. Baselines whose
package or model file is missing print "n/a (reason)".

(a) faces: our FaceDetector vs the Haar frontal-face cascade on the 43 hand-labelled faces of
    testdata/faces/dlib (training.xml + testing.xml, ignore="1" boxes left out, IoU >= 0.3),
    false positives there, and the 15 testdata/negatives images with any hit.
(b) smile: Yale happy vs normal (14), happy vs rest (22), SMILEsmileD (46): ours (smile > 0.5),
    Haar smile cascade, MediaPipe Face Landmarker blendshapes, fer mini-Xception int8.
(c) emotion: FER2013 PrivateTest (ours through the runtime path, and fer mini-Xception on the
    same images), InspireFace happy/sad/anger, muxspace (informative).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from hookcam.analysis.align import detect_in_crop, face_crop, to_gray  # noqa: E402
from hookcam.analysis.expression import ExpressionModel  # noqa: E402
from hookcam.faces.detect import FaceDetector  # noqa: E402
from hookcam.types import EMOTIONS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TD = SHARED / "testdata"
MODELS = SHARED / "models"
EXPR = TD / "expressions"
INSPIRE = {"emotion_happy.png": "happy", "emotion_sad.png": "sad", "emotion_anger.png": "angry"}
MUX = {"anger": "angry", "happy": "happy", "neutral": "neutral", "sad": "sad", "surprise": "surprise"}


def imread(path: Path) -> np.ndarray:
    """BGR uint8; Yale files are GIF data, which OpenCV cannot read."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        import imageio.v3 as iio

        a = np.asarray(iio.imread(path, index=0))
        if a.ndim == 2:
            img = cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
        else:
            img = cv2.cvtColor(a[..., :3], cv2.COLOR_RGB2BGR)
    return img


# ---------------------------------------------------------------- data sets
def dlib_faces() -> dict[str, list[tuple[int, int, int, int]]]:
    out: dict[str, list] = {}
    for xml in ("training.xml", "testing.xml"):
        for im in ET.parse(TD / "faces" / "dlib" / xml).getroot().iter("image"):
            boxes = out.setdefault(im.get("file"), [])
            for b in im.iter("box"):
                if b.get("ignore") == "1":
                    continue
                boxes.append(tuple(int(b.get(k)) for k in ("left", "top", "width", "height")))
    return out


def yale() -> list[tuple[Path, str]]:
    return [(p, p.stem.split("_", 1)[1]) for p in sorted((EXPR / "yale").glob("*.gif"))]


def smilesmiled() -> list[tuple[Path, bool]]:
    return [(p, lab == "smile") for lab in ("smile", "no_smile")
            for p in sorted((EXPR / "smilesmiled" / lab).glob("*.jpg"))]


def fer_private() -> list[tuple[Path, int]]:
    root = SHARED / "data" / "fer2013" / "test"
    return [(p, EMOTIONS.index(c.name)) for c in sorted(root.iterdir())
            for p in sorted(c.glob("PrivateTest_*.jpg"))]


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter + 1e-9)


# ---------------------------------------------------------------- (a) detection
def eval_detector(detect) -> str:
    found = fp = total = 0
    for name, gt in dlib_faces().items():
        boxes = detect(imread(TD / "faces" / "dlib" / name))
        used = set()
        for g in gt:
            total += 1
            best = max(range(len(boxes)), key=lambda i: iou(g, boxes[i]), default=None)
            if best is not None and best not in used and iou(g, boxes[best]) >= 0.3:
                used.add(best)
                found += 1
        # a detection is a false positive if it overlaps no labelled box (ignored ones included:
        # this counts unlabelled real faces too, so read it as an upper bound)
        fp += sum(1 for i in range(len(boxes)) if i not in used
                  and max((iou(boxes[i], g) for g in gt), default=0) < 0.3)
    neg = sum(1 for p in sorted((TD / "negatives").iterdir())
              if p.suffix.lower() in (".jpg", ".jpeg", ".png") and detect(imread(p)))
    n_neg = len([p for p in (TD / "negatives").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")])
    return f"{found}/{total} found, {fp} FP; negatives with a hit {neg}/{n_neg}"


def haar_face():
    path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
    casc = cv2.CascadeClassifier(str(path))
    if casc.empty():
        raise RuntimeError("no Haar cascade in this OpenCV build")
    return lambda bgr: [tuple(map(int, b)) for b in
                        casc.detectMultiScale(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 1.1, 5)]


# ---------------------------------------------------------------- smile / emotion methods
class Ours:
    name = "hookcam expression.onnx"

    def __init__(self, det: FaceDetector):
        self.model = ExpressionModel()
        self.det = det

    def photo(self, bgr):
        faces = self.det.detect(bgr)
        if not faces:
            return self.model.predict_crop(bgr)
        return self.model.predict(bgr, [(faces[0].box, faces[0].keypoints)])[0]

    def crop(self, bgr):
        return self.model.predict_crop(bgr)

    def smile_photo(self, bgr):
        return self.photo(bgr).smile > 0.5

    def smile_crop(self, bgr):
        return self.crop(bgr).smile > 0.5


class HaarSmile:
    """The original's method (as in hookcam.bench.core.original_scenario): Haar face cascade
    (1.1, 5), then the Haar smile cascade (1.8, 20) on the face box. A crop is its own face box."""

    name = "Haar smile cascade"

    def __init__(self):
        d = Path(cv2.data.haarcascades)
        self.face = cv2.CascadeClassifier(str(d / "haarcascade_frontalface_default.xml"))
        self.smile = cv2.CascadeClassifier(str(d / "haarcascade_smile.xml"))
        if self.face.empty() or self.smile.empty():
            raise RuntimeError("no Haar cascades in this OpenCV build")

    def _smiles(self, gray) -> bool:
        return len(self.smile.detectMultiScale(gray, 1.8, 20)) > 0

    def smile_photo(self, bgr):
        gray = to_gray(bgr)
        faces = self.face.detectMultiScale(gray, 1.1, 5)
        if len(faces) == 0:  # the original draws no sticker without a Haar face
            return False
        x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
        return self._smiles(gray[y : y + h, x : x + w])

    def smile_crop(self, bgr):
        return self._smiles(to_gray(bgr))


class Landmarker:
    name = "MediaPipe Landmarker blendshapes"

    def __init__(self):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        path = MODELS / "face_landmarker.task"
        if not path.is_file():
            raise RuntimeError(f"{path} missing")
        self.mp = mp
        opts = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(path)),
                                            output_face_blendshapes=True, num_faces=1)
        self.lm = vision.FaceLandmarker.create_from_options(opts)

    def _score(self, bgr):
        img = self.mp.Image(image_format=self.mp.ImageFormat.SRGB,
                            data=np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        r = self.lm.detect(img)
        if not r.face_blendshapes:
            return None
        d = {c.category_name: c.score for c in r.face_blendshapes[0]}
        return (d["mouthSmileLeft"] + d["mouthSmileRight"]) / 2

    def smile_photo(self, bgr):
        s = self._score(bgr)
        return s is not None and s > 0.5

    def smile_crop(self, bgr):
        s = self._score(bgr)
        if s is None:  # face fills the crop: give it room
            g = to_gray(bgr)
            p = g.shape[0] // 2
            big = cv2.copyMakeBorder(g, p, p, p, p, cv2.BORDER_CONSTANT, value=int(g.mean()))
            s = self._score(cv2.cvtColor(cv2.resize(big, (256, 256)), cv2.COLOR_GRAY2BGR))
        return s is not None and s > 0.5


class FerMiniXception:
    """fer's mini-Xception int8 .tflite: 64x64 grey in [-1, 1]; same label order as ours."""

    name = "fer mini-Xception int8"

    def __init__(self, det: FaceDetector):
        from ai_edge_litert.interpreter import Interpreter

        path = MODELS / "emotion_model_quantized.tflite"
        if not path.is_file():
            raise RuntimeError(f"{path} missing")
        self.it = Interpreter(str(path), num_threads=1)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]["index"]
        self.out = self.it.get_output_details()[0]["index"]
        self.det = det

    def probs64(self, gray64) -> np.ndarray:
        x = (gray64.astype(np.float32) / 255.0 - 0.5) * 2.0
        self.it.set_tensor(self.inp, x[None, :, :, None])
        self.it.invoke()
        return self.it.get_tensor(self.out)[0]

    def _crop(self, bgr, whole: bool):
        gray = to_gray(bgr)
        found = detect_in_crop(self.det, gray) if whole else None
        if not whole:
            faces = self.det.detect(bgr)
            if faces:
                return face_crop(gray, faces[0].box, faces[0].keypoints, 64)
        if found is not None:
            return face_crop(gray, found[0], found[1], 64)
        return cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)

    def label_photo(self, bgr):
        return EMOTIONS[int(self.probs64(self._crop(bgr, False)).argmax())]

    def label_crop(self, bgr):
        return EMOTIONS[int(self.probs64(self._crop(bgr, True)).argmax())]

    def smile_photo(self, bgr):
        return self.label_photo(bgr) == "happy"

    def smile_crop(self, bgr):
        return self.label_crop(bgr) == "happy"


# ---------------------------------------------------------------- runner
def smile_scores(m) -> dict[str, str]:
    y = [(imread(p), lab) for p, lab in yale()]
    s = [(imread(p), lab) for p, lab in smilesmiled()]
    pred_y = [bool(m.smile_photo(img)) for img, _ in y]
    hn = [(pv, lab == "happy") for pv, (_, lab) in zip(pred_y, y) if lab in ("happy", "normal")]
    hr = [(pv, lab == "happy") for pv, (_, lab) in zip(pred_y, y)]
    sm = [(bool(m.smile_crop(img)), lab) for img, lab in s]
    ok = lambda pairs: f"{sum(a == b for a, b in pairs)}/{len(pairs)}"  # noqa: E731
    return {"yale_happy_vs_normal": ok(hn), "yale_happy_vs_rest": ok(hr), "smilesmiled": ok(sm)}


def emotion_scores(label_photo, label_crop, fer_probs=None, skip_fer=False) -> dict[str, str]:
    out = {}
    if skip_fer:
        out["fer2013_private"] = "skipped"
    elif fer_probs is not None:
        items = fer_private()
        correct = sum(int(fer_probs(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)).argmax() == y)
                      for p, y in items)
        out["fer2013_private"] = f"{correct / len(items):.1%} ({correct}/{len(items)})"
    ins = [(label_photo(imread(EXPR / "inspireface" / f)), lab) for f, lab in INSPIRE.items()]
    out["inspireface"] = f"{sum(a == b for a, b in ins)}/3 ({', '.join(a for a, _ in ins)})"
    mux = [(label_crop(imread(p)), MUX[p.name.split("__")[0]])
           for p in sorted((EXPR / "muxspace").glob("*.jpg"))]
    out["muxspace"] = f"{sum(a == b for a, b in mux)}/{len(mux)}"
    return out


def guarded(fn):
    try:
        return fn()
    except Exception as e:  # a baseline that cannot run is reported, not fatal
        return f"n/a ({type(e).__name__}: {' '.join(str(e).split())[:80]})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--skip-fer", action="store_true", help="skip FER2013 PrivateTest (slowest)")
    args = ap.parse_args()
    t0 = time.time()
    det = FaceDetector()
    res: dict = {"detection": {}, "smile": {}, "emotion": {}}
    res["detection"]["hookcam FaceDetector (BlazeFace full-range)"] = guarded(
        lambda: eval_detector(lambda bgr: [d.box for d in det.detect(bgr)]))
    res["detection"]["OpenCV Haar frontal face (original)"] = guarded(
        lambda: eval_detector(haar_face()))

    ours = Ours(det)
    methods = [("ours", lambda: ours), ("haar", HaarSmile), ("landmarker", Landmarker),
               ("fer", lambda: FerMiniXception(det))]
    names = {"ours": Ours.name, "haar": HaarSmile.name, "landmarker": Landmarker.name,
             "fer": FerMiniXception.name}
    insts = {}
    for key, make in methods:
        inst = guarded(make)
        insts[key] = inst
        res["smile"][names[key]] = guarded(lambda: smile_scores(inst)) if not isinstance(inst, str) else inst

    def ours_fer(gray48):
        e = ours.model.predict_crop(gray48)
        return np.array([e.emotions[k] for k in EMOTIONS])

    res["emotion"][Ours.name] = guarded(lambda: emotion_scores(
        lambda b: ours.photo(b).label, lambda b: ours.crop(b).label, ours_fer, args.skip_fer))
    fer = insts["fer"]
    if isinstance(fer, str):
        res["emotion"][FerMiniXception.name] = fer
    else:
        res["emotion"][FerMiniXception.name] = guarded(lambda: emotion_scores(
            fer.label_photo, fer.label_crop,
            lambda g: fer.probs64(cv2.resize(g, (64, 64), interpolation=cv2.INTER_LINEAR)),
            args.skip_fer))
    res["seconds"] = round(time.time() - t0, 1)

    if args.json:
        print(json.dumps(res, indent=2))
        return
    print("## (a) Face detection (testdata/faces/dlib, 43 labelled faces, IoU >= 0.3; 15 negatives)\n")
    print("| detector | result |\n|---|---|")
    for k, v in res["detection"].items():
        print(f"| {k} | {v} |")
    print("\n## (b) Smile\n")
    print("| method | Yale happy vs normal | Yale happy vs rest | SMILEsmileD (46) |\n|---|---|---|---|")
    for k, v in res["smile"].items():
        if isinstance(v, str):
            print(f"| {k} | {v} | | |")
        else:
            print(f"| {k} | {v['yale_happy_vs_normal']} | {v['yale_happy_vs_rest']} | {v['smilesmiled']} |")
    print("\n## (c) Emotion\n")
    print("| method | FER2013 PrivateTest | InspireFace happy/sad/anger | muxspace (18, informative) |")
    print("|---|---|---|---|")
    for k, v in res["emotion"].items():
        if isinstance(v, str):
            print(f"| {k} | {v} | | |")
        else:
            print(f"| {k} | {v['fer2013_private']} | {v['inspireface']} | {v['muxspace']} |")
    print(f"\n({res['seconds']} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
