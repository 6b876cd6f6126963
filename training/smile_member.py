"""Smile mode's model: one of the shipped file's two networks, alone.

    python training/smile_member.py [--file src/hookcam/assets/models/expression.onnx]   # 20 s
    # writes expression-smile.onnx beside it

Smile mode uses only the smile and face outputs, and on the validation data the pair's second
network does not make the smile better (SMILEsmileD hold-out, smile > 0.5: member 0 93.1%,
member 1 93.5%, the pair 93.2%; FER2013 PublicTest happy vs rest 94.1 / 94.4 / 94.5%). One network
costs half the CPU. This picks the member with the best smile hold-out accuracy (PublicTest happy
vs rest breaks a tie), cuts it out of the file (its int8 weights byte for byte, the same tail:
blend, temperature, smile, face), refits `face_min` for it by train.fit_runtime's rule (the 1st
percentile of its face output on PublicTest faces) and writes the result, replacing an old one
only when complete. Validation data only. After a new `expression.onnx`, run it again and update
the `expression_smile` entry in `src/hookcam/models.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ensemble import MEAN_LOGITS, onnx_tensors  # noqa: E402
from model import N_FER  # noqa: E402
from prepare import PUBLIC, SMILE_VAL  # noqa: E402
from train import DEFAULT_OUT, NF, ferplus_votes  # noqa: E402


def member_outputs(m) -> list[str]:
    """The members' logits tensors: the inputs of the Concat (through Unsqueeze) under MEAN_LOGITS."""
    by_out = {o: n for n in m.graph.node for o in n.output}
    concat = by_out[by_out[MEAN_LOGITS].input[0]]
    return [by_out[i].input[0] for i in concat.input]


def one_member(m, member: str):
    """A copy of `m` whose tail reads `member`'s logits instead of the mean; the rest pruned."""
    import onnx
    from onnx import helper

    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    nodes = [helper.make_node("Identity", [member], [MEAN_LOGITS], name="/net/smile_member") if MEAN_LOGITS in n.output else n
             for n in g.node]
    needed, keep = {o.name for o in g.output}, []
    for n in reversed(nodes):  # topological order: walk back from the outputs
        if needed & set(n.output):
            keep.append(n)
            needed |= {i for i in n.input if i}
    del g.node[:]
    g.node.extend(reversed(keep))
    inits = [t for t in g.initializer if t.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)
    return m


def build(src: Path, out: Path, d: dict) -> dict:
    import onnx

    m = onnx.load(str(src))
    names = member_outputs(m)
    val, pub = d["split"] == SMILE_VAL, d["split"] == PUBLIC
    sv, pv = onnx_tensors(m, names + [MEAN_LOGITS], d["x"][val]), onnx_tensors(m, names + [MEAN_LOGITS], d["x"][pub])
    smile_val = [float(((o[:, N_FER] > 0) == (d["s"][val] == 1)).mean()) for o in sv]
    happy = [float(((o[:, N_FER] > 0) == (d["y"][pub] == 3)).mean()) for o in pv]  # EMOTIONS[3] = happy
    k = max(range(len(names)), key=lambda i: (smile_val[i], happy[i]))
    one = one_member(m, names[k])
    face = onnx_tensors(one, ["face"], d["x"][pub])[0][:, 0]
    votes = d["votes"][pub]
    real = (votes[:, NF] < 5) & (votes.sum(1) > 0)
    face_min = float(np.quantile(face[real], 0.01))
    props = {p.key: p.value for p in m.metadata_props}  # one entry per key
    props.update({"face_min": f"{face_min:.6g}", "smile_member": names[k], "members_of": src.name})
    del one.metadata_props[:]
    for key, value in props.items():
        one.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(one)
    tmp = out.with_name(out.name + ".tmp")
    onnx.save(one, str(tmp))
    tmp.replace(out)
    pct = lambda v: round(v * 100, 2)  # noqa: E731
    return {"member": k, "smile_holdout": [pct(v) for v in smile_val], "public_happy": [pct(v) for v in happy],
            "order": [f"member {i}" for i in range(len(names))] + ["pair"], "face_min": round(face_min, 6),
            "out": str(out), "size": out.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--out", type=Path, help="default: expression-smile.onnx beside --file")
    ap.add_argument("--data", type=Path, default=HERE / "cache" / "data.npz")
    args = ap.parse_args()
    z = np.load(args.data)
    d = {k: z[k] for k in ("x", "y", "s", "split", "files")}
    d["votes"], _ = ferplus_votes(d["files"])
    out = args.out or args.file.with_name(args.file.stem + "-smile.onnx")
    print(json.dumps(build(args.file, out, d)), flush=True)


if __name__ == "__main__":
    main()
