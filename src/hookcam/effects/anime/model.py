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


def load_fp32_model_bytes(path: Path, fold: bool = True) -> bytes:
    """The model as fp32 ONNX bytes (fp16 initializers, casts and I/O rewritten to fp32),
    with `fold`, reflect pads folded into the convolutions (see graph.py)."""
    import onnx

    from hookcam.effects.anime.graph import fold_reflect_pads

    model = onnx.load(str(path))
    if _has_fp16(model):
        float16_to_float32(model)
    if fold:
        fold_reflect_pads(model)
    return model.SerializeToString()


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
    so.intra_op_num_threads = threads or default_threads()
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


def pick_runtime(runtime: str = "auto") -> str:
    """'openvino' when asked for or, for 'auto', when it is installed; else 'onnxruntime'."""
    if runtime == "onnxruntime":
        return runtime
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "onnxruntime"
    return "openvino"


def default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def make_generator(model: bytes | str | Path, threads: int | None = None, runtime: str = "auto",
                   streams: int = 1):
    """A generator on the chosen runtime (see `pick_runtime`): `threads` in all, shared by
    `streams` calls that may run at once from different threads."""
    if pick_runtime(runtime) == "openvino":
        return OpenVinoGenerator(model, threads, streams)
    return OnnxGenerator(model, threads, streams)


def _to_input(rgb: np.ndarray, nchw: bool, dtype) -> np.ndarray:
    x = (rgb.astype(np.float32) * (1 / 127.5) - 1.0)[None]
    if nchw:
        x = x.transpose(0, 3, 1, 2)
    return x.astype(dtype, copy=False)


def _to_rgb(y, nchw: bool) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if nchw or (y.ndim == 4 and y.shape[1] == 3 and y.shape[-1] != 3):
        y = y.transpose(0, 2, 3, 1)
    import cv2

    # (y + 1) * 127.5, saturated to uint8 (tanh keeps y in [-1, 1], so nothing is negative)
    return cv2.convertScaleAbs(np.ascontiguousarray(y[0]), alpha=127.5, beta=127.5)


class OnnxGenerator:
    """`generator(rgb_uint8 HxWx3) -> rgb_uint8 HxWx3` through an ONNX Runtime session."""

    runtime = "onnxruntime"

    def __init__(self, model: bytes | str | Path, threads: int | None = None, streams: int = 1):
        import onnxruntime as ort

        src = model if isinstance(model, bytes) else str(model)
        per_call = max(1, (threads or default_threads()) // max(1, streams))  # run() is thread-safe
        self.session = ort.InferenceSession(src, session_options(per_call), providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()
        if len(inp) != 1:
            raise ValueError(f"expected a generator with one input, got {len(inp)}")
        self.input_name = inp[0].name
        self.dtype = np.float16 if "float16" in inp[0].type else np.float32
        shape = inp[0].shape
        self.nchw = len(shape) == 4 and shape[1] == 3 and shape[-1] != 3

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        y = self.session.run(None, {self.input_name: _to_input(rgb, self.nchw, self.dtype)})[0]
        return _to_rgb(y, self.nchw)


class OpenVinoGenerator:
    """The same through OpenVINO's CPU plugin, compiled for each input shape it is given:
    static shapes let OpenVINO pick its int8 kernels (tiny_Cute int8 at 256: 24 ms static,
    40 ms dynamic, on 2 threads). A crop has one shape, so this compiles once or twice.

    With `streams` > 1 the model is compiled for throughput: each calling thread gets its own
    infer request and the calls run side by side, one core each (OpenVINO makes at most one
    stream per core; extra calls queue). On 2 busy cores that beats one call spread over both,
    whose threads wait for each other whenever one is preempted."""

    runtime = "openvino"
    MAX_SHAPES = 4

    def __init__(self, model: bytes | str | Path, threads: int | None = None, streams: int = 1):
        import threading

        import openvino as ov

        self._core = ov.Core()
        src = model if isinstance(model, bytes) else str(model)
        self._model = self._core.read_model(src, b"") if isinstance(src, bytes) else self._core.read_model(src)
        if len(self._model.inputs) != 1:
            raise ValueError(f"expected a generator with one input, got {len(self._model.inputs)}")
        inp = self._model.inputs[0]
        self._input_name = inp.get_any_name()
        self.dtype = np.float16 if inp.get_element_type().to_string() == "f16" else np.float32
        shape = inp.get_partial_shape()
        last = shape[3].get_length() if shape.rank.get_length() == 4 and shape[3].is_static else None
        second = shape[1].get_length() if shape.rank.get_length() == 4 and shape[1].is_static else None
        self.nchw = second == 3 and last != 3
        threads = threads or default_threads()
        streams = max(1, min(streams, threads))
        self._config = {
            "PERFORMANCE_HINT": "LATENCY" if streams == 1 else "THROUGHPUT",
            "INFERENCE_NUM_THREADS": threads,
            "ENABLE_CPU_PINNING": False,  # the cores are shared with capture and output
        }
        if streams > 1:
            self._config["NUM_STREAMS"] = streams
        self._compiled: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # this thread's infer request per shape

    def _request(self, shape: tuple):
        mine = self._local.__dict__.setdefault("requests", {})
        req = mine.get(shape)
        if req is None:
            with self._lock:
                compiled = self._compiled.get(shape)
                if compiled is None:
                    if len(self._compiled) >= self.MAX_SHAPES:
                        self._compiled.pop(next(iter(self._compiled)))
                    model = self._model.clone()
                    model.reshape({self._input_name: list(shape)})
                    compiled = self._core.compile_model(model, "CPU", self._config)
                    self._compiled[shape] = compiled
            if len(mine) >= self.MAX_SHAPES:
                mine.pop(next(iter(mine)))
            req = mine[shape] = compiled.create_infer_request()
        return req

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        x = _to_input(rgb, self.nchw, self.dtype)
        req = self._request(x.shape)
        req.infer({0: x})
        return _to_rgb(req.get_output_tensor(0).data, self.nchw)
