"""Load an AnimeGAN-family ONNX generator and run it on RGB crops.

Any AnimeGAN-style generator works: one image input, NHWC (or NCHW) RGB in [-1, 1], fp16 or
fp32, sides a multiple of 8 or 16. fp16 files are converted to fp32 at load (faster on CPU
and needed for int8 quantisation). `settings.anime_model` may be a registry name
(`anime_jp_face`, `anime_tiny_cute`) or a path to the user's own .onnx file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Registry names -> the input side that keeps each model's look (see docs/anime_astronaut.png).
KNOWN_MODELS: dict[str, dict] = {
    # 320: the smallest size whose eyes survive on the tight crop (256 and 288 smudge an eye on
    # a three-quarter face; checked on the contact sheet), 1.4x faster than 384.
    "anime_jp_face": {"size": 320, "crop": "tight"},
    "anime_tiny_cute": {"size": 256, "crop": "loose"},
}
DEFAULT_MODEL = "anime_jp_face"
DEFAULT_SIZE = 384


def is_registry_name(name: str) -> bool:
    return name in KNOWN_MODELS or (os.sep not in name and not name.endswith(".onnx"))


def load_fp32_model_bytes(path: Path) -> bytes:
    """The model as fp32 ONNX bytes (fp16 initializers, casts and I/O rewritten to fp32)."""
    import onnx

    model = onnx.load(str(path))
    if not _has_fp16(model):
        return model.SerializeToString()
    return float16_to_float32(model).SerializeToString()


def _has_fp16(model) -> bool:
    from onnx import TensorProto

    g = model.graph
    return any(t.data_type == TensorProto.FLOAT16 for t in g.initializer) or any(
        v.type.tensor_type.elem_type == TensorProto.FLOAT16 for v in list(g.input) + list(g.output)
    )


def float16_to_float32(model):
    """Rewrite an fp16 ONNX graph to fp32, in place; returns it."""
    from onnx import TensorProto, numpy_helper

    f16, f32 = TensorProto.FLOAT16, TensorProto.FLOAT

    def fix_graph(g) -> None:
        for i, t in enumerate(g.initializer):
            if t.data_type == f16:
                arr = numpy_helper.to_array(t).astype(np.float32)
                g.initializer[i].CopyFrom(numpy_helper.from_array(arr, t.name))
        for v in list(g.input) + list(g.output) + list(g.value_info):
            if v.type.tensor_type.elem_type == f16:
                v.type.tensor_type.elem_type = f32
        for node in g.node:
            for a in node.attribute:
                if node.op_type == "Cast" and a.name == "to" and a.i == f16:
                    a.i = f32
                elif a.type == a.TENSOR and a.t.data_type == f16:
                    arr = numpy_helper.to_array(a.t).astype(np.float32)
                    a.t.CopyFrom(numpy_helper.from_array(arr, a.t.name))
                elif a.type == a.GRAPH:
                    fix_graph(a.g)

    fix_graph(model.graph)
    return model


def session_options(threads: int | None = None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads or max(1, min(2, os.cpu_count() or 1))
    so.inter_op_num_threads = 1
    # Never spin: the output loop shares these cores and must not wait for a busy-waiting pool.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


@dataclass
class GanInfo:
    name: str  # registry name or file name
    path: Path
    sha256: str
    size: int  # input side used
    crop: str  # "tight" | "loose"


class OnnxGenerator:
    """`generator(rgb_uint8 HxWx3) -> rgb_uint8 HxWx3` through an ONNX Runtime session."""

    def __init__(self, model: bytes | str | Path, threads: int | None = None):
        import onnxruntime as ort

        src = model if isinstance(model, bytes) else str(model)
        self.session = ort.InferenceSession(src, session_options(threads), providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()
        if len(inp) != 1:
            raise ValueError(f"expected a generator with one input, got {len(inp)}")
        self.input_name = inp[0].name
        self.dtype = np.float16 if "float16" in inp[0].type else np.float32
        shape = inp[0].shape
        self.nchw = len(shape) == 4 and shape[1] == 3 and shape[-1] != 3

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        x = rgb.astype(np.float32) * (1 / 127.5) - 1.0
        x = x[None]
        if self.nchw:
            x = x.transpose(0, 3, 1, 2)
        y = self.session.run(None, {self.input_name: x.astype(self.dtype, copy=False)})[0]
        y = np.asarray(y, dtype=np.float32)
        if self.nchw or (y.ndim == 4 and y.shape[1] == 3 and y.shape[-1] != 3):
            y = y.transpose(0, 2, 3, 1)
        out = (y[0] + 1.0) * 127.5
        return np.clip(out, 0, 255).astype(np.uint8)
