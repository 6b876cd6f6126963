"""Train the expression model on the cache from prepare.py, calibrate it, export it to ONNX.

    python training/train.py --bf16             # the committed recipe (see MODEL_CARD.md); without
                                                # --bf16 the same in fp32 (about 2x slower where
                                                # the CPU has AVX512-BF16)
    python training/train.py --resume [--bf16]  # continue an interrupted run from cache/ckpt.pt
    python training/train.py --epochs 2 --out /tmp/x.onnx   # a quick try

One network, three heads, mixed batches:
- FER2013 rows: the original label (7-way cross-entropy, label smoothing), the FER+ vote
  distribution as a soft target (9-way: 8 emotions + NF, "unknown" votes dropped; Barsoum et al.
  2016), and a derived smile label (happy = smile) at half weight. The 175 rows with no FER+ votes
  (not faces) train only the NF class.
- SMILEsmileD rows: the smile label only.
Augmentation: flip, rotation, scale, shift, brightness, contrast, random erasing. An exponential
moving average of the weights is kept beside the trained ones; PublicTest picks which is exported.
The runtime emotion scores blend the two emotion heads (`model.blend_logp`: weight w, geometric
or linear mix) and are temperature-scaled; w, the mix and the temperature are fitted on FER2013
PublicTest after training (`ensemble.py` does the same for several runs averaged), and
PublicTest (+ the SMILEsmileD hold-out) is the only data used for choices. PrivateTest is
printed only with --final.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import (  # noqa: E402
    DEFAULT_CFG,
    FERPLUS,
    MIXES,
    N_FER,
    N_PLUS,
    Exported,
    ExpressionNet,
    blend_logp,
    fold_matrix,
)
from prepare import DATA, PRIVATE, PUBLIC, SMILE_TRAIN, SMILE_VAL, TRAIN  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "src" / "hookcam" / "assets" / "models" / "expression.onnx"
NF = N_PLUS - 1


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random flip, rotation (+-12 deg), scale (0.9-1.1), shift (+-8%), brightness, contrast."""
    n = x.shape[0]
    ang = (torch.rand(n, generator=g) * 2 - 1) * math.radians(12)
    sc = 1 + (torch.rand(n, generator=g) * 2 - 1) * 0.1
    flip = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    tx, ty = ((torch.rand(2, n, generator=g) * 2 - 1) * 0.16)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    c = 1 + (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.3
    b = (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.12
    m = x.mean(dim=(2, 3), keepdim=True)
    return ((x - m) * c + m + b).clamp(0, 1)


def erase(x: torch.Tensor, g: torch.Generator, p: float) -> torch.Tensor:
    """Random erasing (Zhong et al. 2020): with probability p, a rectangle of 2-20% of the crop
    (aspect 0.3-3.3) is filled with uniform noise, so no single region (the mouth) decides alone."""
    n, _, h, w = x.shape
    area = (0.02 + torch.rand(n, generator=g) * 0.18) * h * w
    logr = (torch.rand(n, generator=g) * 2 - 1) * math.log(3.3)
    eh = (area * torch.exp(logr)).sqrt().clamp(1, h - 1)
    ew = (area / torch.exp(logr)).sqrt().clamp(1, w - 1)
    y0 = torch.rand(n, generator=g) * (h - eh)
    x0 = torch.rand(n, generator=g) * (w - ew)
    on = torch.rand(n, generator=g) < p
    ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    box = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1)) & (xs >= x0.view(n, 1, 1))
           & (xs < (x0 + ew).view(n, 1, 1)) & on.view(n, 1, 1)).unsqueeze(1)
    return torch.where(box, torch.rand(x.shape, generator=g), x)


