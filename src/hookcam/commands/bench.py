"""`hookcam bench`: frames per second and per-stage milliseconds, ours beside the original method.

Runs each scenario on the same clip, unpaced, in this one process, so ratios are fair even
on a noisy machine. `--json` prints one object:
    {"input": ..., "frames": N, "cpu": MODEL NAME, "cpu_count": N, "scenarios": {NAME: {"fps": ..., "stages": {STAGE:
     {"median_ms": ..., "p95_ms": ...}}}}, "ratios": {...}}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

CORE = ("passthrough", "smile", "original")
OPTIONAL = ("smile-paced", "emotion", "original-emotion", "anime")
OPTIONAL += ("background-blur", "background-image", "framing")  # see bench/stages.py
# `cpu`: CPU cores (process CPU time / wall time), paced at the clip's rate, for effects none,
# smile and emotion beside a decode-only floor: cpu-floor, cpu-none, cpu-smile, cpu-emotion.
GROUPS = {"cpu": ("cpu-floor", "cpu-none", "cpu-smile", "cpu-emotion")}


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure fps and stage times against the original method",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, help="a video clip, ideally 720p (e.g. testdata video/lp_s32.mp4)")
    p.add_argument("--frames", type=int, default=300, help="frames per scenario (default 300)")
    p.add_argument("--scenarios", default=",".join(CORE),
                   help=f"comma list of {', '.join(CORE + OPTIONAL)}, or cpu (CPU cores used, paced, "
                        f"for none/smile/emotion beside decoding alone) (default: {','.join(CORE)})")
    p.add_argument("--model-dir", help="folder with ready model files (anime)")
    p.add_argument("--mouth-clip", action="append", metavar="CLIP",
                   help="anime: talking clip(s) for the mouth-sync figures, warp on and off (default: --input)")
    p.add_argument("--anime-max-rate", type=float, metavar="N",
                   help="anime: cap GAN stylisations a second (e.g. 3, as a 2-core AVX2 laptop manages)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=main)


def main(args) -> int:
    from hookcam.bench import core
    from hookcam.errors import HookcamError
    from hookcam.opencv_threads import library_default

    path = Path(args.input)
    if not path.is_file():
        raise HookcamError(f"{path}: no such clip; give a video file with --input")
    wanted = [n for s in args.scenarios.split(",") if s.strip() for n in GROUPS.get(s.strip(), (s.strip(),))]
    unknown = set(wanted) - set(CORE + OPTIONAL + GROUPS["cpu"])
    if unknown:
        raise HookcamError(f"unknown scenario(s) {', '.join(sorted(unknown))}: use {', '.join(CORE + OPTIONAL)} or cpu")
    core.warm_up(str(path))
    from hookcam.bench.core import cpu_model

    # the machines differ (AVX2 only, or AVX-512 VNNI): every figure goes with the CPU it ran on
    out: dict = {"input": str(path), "frames": args.frames, "cpu": cpu_model(), "cpu_count": os.cpu_count(),
                 "scenarios": {}}
    for name in wanted:
        print(f"hookcam bench: {name} ...", file=sys.stderr)
        if name == "original":  # the 2020 script ran OpenCV with its own thread pool
            with library_default():
                res = {name: core.original_scenario(str(path), args.frames)}
        elif name == "original-emotion":
            try:
                with library_default():
                    res = {name: core.original_scenario(str(path), args.frames, emotion=True)}
            except ImportError:
                print("hookcam bench: original-emotion needs torch (pip install 'hookcam[bench]'); skipped",
                      file=sys.stderr)
                continue
        elif name == "smile-paced":  # at the clip's own rate, as a 30 fps camera delivers it
            res = {name: core.pipeline_scenario(str(path), args.frames, "smile", args.model_dir, paced=True)}
        elif name in ("background-blur", "background-image", "framing"):
            from hookcam.bench import stages

            res = {name: stages.run(name, str(path), args.frames, args.model_dir)}
        elif name == "cpu-floor":
            res = {name: core.cpu_floor(str(path), args.frames)}
        elif name.startswith("cpu-"):
            res = {name: core.cpu_scenario(str(path), args.frames, name[4:], args.model_dir)}
        elif name == "anime":
            from hookcam.bench import anime

            res = anime.run(str(path), args.frames, args.model_dir, mouth_clips=args.mouth_clip,
                            max_rate=args.anime_max_rate)
        else:
            effect = "none" if name == "passthrough" else name
            res = {name: core.pipeline_scenario(str(path), args.frames, effect, args.model_dir)}
        out["scenarios"].update(res)
    sc = out["scenarios"]
    ratios = {}
    for ours, theirs in (("smile", "original"), ("passthrough", "original"),
                         ("emotion", "original-emotion")):
        if sc.get(ours, {}).get("fps") and sc.get(theirs, {}).get("fps"):
            ratios[f"{ours}_vs_{theirs}"] = round(sc[ours]["fps"] / sc[theirs]["fps"], 2)
    if ratios:
        out["ratios"] = ratios
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(table(out))
    return 0


def table(out: dict) -> str:
    lines = [f"input {out['input']}, {out['frames']} frames per scenario, unpaced; "
             f"CPU {out.get('cpu', '?')} ({out.get('cpu_count', '?')} cores)", "",
             "| scenario | fps | detect p95 ms | analyse p95 ms | draw p95 ms | latency median / p95 ms |",
             "|---|---|---|---|---|---|"]
    for name, r in out["scenarios"].items():
        st = r.get("stages", {})

        def g(k, f="p95_ms"):
            return f"{st[k][f]:.1f}" if k in st else "-"

        if "cores" in r:
            lines.append(f"| {name} | {r.get('fps', 0):.1f} | {r['cores']:.2f} CPU cores | | | |")
            continue
        lines.append(f"| {name} | {r.get('fps', 0):.1f} | {g('detect')} | {g('analyse')} | {g('draw')} "
                     f"| {g('latency', 'median_ms')} / {g('latency')} |")
    for name, r in out["scenarios"].items():  # the frame stages' own times, where measured
        st = r.get("stages", {})
        extra = [f"{k} {st[k]['median_ms']:.1f} / {st[k]['p95_ms']:.1f} ms" for k in ("background", "segment", "framing")
                 if k in st]
        if extra:
            lines.append(f"\n{name}: {', '.join(extra)} (median / p95); {r.get('cpu_cores', '-')} cores")
    for k, v in out.get("ratios", {}).items():
        lines.append(f"\n{k}: {v}x")
    if any("mouth" in r for r in out["scenarios"].values()):
        from hookcam.bench.anime import mouth_table

        lines += ["", mouth_table(out["scenarios"])]
    return "\n".join(lines)
