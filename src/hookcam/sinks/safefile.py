"""Output files that cannot cost the user data.

- The input itself (any spelling, symlink or hard link of it) is refused as an output.
- A new output is written in place under its own name, so after a hard kill the user finds it
  where they asked (the video sink writes it so that it plays up to about the last second).
- An existing output is left alone until the new one is finished: the new one is written beside
  it as `.NAME.hookcam-partial.SUFFIX` and moved over it (os.replace, atomic) only then.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hookcam.errors import SinkError


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when both name one existing file (symlinks, hard links, `dir/../x` all count)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def refuse_input_as_output(output: Path, input_spec: str | None) -> None:
    """Raises SinkError when `output` is the input file: writing it would destroy the input."""
    if not input_spec or not os.path.lexists(output):
        return
    source = Path(str(input_spec).strip()).expanduser()
    if same_file(output, source):
        raise SinkError(f"--output {output} is the input file itself, which would overwrite it: "
                        f"write to another name, e.g. --output {_suggest(output)}")


def _suggest(path: Path) -> Path:
    return path.with_name(f"{path.stem}-hookcam{path.suffix}")


class SafeTarget:
    """Where a file sink writes (`write_path`) and what happens to it at the end.

    `commit()` after the file is finalised: a temporary file replaces the old output.
    `discard(frames)` after a failure: the old output stays as it was; what was written is kept
    (it plays) when it holds frames, else removed. Returns a note for the user, or None.
    """

    def __init__(self, path: Path):
        path = Path(path).expanduser()
        if path.is_symlink() and path.exists():
            path = path.resolve()  # replace what the link points to, and keep the link
        self.path = path
        if path.is_dir():
            raise SinkError(f"{path} is a folder: give a file name such as out.mp4")
        if not path.parent.is_dir():
            raise SinkError(f"cannot write {path}: folder {path.parent} does not exist")
        self.replaces = path.is_file()
        if self.replaces:
            self.write_path = path.with_name(f".{path.stem}.hookcam-partial{path.suffix}")
            _probe(path, "ab")  # a read-only old file is not ours to replace
        else:
            self.write_path = path
        _probe(self.write_path, "wb")  # fail now, not at the first frame, if it cannot be written
        self.done = False

    def commit(self) -> None:
        if self.done:
            return
        self.done = True
        if self.replaces:
            try:
                shutil.copymode(self.path, self.write_path)
            except OSError:
                pass
            os.replace(self.write_path, self.path)

    def discard(self, frames: int) -> str | None:
        """After a failed run. Returns a line for the user when a partial file is left beside."""
        if self.done:
            return None
        self.done = True
        if frames == 0:
            try:
                os.remove(self.write_path)
            except OSError:
                pass
            return None
        if self.replaces:
            return (f"{self.path} is unchanged; what was written before the error is in "
                    f"{self.write_path} (it plays)")
        return None


def _probe(path: Path, mode: str) -> None:
    try:
        with open(path, mode):
            pass
    except OSError as e:
        why = (e.strerror or str(e)).lower()
        raise SinkError(f"cannot write {path}: {why}; choose a folder you can write to") from None
