"""Smile and emotion per face: hookcam's own small CNN (`training/`), run with ONNX Runtime.

The model takes 48x48 grey face crops framed like FER2013 (`hookcam.analysis.align.face_crop`)
as float 0..255, shape (N, 1, 48, 48), and returns `probs` (N, 8): the 7 emotions of
`hookcam.types.EMOTIONS` (calibrated: temperature-scaled on FER2013 PublicTest, in the graph) and
the smile probability; and `face` (N, 1): the probability that the crop is a face at all (trained
on the FER+ "not a face" votes). Data, training command and accuracy: `training/MODEL_CARD.md`.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookcam.analysis.align import MARGIN, SHIFT_Y, SIZE, detect_in_crop, face_crop, to_gray
from hookcam.errors import ModelError
from hookcam.types import EMOTIONS

Box = tuple[float, float, float, float]


@dataclass
class Expression:
    smile: float  # probability in [0, 1]
    emotions: dict[str, float]  # the 7 labels of hookcam.types.EMOTIONS -> probability
    face: float = 1.0  # probability that the crop is a face (1.0 for a model without that output)

    @property
    def label(self) -> str:
        return max(self.emotions, key=self.emotions.__getitem__)


def _bundled(file: str) -> Path:
    """A model file that ships inside the hookcam package (assets/models)."""
    return Path(str(importlib.resources.files("hookcam") / "assets" / "models" / file))


def default_model_path() -> Path:
    return _bundled("expression.onnx")


def smile_model_path() -> Path:
    """The smile effect's model: one of the two networks of `expression.onnx`, alone (smile mode
    uses only the smile and face outputs, and on validation data the pair's smile is no better
    than this member's; `training/smile_member.py`), for half the CPU."""
    return _bundled("expression-smile.onnx")


class ExpressionModel:
    """`predict(bgr, [(box, keypoints), ...])` -> one `Expression` per face, one ORT call.

    `mirror=True` also runs each crop's mirror image (in the same call) and averages the two
    answers: a face's expression does not change in a mirror, so this averages out part of the
    model's error (FER2013 PublicTest +0.5 to 1 point on both label sets, `training/frontier.py`)
    for twice the model time. `hookcam analyze` (stills, offline) uses it; the live camera runs
    one pass a frame and averages over frames instead (`analysis/smoothing.py`)."""

    def __init__(self, path: Path | None = None, threads: int = 1, mirror: bool = False):
        import onnxruntime as ort

        self.path = Path(path) if path is not None else default_model_path()
        if not self.path.is_file():
            raise ModelError(
                f"expression model not found at {self.path}: reinstall hookcam "
                "or rebuild it with training/train.py"
            )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._sess = ort.InferenceSession(
                str(self.path), opts, providers=["CPUExecutionProvider"]
            )
            inp = self._sess.get_inputs()[0]
            out = self._sess.get_outputs()[0]
            if list(inp.shape[1:]) != [1, SIZE, SIZE] or out.shape[-1] != len(EMOTIONS) + 1:
                raise ValueError(f"unexpected shapes {inp.shape} -> {out.shape}")
        except Exception as e:  # onnxruntime raises its own types; keep the message one line
            reason = " ".join(str(e).split())[:160]
            raise ModelError(
                f"expression model {self.path} is corrupt or not an expression model ({reason}): "
                "reinstall hookcam or rebuild it with training/train.py"
            ) from None
        self.mirror = mirror
        self._input = inp.name
        self._outputs = [o.name for o in self._sess.get_outputs()][:2]
        # decision thresholds chosen on FER2013 PublicTest by training/train.py (fit_runtime)
        meta = self._sess.get_modelmeta().custom_metadata_map
        self.emotion_lead = float(meta.get("emotion_lead", 0.0))
        self.face_min = float(meta.get("face_min", 0.0))
        self._detector = None

    def predict_crops(self, crops: np.ndarray) -> list[Expression]:
        """`crops`: uint8 (N, SIZE, SIZE) aligned grey faces."""
        if len(crops) == 0:
            return []
        x = np.asarray(crops, np.float32).reshape(-1, 1, SIZE, SIZE)
        n = len(x)
        if self.mirror:
            x = np.concatenate([x, x[..., ::-1]])
        res = self._sess.run(self._outputs, {self._input: x})
        probs = res[0]
        face = res[1][:, 0] if len(res) > 1 else np.ones(len(probs), np.float32)
        if self.mirror:  # the mean of the two probability vectors (sums to 1 still)
            probs, face = (probs[:n] + probs[n:]) / 2, (face[:n] + face[n:]) / 2
        return [
            Expression(float(p[7]), {e: float(v) for e, v in zip(EMOTIONS, p[:7])}, float(f))
            for p, f in zip(probs, face)
        ]

    def predict(
        self, bgr: np.ndarray, faces: Sequence[tuple[Box, np.ndarray | None]]
    ) -> list[Expression]:
        if not faces:
            return []
        # face_crop turns only the region around each face grey (not the whole frame)
        crops = np.stack([face_crop(bgr, box, kps, SIZE) for box, kps in faces])
        return self.predict_crops(crops)

    def predict_crop(self, bgr: np.ndarray) -> Expression:
        """The whole image is one face (e.g. a SMILEsmileD crop), see `whole_image_crop`."""
        return self.predict_crops(self.whole_image_crop(bgr)[None])[0]

    def whole_image_crop(self, bgr: np.ndarray) -> np.ndarray:
        """The aligned crop of an image that is one face: aligned on the face the detector finds
        inside, else framed as in training (the median detected box)."""
        gray = to_gray(bgr)
        if self._detector is None:
            from hookcam.faces.detect import FaceDetector

            self._detector = FaceDetector(threshold=0.5)
        found = detect_in_crop(self._detector, gray)
        if found is not None:
            box, kps = found
        else:
            h, w = gray.shape[:2]
            bw = max(h, w) / MARGIN  # the box whose crop is the whole image
            box, kps = (w / 2 - bw / 2, h / 2 + SHIFT_Y * bw - bw / 2, bw, bw), None
        return face_crop(gray, box, kps, SIZE)

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None
