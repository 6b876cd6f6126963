"""Command line: parses arguments, then hands over to one command module. No logic lives here."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hookcam import __version__
from hookcam.errors import HookcamError

# subcommand -> module in hookcam.commands with add_parser(subparsers) and main(args) -> int
COMMANDS = {
    "run": "run",
    "analyze": "analyze",
    "doctor": "doctor",
    "bench": "bench",
    "models": "models",
    "anime-sheet": "anime_sheet",
    "config": "config",
}

DESCRIPTION = """\
hookcam reads your webcam, finds the faces in each frame, edits the frame (a sticker when you
smile, ...) and publishes the result as a virtual camera that Zoom, Teams, Meet, OBS or a
browser can pick.

  hookcam doctor                    check the virtual camera setup and what is missing
  hookcam run                       webcam -> virtual camera, smile stickers on
  hookcam run --input demo --output window
                                    try it without a webcam (needs a display)
  hookcam run --input clip.mp4 --output out.mp4 --effect smile
                                    edit a video file
  hookcam analyze photo.jpg --json  faces and smile probabilities as JSON
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hookcam", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hookcam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(f"hookcam.commands.{module}").add_parser(sub)
    return parser


def _legacy(argv: list[str]) -> list[str]:
    """The 2020 script's flags (`--input_video_num 0 --output_video_dev /dev/video2`,
    `--emotion_mode True`, `--anime_mode True`) become `hookcam run ...`."""
    legacy = ("--input_video_num", "--output_video_dev", "--emotion_mode", "--anime_mode")
    if not argv or not any(a.split("=")[0] in legacy for a in argv):
        return argv
    if argv[0] in COMMANDS:
        return argv
    return ["run", *argv]


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging quiet
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    argv = _legacy(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except HookcamError as e:
        print(f"hookcam: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("hookcam: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
