"""`hookcam models list` / `hookcam models pull NAME [NAME...]`: see and fetch the model files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hookcam.models import BAD_HASH, ENV_MODEL_DIR, MISSING, ModelStore

_MODEL_DIR_HELP = (
    "a folder of ready model files, looked at before the download cache "
    f"(default: ${ENV_MODEL_DIR})"
)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `models` to the CLI's subparsers (from `parser.add_subparsers()`)."""
    p = subparsers.add_parser(
        "models",
        help="list the model files and download missing ones",
        description="List the model files hookcam uses (licence, where each one is, whether "
        "its checksum is right) and download missing ones into the cache.",
    )
    p.add_argument("--model-dir", type=Path, default=None, metavar="DIR", help=_MODEL_DIR_HELP)
    sub = p.add_subparsers(dest="models_action", metavar="ACTION")
    lp = sub.add_parser("list", help="show every model, its licence and whether it is here")
    pp = sub.add_parser("pull", help="download models into the cache (needs internet)")
    pp.add_argument("names", nargs="+", metavar="NAME", help="model names, or 'all'")
    for sp in (lp, pp):  # also accept --model-dir after the action
        sp.add_argument(
            "--model-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR", help=_MODEL_DIR_HELP
        )
    p.set_defaults(func=main, models_action="list")
    return p


def main(args: argparse.Namespace) -> int:
    """Run `hookcam models ...`. User mistakes raise ModelError (the CLI prints one line)."""
    store = ModelStore(getattr(args, "model_dir", None))
    action = getattr(args, "models_action", None) or "list"
    if action == "pull":
        return _pull(store, list(args.names))
    return _list(store)


def _list(store: ModelStore, out=None) -> int:
    out = out or sys.stdout
    rows = []
    for spec, path, state in store.status():
        size = spec.size or (path.stat().st_size if path is not None else 0)
        size_text = f"{size / 1e6:.1f} MB" if size else "-"
        licence = spec.licence
        if spec.non_commercial and "NON-COMMERCIAL" not in licence.upper():
            licence = f"NON-COMMERCIAL: {licence}"
        shown = "BAD HASH" if state == BAD_HASH else state
        if spec.bundled and state != BAD_HASH:
            where = str(path) if path is not None else f"(should ship with the {spec.bundled})"
        else:
            where = str(path) if path is not None else "-"
        rows.append((spec.name, size_text, licence, shown, where))
    head = ("NAME", "SIZE", "LICENCE", "STATUS", "WHERE")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    for r in [head, *rows]:
        cells = [c.ljust(w) for c, w in zip(r[:4], widths, strict=True)]
        print("  ".join([*cells, r[4]]).rstrip(), file=out)
    print(file=out)
    if store.model_dir is not None:
        print(f"model folder: {store.model_dir}", file=out)
    print(f"download cache: {store.cache_dir}", file=out)
    states = [r[3] for r in rows]
    missing = [r[0] for r in rows if r[3] == MISSING and store.registry[r[0]].url]
    if missing:
        print(f"get missing models with: hookcam models pull {' '.join(missing)}", file=out)
    if "BAD HASH" in states:
        print("BAD HASH files are never loaded: replace or delete them (see WHERE)", file=out)
        return 1
    return 0


def _pull(store: ModelStore, names: list[str]) -> int:
    if names == ["all"]:
        names = [n for n, s in store.registry.items() if s.url is not None]
    for name in names:
        store.spec(name)  # unknown names fail before anything is downloaded
    for name in dict.fromkeys(names):
        spec = store.spec(name)
        if spec.url is None:
            path = store.path(name)  # bundled: just check it is there and sound
            print(f"{name}: ships with the {spec.bundled} ({path}); nothing to download")
            continue
        path = store.pull(name)
        print(f"{name}: {path}")
        store.notice(name)
    return 0
