"""Pre-process the training data once, through the runtime's own detector and face_crop.

    python training/prepare.py            # writes training/cache/data.npz (about 8 min, 1 core)

Each image is put on a mean-grey canvas (`hookcam.analysis.align.detect_in_crop`), BlazeFace
(`hookcam.faces.detect.FaceDetector`) runs on it, and the face is cropped with
`hookcam.analysis.align.face_crop` using the detected box and eye keypoints. Where nothing is
found, the median detected box of that dataset (relative to the image) is used instead, without
rotation. Hit rates and median boxes are printed and stored in the cache.

Cleaning (FER2013): near-blank images, the training files identical to a test image
(`train_in_test.txt`) and every training copy in a duplicate group whose labels conflict or that
also appears in test are dropped; of the other duplicate groups one training copy is kept.
SMILEsmileD: 10% (by file-name hash) is held out for validation. The cache keeps each row's file
(`files`), which train.py joins to the FER+ votes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hookcam.analysis.align import SIZE, canonical_box, detect_in_crop, face_crop
from hookcam.faces.detect import FaceDetector
from hookcam.types import EMOTIONS

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
CACHE = HERE / "cache"

# split codes stored in the cache
TRAIN, PUBLIC, PRIVATE, SMILE_TRAIN, SMILE_VAL = 0, 1, 2, 3, 4


def fer_lists(root: Path):
    blank = set((root / "near_blank.txt").read_text().split())
    drop: set[str] = set((root / "train_in_test.txt").read_text().split())
    for line in (root / "duplicates.tsv").read_text().splitlines():
        group = line.split("\t")
        if not group or not group[0]:
            continue
        labels = {p.split("/")[1] for p in group}
        train = [p for p in group if p.startswith("train/")]
        if len(labels) > 1 or len(train) < len(group):
            drop.update(train)  # conflicting labels, or a copy of a test image
        else:
            drop.update(train[1:])
    items = []
    for split in ("train", "test"):
        for cls_dir in sorted((root / split).iterdir()):
            label = EMOTIONS.index(cls_dir.name)
            for f in sorted(cls_dir.iterdir()):
                rel = f"{split}/{cls_dir.name}/{f.name}"
                if split == "train":
                    if rel in blank or rel in drop:
                        continue
                    code = TRAIN
                else:
                    code = PUBLIC if f.name.startswith("PublicTest_") else PRIVATE
                items.append((f, label, -1, code, rel))
    return items, len(blank), len(drop)


def smile_lists(root: Path):
    items = []
    for name, s in (("smile", 1), ("no_smile", 0)):
        for f in sorted((root / name).iterdir()):
            h = int(hashlib.sha1(f.name.encode()).hexdigest(), 16)
            items.append((f, -1, s, SMILE_VAL if h % 10 == 0 else SMILE_TRAIN, f"{name}/{f.name}"))
    return items


def run(items, detector, label):
    n = len(items)
    grays, boxes, kps = [], np.full((n, 4), np.nan, np.float32), np.zeros((n, 6, 2), np.float32)
    t = time.time()
    for i, (f, *_rest) in enumerate(items):
        g = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        grays.append(g)
        found = detect_in_crop(detector, g)
        if found is not None:
            boxes[i] = found[0]
            kps[i] = found[1]
        if i % 2000 == 0:
            print(f"  {label}: {i}/{n} {time.time() - t:.0f}s", file=sys.stderr, flush=True)
    return grays, boxes, kps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="per dataset, for a quick try")
    ap.add_argument("--out", type=Path, default=CACHE / "data.npz")
    args = ap.parse_args()
    det = FaceDetector(threshold=0.5)
    fer, n_blank, n_drop = fer_lists(DATA / "fer2013")
    smi = smile_lists(DATA / "smilesmiled")
    if args.limit:
        rng = np.random.default_rng(0)
        fer = [fer[i] for i in rng.choice(len(fer), args.limit, replace=False)]
        smi = [smi[i] for i in rng.choice(len(smi), args.limit, replace=False)]
    X, Y, S, C, HIT, F = [], [], [], [], [], []
    info = {"fer_dropped_blank": n_blank, "fer_dropped_dup": n_drop}
    for name, items in (("fer2013", fer), ("smilesmiled", smi)):
        grays, boxes, kps = run(items, det, name)
        side = np.array([max(g.shape) for g in grays], np.float32)[:, None]
        hit = ~np.isnan(boxes[:, 0])
        rel = np.median(boxes[hit] / side[hit], axis=0)
        info[f"{name}_hit_rate"] = float(hit.mean())
        info[f"{name}_median_box"] = rel.round(4).tolist()
        print(f"{name}: {hit.sum()}/{len(items)} detected ({hit.mean():.1%}); median box "
              f"(x, y, w, h)/side = {rel.round(3).tolist()}", flush=True)
        for i, (g, (_, y, s, c, rel_name)) in enumerate(zip(grays, items)):
            if hit[i]:
                X.append(face_crop(g, boxes[i], kps[i], SIZE))
            else:
                X.append(face_crop(g, canonical_box(g.shape, rel), None, SIZE))
            Y.append(y)
            S.append(s)
            C.append(c)
            HIT.append(hit[i])
            F.append(f"{name}/{rel_name}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out, x=np.stack(X), y=np.array(Y, np.int8), s=np.array(S, np.int8),
        split=np.array(C, np.int8), hit=np.array(HIT), files=np.array(F), info=np.array(repr(info)),
    )
    print(info)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
