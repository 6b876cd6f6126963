"""`hookcam config show|path|init`: the config file that `hookcam run` reads under its flags."""

from __future__ import annotations

import sys

import tomli_w

from hookcam.errors import HookcamError

HELP = """\
The config file holds any `hookcam run` option (keys as in `hookcam config init`); flags on the
command line override it. A running hookcam re-reads it when it changes (or on SIGHUP), and the
control page's "save" writes it. Location: $HOOKCAM_CONFIG, else ~/.config/hookcam/config.toml.

  hookcam config path     where the file is
  hookcam config show     the settings in effect (defaults + file), as TOML
  hookcam config init     write a commented file listing every option (--force replaces one)
"""


def add_parser(sub) -> None:
    import argparse

    p = sub.add_parser("config", help="show, locate or create the config file", description=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("show", "path", "init"), nargs="?", default="show")
    p.add_argument("--force", action="store_true", help="init: replace an existing file")
    p.set_defaults(func=main)


def main(args) -> int:
    from hookcam.control.config import config_path, load_config, template, to_toml_values
    from hookcam.settings import make_settings

    path = config_path()
    if args.action == "path":
        print(path)
        return 0
    if args.action == "init":
        if path.exists() and not args.force:
            raise HookcamError(f"{path} already exists: edit it, or add --force to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template(), encoding="utf-8")
        print(f"hookcam: wrote {path}", file=sys.stderr)
        return 0
    values = load_config(path)
    settings = make_settings(**values)
    where = f"# from {path}" if path.exists() else f"# no file at {path}: defaults"
    print(where)
    print(tomli_w.dumps(to_toml_values(settings.model_dump())), end="")
    return 0