def ferplus_votes(files: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cache row: FER+ votes (N, 9) in FERPLUS order (zeros where none) and the majority
    label in EMOTIONS order (-1: no emotion majority, or not a FER2013 row)."""
    from hookcam.types import EMOTIONS

    fold = {p: e for e, ps in (("angry", ("anger",)), ("disgust", ("disgust", "contempt")),
                               ("fear", ("fear",)), ("happy", ("happiness",)), ("sad", ("sadness",)),
                               ("surprise", ("surprise",)), ("neutral", ("neutral",))) for p in ps}
    rows = {r["file"]: r for r in csv.DictReader(open(DATA / "ferplus" / "labels.csv"))}
    votes = np.zeros((len(files), N_PLUS), np.float32)
    major = np.full(len(files), -1, np.int64)
    for i, f in enumerate(files):
        f = str(f)
        if not f.startswith("fer2013/"):
            continue
        r = rows[f.removeprefix("fer2013/")]
        if r["status"] == "no_ferplus_png":
            votes[i, NF] = 10  # no FER+ votes: all 175 are non-faces (ferplus/SOURCE.md)
            continue
        votes[i] = [float(r[k]) for k in FERPLUS]
        if r["ferplus_majority"] in fold:
            major[i] = EMOTIONS.index(fold[r["ferplus_majority"]])
    return votes, major


@torch.no_grad()
def predict(net: ExpressionNet, x: np.ndarray, bs: int = 512) -> torch.Tensor:
    net.eval()
    out = []
    for i in range(0, len(x), bs):
        t = torch.from_numpy(x[i : i + bs]).float().div_(255).unsqueeze(1)
        out.append(net(t.contiguous(memory_format=torch.channels_last)))
    return torch.cat(out)


def scores(out: torch.Tensor, y13: np.ndarray, major: np.ndarray, w: float, mix: str = "geometric") -> dict:
    lp = blend_logp(out, w, mix)
    pplus = torch.softmax(out[:, N_FER + 1 : N_FER + N_PLUS], 1) @ fold_matrix()
    has = major >= 0
    acc = lambda p, y, m: float((p.argmax(1).numpy()[m] == y[m]).mean())  # noqa: E731
    ones = np.ones(len(y13), bool)
    return {"fer13_head13": acc(out[:, :N_FER], y13, ones), "plus_headplus": acc(pplus, major, has),
            "fer13_blend": acc(lp, y13, ones), "plus_blend": acc(lp, major, has)}


def evaluate(net, d, split: int, w: float = 0.5, mix: str = "geometric") -> dict:
    m = d["split"] == split
    o = predict(net, d["x"][m])
    if split == SMILE_VAL:
        return {"smile_acc": float(((o[:, N_FER] > 0).numpy() == (d["s"][m] == 1)).mean())}
    return scores(o, d["y"][m], d["major"][m], w, mix)


def fit_blend(out: torch.Tensor, y13: np.ndarray, major: np.ndarray,
              mirrored: torch.Tensor | None = None) -> tuple[float, str, float, dict]:
    """w and mix: on PublicTest, the blend (weight 0..1 by 0.05, geometric or linear mix) that
    meets the most of issue 10's two accuracy targets (FER2013 original labels >= 68%, FER+
    majority >= 82%), then has the best min(margin) (with one target met: the best accuracy on
    the other while keeping it); T: the temperature minimising the negative log-likelihood of the
    FER+ majority label (10 annotators: the cleaner label).
    `mirrored`: the logits averaged with the mirror image's (what `hookcam analyze` computes);
    given, a blend is scored by the worse of its two scores, so the one blend holds for the live
    camera's one pass (`out`) and for analyze. The fit itself (T) stays on `out`."""
    best = None
    for mix in MIXES:
        for w in np.round(np.arange(0, 1.0001, 0.05), 2):
            s = scores(out, y13, major, float(w), mix)
            key = target_key(s)
            if mirrored is not None:
                sm = scores(mirrored, y13, major, float(w), mix)
                key = min(key, target_key(sm))
                s.update({f"mirror_{k}": v for k, v in sm.items()})
            if best is None or key > best[0]:
                best = (key, float(w), mix, s)
    _, w, mix, s = best
    has = torch.from_numpy(major >= 0)
    lp = blend_logp(out, w, mix)[has]
    y = torch.from_numpy(major[major >= 0])
    ts = np.exp(np.linspace(np.log(0.3), np.log(3), 121))
    nll = [float(F.cross_entropy(lp / t, y)) for t in ts]
    t = float(ts[int(np.argmin(nll))])
    p = torch.softmax(lp / t, 1)
    conf, pred = p.max(1)
    s["ece_plus"] = ece(conf.numpy(), (pred == y).numpy())
    p1 = torch.softmax(lp, 1)
    s["ece_plus_t1"] = ece(p1.max(1)[0].numpy(), (p1.argmax(1) == y).numpy())
    return w, mix, t, s


