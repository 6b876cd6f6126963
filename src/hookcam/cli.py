"""Command line: parses arguments, then hands over to one command module. No logic lives here."""

from __future__ import annotations

import argparse
import importlib
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
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show the native libraries' own log lines (MediaPipe, OpenVINO, ...)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(f"hookcam.commands.{module}").add_parser(sub)
    for command in sub.choices.values():  # `hookcam run --verbose` works as well as `hookcam -v run`
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="also show the native libraries' own log lines")
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
    argv = _legacy(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()  # imports no cv2/numpy/MediaPipe: --help works without them
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    from hookcam.heap import limit_arenas
    from hookcam.opencv_threads import calling_thread
    from hookcam.quiet import StderrFilter, quiet_environment

    limit_arenas()  # before any thread starts (heap.py)
    calling_thread()  # OpenCV without its thread pool (opencv_threads.py)
    quiet = None
    if not args.verbose:  # native libraries' log lines off (see quiet.py)
        quiet_environment()
        quiet = StderrFilter().start()
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
    except ImportError as e:
        hint = missing_library_hint(e)
        if hint is None:
            raise
        print(f"hookcam: {hint}", file=sys.stderr)
        return 3
    finally:
        if quiet is not None:
            quiet.stop()


# System packages OpenCV's wheel needs (libGL.so.1, libglib-2.0.so.0/libgthread-2.0.so.0).
SYSTEM_PACKAGES = {
    "debian": "sudo apt install libgl1 libglib2.0-0",
    "fedora": "sudo dnf install mesa-libGL glib2",
    "arch": "sudo pacman -S libglvnd glib2",
}


def missing_library_hint(e: ImportError) -> str | None:
    """An ImportError from a missing system library or Python package -> one line saying what to
    install (None: not that kind of ImportError)."""
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if "cannot open shared object file" in text or "Library not loaded" in text:
        family = _distro_family()
        if family:
            fix = f"`{SYSTEM_PACKAGES[family]}`"
        else:
            fix = ", ".join(f"`{cmd}` ({name})" for name, cmd in
                            zip(("Debian/Ubuntu", "Fedora", "Arch"), SYSTEM_PACKAGES.values()))
        return f"a system library is missing ({text}); install it with {fix}, then run hookcam again"
    if isinstance(e, ModuleNotFoundError) and e.name:
        return (f"the Python package {e.name.split('.')[0]!r} is missing ({text}); "
                "reinstall hookcam (pip install hookcam) in this environment")
    return None


def _distro_family(os_release: str = "/etc/os-release") -> str | None:
    try:
        with open(os_release, encoding="utf-8") as f:
            info = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        return None
    ids = " ".join(info.get(k, "").strip('"').lower() for k in ("ID", "ID_LIKE")).split()
    for family, names in (("debian", ("debian", "ubuntu")), ("fedora", ("fedora", "rhel", "centos")),
                          ("arch", ("arch",))):
        if any(i in names or any(n in i for n in names) for i in ids):
            return family
    return None


if __name__ == "__main__":
    raise SystemExit(main())
