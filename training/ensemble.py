"""Average several trained expression networks into the one ONNX file hookcam ships.

    python training/ensemble.py cache/ckpt-s0.pt cache/ckpt-s1.pt [--fp32] [--final]

Each checkpoint is a finished `train.py` run (different `--seed`). For each, the trained weights
or their running average are taken, whichever PublicTest prefers (as train.py does); the
ensemble's logits are the mean of the members' logits. The blend weight, the temperature and the
two runtime thresholds are then fitted on PublicTest by train.py's own rules; the blend must hold
both for one pass (the live camera) and for the mirror average (`hookcam analyze`).

The file is quantised to int8 (static, QDQ, per-channel 7-bit weights, activation ranges from
the 99.999th percentile over 512 training crops): two networks then cost less than one in
float32 (0.36 ms against 0.85 ms a network on an AVX-512 VNNI EPYC) for about 0.1-0.2 points of
PublicTest accuracy. 7-bit weights (`reduce_range`): CPUs without VNNI multiply u8 x s8 pairs
into 16 bits with saturation (onnxruntime's quantisation notes); with 7-bit weights the pair
sum cannot overflow, so the file computes the same on every x86 CPU. With --fp32 it stays
float32, its weights stored as float16 (cast back when onnxruntime loads it). PrivateTest is
printed only with --final.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import ExpressionNet  # noqa: E402
from prepare import PRIVATE, PUBLIC, SMILE_VAL, TRAIN  # noqa: E402
from train import (  # noqa: E402
    DEFAULT_OUT,
    HERE,
    evaluate,
    export,
    ferplus_votes,
    fit_blend,
    fit_runtime,
    pick_weights,
    predict,
)


class Mean(nn.Module):
    """The mean of several networks' logits."""

    def __init__(self, nets: list[nn.Module]):
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([n(x) for n in self.nets]).mean(0)


def member(path: Path, d: dict) -> tuple[nn.Module, str]:
    """The trained network of a checkpoint, or its weight average where PublicTest prefers it."""
    ck = torch.load(path, weights_only=False)
    cfg = tuple(tuple(c) for c in ck["cfg"])
    nets = {"trained": ExpressionNet(cfg)}
    nets["trained"].load_state_dict(ck["net"])
    if "ema" in ck:
        nets["average"] = ExpressionNet(cfg)
        nets["average"].load_state_dict({k.removeprefix("module."): v for k, v in ck["ema"].items()
                                         if k.startswith("module.")})
    name, net, _, _ = pick_weights(nets, d)
    return net.eval(), name


def store_half(path: Path) -> None:
    """Rewrite an ONNX file with its large float32 weights stored as float16, each cast back to
    float32 by a Cast node that onnxruntime folds away when it loads the graph."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(path))
    g = m.graph
    casts = []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < 64:
            continue
        a = numpy_helper.to_array(init)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(a.astype(np.float16), name + "_f16"))
        casts.append(helper.make_node("Cast", [name + "_f16"], [name], to=TensorProto.FLOAT))
    for n in reversed(casts):
        g.node.insert(0, n)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def quantize(src: Path, out: Path, d: dict, n: int = 512) -> None:
    """Static int8 (QDQ) copy of `src` at `out`, calibrated on `n` training crops (seeded);
    the metadata (blend, temperature, thresholds) is carried over."""
    import tempfile

    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    rows = np.random.default_rng(0).choice(np.flatnonzero(d["split"] == TRAIN), n, replace=False)
    calib = d["x"][np.sort(rows)].astype(np.float32)[:, None]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(range(0, n, 32))

        def get_next(self):
            i = next(self.it, None)
            return None if i is None else {"input": calib[i : i + 32]}

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        reduce_range=True,
                        op_types_to_quantize=["Conv", "Gemm", "MatMul"],
                        calibrate_method=CalibrationMethod.Percentile,
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    m, meta = onnx.load(str(out)), onnx.load(str(src)).metadata_props
    for p in meta:
        m.metadata_props.add(key=p.key, value=p.value)
    onnx.save(m, str(out))


MEAN_LOGITS = "/net/ReduceMean_output_0"  # Mean's output in the exported graph: the tail's input


def onnx_tensors(m, names: list[str], x: np.ndarray) -> list[np.ndarray]:
    """Tensors `names` of an exported file (a path or a loaded ModelProto, left unchanged) on
    crops `x` (N, 48, 48), in batches of 512."""
    import onnx
    import onnxruntime as ort

    m = onnx.load(str(m)) if isinstance(m, (str, Path)) else onnx.ModelProto.FromString(m.SerializeToString())
    outs = {o.name for o in m.graph.output}
    m.graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
                          for n in names if n not in outs)
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    x = x.astype(np.float32)[:, None]
    parts = [s.run(names, {"input": x[i : i + 512]}) for i in range(0, len(x), 512)]
    return [np.concatenate(p) for p in zip(*parts)]


def onnx_scores(path: Path, d: dict, split: int) -> dict:
    """FER2013 and FER+ accuracy of the ONNX file's own `probs` on a split."""
    import onnxruntime as ort

    m = d["split"] == split
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    p = s.run(None, {"input": d["x"][m].astype(np.float32)[:, None]})[0][:, :7].argmax(1)
    major, has = d["major"][m], d["major"][m] >= 0
    return {"fer13": float((p == d["y"][m]).mean()), "plus": float((p[has] == major[has]).mean())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpts", type=Path, nargs="+", help="finished train.py checkpoints")
    ap.add_argument("--data", type=Path, default=HERE / "cache" / "data.npz")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--fp32", action="store_true", help="float32 (weights stored as float16), not int8")
    ap.add_argument("--final", action="store_true", help="also print PrivateTest accuracy")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    z = np.load(args.data)
    d = {k: z[k] for k in ("x", "y", "s", "split", "files")}
    d["votes"], d["major"] = ferplus_votes(d["files"])
    picked = [member(p, d) for p in args.ckpts]
    net = Mean([n for n, _ in picked]).eval()
    m = d["split"] == PUBLIC
    pub = predict(net, d["x"][m])
    mirrored = (pub + predict(net, np.ascontiguousarray(d["x"][m][:, :, ::-1]))) / 2  # as hookcam analyze
    w, mix, t, cal = fit_blend(pub, d["y"][m], d["major"][m], mirrored)
    rt = fit_runtime(pub, d["votes"][m], d["major"][m], w, t, mix)
    cal.update(rt)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".fp32.tmp")
    export(net, tmp, w, t, {"emotion_lead": rt["emotion_lead"], "face_min": rt["face_min"]}, mix)
    if args.fp32:
        store_half(tmp)
        tmp.replace(args.out)
    else:
        quantize(tmp, args.out, d)
        tmp.unlink()
    result = {"members": {str(p): how for p, (_, how) in zip(args.ckpts, picked)}, "blend_w": w, "blend_mix": mix,
              "temperature": round(t, 4), "public": cal, "smile_val": evaluate(net, d, SMILE_VAL),
              "size_mb": round(args.out.stat().st_size / 1e6, 2),
              "onnx_public": onnx_scores(args.out, d, PUBLIC)}
    if args.final:
        result["private"] = evaluate(net, d, PRIVATE, w, mix)
        result["onnx_private"] = onnx_scores(args.out, d, PRIVATE)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