def pick_weights(nets: dict[str, torch.nn.Module], d: dict) -> tuple[str, torch.nn.Module, torch.Tensor, tuple]:
    """Of several candidate weights of one run ({"trained": ..., "average": ...}), the one whose
    fitted blend scores best against the targets on PublicTest (the first on a tie): (name,
    network, its PublicTest logits, its fit_blend result)."""
    m = d["split"] == PUBLIC
    found = {}
    for name, net in nets.items():
        out = predict(net, d["x"][m])
        found[name] = (net, out, fit_blend(out, d["y"][m], d["major"][m]))
    if len(found) > 1:
        print("PublicTest blend: " + ", ".join(f"{name} {f[3]['fer13_blend']:.4f}/{f[3]['plus_blend']:.4f}"
                                               for name, (_, _, f) in found.items()), flush=True)
    name = max(found, key=lambda k: target_key(found[k][2][3]))  # max keeps the first of equals
    return (name, *found[name])


def target_key(s: dict) -> tuple[int, float]:
    """How a blend scores against issue 10's two targets: (targets met, smallest margin)."""
    m = (s["fer13_blend"] - 0.68, s["plus_blend"] - 0.82)
    return sum(x >= 0 for x in m), min(m)


def fit_runtime(out: torch.Tensor, votes: np.ndarray, major: np.ndarray, w: float, t: float,
                mix: str = "geometric") -> dict:
    """The two runtime decision thresholds, chosen on PublicTest and stored in the ONNX metadata:
    - emotion_lead: an emotion replaces neutral only when its probability is this much above
      neutral's; the largest lead (0..0.5) that costs at most 1 point of FER+ majority accuracy.
    - face_min: the crop counts as a face when `face` >= this; the 1st percentile of `face` on
      PublicTest faces (FER+ NF votes < 5): 1% of these small, low-resolution faces fall below it.
      (A 5th-percentile rule was tried after looking at the Big Buck Bunny test clip; with the
      detector's own confirmation the rabbit gets no sticker either way, so the rule chosen on
      validation data alone stays.)"""
    from hookcam.types import EMOTIONS

    p = torch.softmax(blend_logp(out, w, mix) / t, 1).numpy()
    has = major >= 0
    neu = EMOTIONS.index("neutral")

    def acc(lead):
        q = p.copy()
        q[:, neu] += lead
        return float((q.argmax(1)[has] == major[has]).mean())

    base = acc(0.0)
    leads = [lead for lead in np.round(np.arange(0, 0.501, 0.05), 2) if acc(lead) >= base - 0.01]
    face = (1 - torch.softmax(out[:, N_FER + 1 :], 1)[:, -1]).numpy()
    real = (votes[:, NF] < 5) & (votes.sum(1) > 0)
    return {"emotion_lead": float(max(leads)), "face_min": float(np.quantile(face[real], 0.01)),
            "acc_lead0": base, "acc_lead": acc(float(max(leads))),
            "neutral_recall_lead": neutral_recall(p, major, neu, float(max(leads)))}


