"""Train the expression model on the cache from prepare.py and export it to ONNX.

    nice -n 10 python training/train.py                 # the committed recipe (see MODEL_CARD.md)
    python training/train.py --epochs 3 --out /tmp/x.onnx   # a quick try

Mixed batches: FER2013 rows carry an emotion label and a derived smile label (happy = smile,
every other class = no smile, at half weight); SMILEsmileD rows carry only the smile label.
Missing labels are masked out of the loss. Model selection and hyper-parameters use only
FER2013 PublicTest and the held-out 10% of SMILEsmileD; PrivateTest is printed once, at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import BLUR_SIGMA, DEFAULT_CFG, ExpressionNet, Exported, GaussianBlur  # noqa: E402
from prepare import PRIVATE, PUBLIC, SMILE_TRAIN, SMILE_VAL, TRAIN  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "src" / "hookcam" / "assets" / "models" / "expression.onnx"


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


@torch.no_grad()
def predict(net: ExpressionNet, x: np.ndarray, bs: int = 512) -> np.ndarray:
    net.eval()
    out = []
    for i in range(0, len(x), bs):
        t = torch.from_numpy(x[i : i + bs]).float().div_(255).unsqueeze(1)
        out.append(net(t))
    return torch.cat(out).numpy()


@torch.no_grad()
def blur_u8(x: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return x
    b = GaussianBlur(sigma)
    out = [b(torch.from_numpy(x[i : i + 2048]).float().unsqueeze(1))[:, 0] for i in range(0, len(x), 2048)]
    return torch.cat(out).round().clamp(0, 255).to(torch.uint8).numpy()


def evaluate(net, d, split: int) -> dict:
    m = d["split"] == split
    o = predict(net, d["x"][m])
    if split in (SMILE_VAL,):
        return {"smile_acc": float(((o[:, 7] > 0) == (d["s"][m] == 1)).mean())}
    y = d["y"][m]
    return {
        "emotion_acc": float((o[:, :7].argmax(1) == y).mean()),
        "smile_acc_happy": float(((o[:, 7] > 0) == (y == 3)).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE / "cache" / "data.npz")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("--smooth", type=float, default=0.1)
    ap.add_argument("--width", type=float, default=0.5, help="channel multiplier of DEFAULT_CFG")
    ap.add_argument("--smile-frac", type=float, default=0.2, help="SMILEsmileD share of a batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sigma", type=float, default=BLUR_SIGMA, help="input blur (0: none)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--final", action="store_true", help="also print PrivateTest accuracy")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    z = np.load(args.data)
    d = {k: z[k] for k in ("x", "y", "s", "split")}
    # everything except the (blurred) FER2013 training images gets the fixed input blur,
    # as the exported model applies it to every input (see model.py)
    sharp = d["split"] != TRAIN
    d["x"] = d["x"].copy()
    d["x"][sharp] = blur_u8(d["x"][sharp], args.sigma)
    fer_idx = np.flatnonzero(d["split"] == TRAIN)
    smi_idx = np.flatnonzero(d["split"] == SMILE_TRAIN)
    counts = np.bincount(d["y"][fer_idx], minlength=7)
    cw = torch.tensor((counts.sum() / (7 * counts)) ** 0.5, dtype=torch.float32)
    print("train rows: fer", len(fer_idx), "smile", len(smi_idx), "class weights", cw.numpy().round(2))

    cfg = tuple((max(8, int(c * args.width)), n) for c, n in DEFAULT_CFG)
    net = ExpressionNet(cfg)
    n_smi = int(round(args.bs * args.smile_frac))
    n_fer = args.bs - n_smi
    steps = len(fer_idx) // n_fer
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps * args.epochs,
                                                pct_start=0.15)
    X = torch.from_numpy(d["x"])
    Y = torch.from_numpy(d["y"].astype(np.int64))
    S = torch.from_numpy(d["s"].astype(np.float32))
    t0 = time.time()
    history = []
    for ep in range(args.epochs):
        net.train()
        pf = rng.permutation(fer_idx)
        tot = 0.0
        for i in range(steps):
            idx = np.concatenate([pf[i * n_fer : (i + 1) * n_fer], rng.choice(smi_idx, n_smi)])
            x = augment(X[idx].float().div_(255).unsqueeze(1), g)
            y, s = Y[idx], S[idx]
            out = net(x)
            fer = y >= 0
            le = F.cross_entropy(out[fer, :7], y[fer], weight=cw, label_smoothing=args.smooth)
            st = torch.where(fer, (y == 3).float(), s)
            sw = torch.where(fer, 0.5, 1.0)
            ls = (F.binary_cross_entropy_with_logits(out[:, 7], st, reduction="none") * sw).mean()
            loss = le + ls
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach())
            if i % 50 == 0:
                print(f"  epoch {ep + 1} step {i}/{steps} {time.time() - t0:.0f}s", flush=True)
        pub = evaluate(net, d, PUBLIC)
        sv = evaluate(net, d, SMILE_VAL)
        rec = {"epoch": ep + 1, "loss": tot / steps, **pub, **sv, "elapsed_s": round(time.time() - t0)}
        history.append(rec)
        print(json.dumps(rec), flush=True)
        export(net, HERE / "cache" / "latest.onnx", quiet=True, sigma=args.sigma)  # usable while training goes on

    export(net, args.out, sigma=args.sigma)
    result = {"args": {k: str(v) for k, v in vars(args).items()}, "cfg": cfg,
              "train_s": round(time.time() - t0), "public": evaluate(net, d, PUBLIC),
              "smile_val": evaluate(net, d, SMILE_VAL)}
    if args.final:
        result["private"] = evaluate(net, d, PRIVATE)
    print(json.dumps(result))
    torch.save(net.state_dict(), HERE / "cache" / "last.pt")


def export(net: ExpressionNet, out: Path, quiet: bool = False, sigma: float = BLUR_SIGMA) -> None:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    net.eval()
    model = Exported(net, sigma).eval()
    dummy = torch.zeros(1, 1, 48, 48)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, dummy, str(out), input_names=["input"], output_names=["probs"],
                      dynamic_axes={"input": {0: "n"}, "probs": {0: "n"}}, opset_version=17,
                      dynamo=False)
    if not quiet:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