def neutral_recall(p: np.ndarray, major: np.ndarray, neu: int, lead: float) -> float:
    q = p[major == neu].copy()
    q[:, neu] += lead
    return float((q.argmax(1) == neu).mean())


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(conf[idx == b].mean() - correct[idx == b].mean()) * (idx == b).mean()
                     for b in range(bins) if (idx == b).any()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE / "cache" / "data.npz")
    ap.add_argument("--epochs", type=int, default=90)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("--smooth", type=float, default=0.1)
    ap.add_argument("--plus-weight", type=float, default=1.0, help="weight of the FER+ soft-target loss")
    ap.add_argument("--width", type=float, default=0.75, help="channel multiplier of DEFAULT_CFG")
    ap.add_argument("--smile-frac", type=float, default=0.2, help="SMILEsmileD share of a batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 is faster on a busy 2-core machine)")
    ap.add_argument("--bf16", action="store_true",
                    help="bfloat16 autocast for the forward pass (about 2x faster where the CPU has "
                         "AVX512-BF16; fp32 master weights either way)")
    ap.add_argument("--erase", type=float, default=0.5, help="random-erasing probability per crop")
    ap.add_argument("--ema", type=float, default=0.999,
                    help="decay of the weight average kept beside the trained weights (0: none); "
                         "the one of the two that does better on PublicTest is exported")
    ap.add_argument("--ckpt", type=Path, default=HERE / "cache" / "ckpt.pt")
    ap.add_argument("--resume", action="store_true", help="continue from --ckpt")
    ap.add_argument("--export-only", action="store_true",
                    help="no training: calibrate and export the network in --ckpt as it is")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--final", action="store_true", help="also print PrivateTest accuracy")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    z = np.load(args.data)
    d = {k: z[k] for k in ("x", "y", "s", "split", "files")}
    d["votes"], d["major"] = ferplus_votes(d["files"])
    fer_idx = np.flatnonzero(d["split"] == TRAIN)
    smi_idx = np.flatnonzero(d["split"] == SMILE_TRAIN)
    vs = d["votes"].sum(1, keepdims=True)
    soft = np.where(vs > 0, d["votes"] / np.maximum(vs, 1), 0).astype(np.float32)
    is_nf = d["votes"][:, NF] >= 10
    print(f"train rows: fer {len(fer_idx)} (not-a-face {int(is_nf[fer_idx].sum())}), smile {len(smi_idx)}",
          flush=True)

    cfg = tuple((max(8, int(c * args.width)), n) for c, n in DEFAULT_CFG)
    net = ExpressionNet(cfg).to(memory_format=torch.channels_last)
    n_smi = int(round(args.bs * args.smile_frac))
    n_fer = args.bs - n_smi
    steps = len(fer_idx) // n_fer
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps * args.epochs,
                                                pct_start=0.15)
    ema = (torch.optim.swa_utils.AveragedModel(
        net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True)
        if args.ema > 0 else None)
    history: list[dict] = []
    start = 0
    t_prev = 0.0
    if (args.resume or args.export_only) and args.ckpt.is_file():
        ck = torch.load(args.ckpt, weights_only=False)
        net.load_state_dict(ck["net"])
        if ema is not None and "ema" in ck:
            ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        g.set_state(ck["g"])
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch"])
        history, start, t_prev = ck["history"], ck["epoch"], ck["elapsed_s"]
        print(f"resumed after epoch {start} ({t_prev:.0f} s)", flush=True)
    X = torch.from_numpy(d["x"])
    Y = torch.from_numpy(d["y"].astype(np.int64))
    S = torch.from_numpy(d["s"].astype(np.float32))
    P = torch.from_numpy(soft)
    NFROW = torch.from_numpy(is_nf)
    t0 = time.time() - t_prev
    for ep in range(start, start if args.export_only else args.epochs):
        net.train()
        pf = rng.permutation(fer_idx)
        tot = 0.0
        for i in range(steps):
            idx = np.concatenate([pf[i * n_fer : (i + 1) * n_fer], rng.choice(smi_idx, n_smi)])
            x = augment(X[idx].float().div_(255).unsqueeze(1), g)
            if args.erase > 0:
                x = erase(x, g, args.erase)
            x = x.contiguous(memory_format=torch.channels_last)
            y, s, p, nf = Y[idx], S[idx], P[idx], NFROW[idx]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                out = net(x)
            out = out.float()
            face = (y >= 0) & ~nf
            le = F.cross_entropy(out[face, :N_FER], y[face], label_smoothing=args.smooth)
            hp = p.sum(1) > 0
            lp = -(p[hp] * torch.log_softmax(out[hp, N_FER + 1 :], 1)).sum(1).mean()
            st = torch.where(y >= 0, (y == 3).float(), s)
            sw = torch.where(y >= 0, 0.5, 1.0) * (~nf).float()
            ls = (F.binary_cross_entropy_with_logits(out[:, N_FER], st, reduction="none") * sw).mean()
            loss = le + args.plus_weight * lp + ls
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(net)
            tot += float(loss.detach())
            if i % 50 == 0:
                print(f"  epoch {ep + 1} step {i}/{steps} {time.time() - t0:.0f}s", flush=True)
        rec = {"epoch": ep + 1, "loss": round(tot / steps, 4), **evaluate(net, d, PUBLIC),
               **evaluate(net, d, SMILE_VAL), "elapsed_s": round(time.time() - t0)}
        if ema is not None:
            rec.update({f"ema_{k}": v for k, v in evaluate(ema.module, d, PUBLIC).items()})
        history.append(rec)
        print(json.dumps(rec), flush=True)
        args.ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "g": g.get_state(), "rng": rng.bit_generator.state, "torch": torch.get_rng_state(),
                    **({"ema": ema.state_dict()} if ema is not None else {}),
                    "history": history, "epoch": ep + 1, "elapsed_s": time.time() - t0,
                    "cfg": cfg, "args": vars(args)}, args.ckpt.with_suffix(".tmp"))
        args.ckpt.with_suffix(".tmp").replace(args.ckpt)  # never a half-written checkpoint

    m = d["split"] == PUBLIC
    # the weight average or the trained weights: whichever PublicTest prefers
    chosen, net, pub, (w, mix, t, cal) = pick_weights(
        {"trained": net, **({"average": ema.module} if ema is not None else {})}, d)
    rt = fit_runtime(pub, d["votes"][m], d["major"][m], w, t, mix)
    cal.update(rt)
    export(net, args.out, w, t, {"emotion_lead": rt["emotion_lead"], "face_min": rt["face_min"]}, mix)
    result = {"args": {k: str(v) for k, v in vars(args).items()}, "cfg": cfg, "epochs_done": len(history),
              "train_s": round(time.time() - t0), "weights": chosen, "blend_w": w, "blend_mix": mix, "temperature": round(t, 4),
              "public": cal, "smile_val": evaluate(net, d, SMILE_VAL)}
    if args.final:
        result["private"] = evaluate(net, d, PRIVATE, w, mix)
    print(json.dumps(result), flush=True)


def export(net: torch.nn.Module, out: Path, w: float, t: float, meta: dict | None = None,
           mix: str = "geometric") -> None:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    net = net.to(memory_format=torch.contiguous_format).eval()
    model = Exported(net, w, t, mix).eval()
    dummy = torch.zeros(1, 1, 48, 48)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, dummy, str(out), input_names=["input"], output_names=["probs", "face"],
                      dynamic_axes={"input": {0: "n"}, "probs": {0: "n"}, "face": {0: "n"}},
                      opset_version=17, dynamo=False)
    import onnx

    m = onnx.load(str(out))
    for k, v in {"blend_w": w, "temperature": t, **(meta or {})}.items():
        m.metadata_props.add(key=k, value=f"{v:.6g}")
    m.metadata_props.add(key="blend_mix", value=mix)
    onnx.save(m, str(out))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB; {mix} blend w {w}, temperature {t:.3f})")


if __name__ == "__main__":
    main()
