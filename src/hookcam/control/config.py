"""The config file: `~/.config/hookcam/config.toml` (or $HOOKCAM_CONFIG) with any `run` option.

Keys are the Settings field names (`effect = "smile"`, `smile_on = 0.7`, `outputs = ["/dev/video10"]`,
`size = "1280x720"`). The CLI flags override the file; the control page's "save" writes it; a
running `hookcam run` re-reads it when it changes on disk (polled every second) or on SIGHUP.
"""

from __future__ import annotations

import os
import sys
import threading
import tomllib
from pathlib import Path

import tomli_w

from hookcam.errors import HookcamError
from hookcam.settings import Settings, describe_validation_error

ENV = "HOOKCAM_CONFIG"

# What a running pipeline can change without reopening the camera or the outputs.
LIVE_KEYS = ("effect", "mirror", "show_fps", "stickers", "smile_on", "smile_off", "anime_model",
             "anime_scope", "pip", "label", "always_on")
LIVE_KEYS += ("background", "background_blur", "background_model", "framing", "framing_max_zoom")


def config_path() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("hookcam")) / "config.toml"


def load_config(path: Path | None = None) -> dict:
    """The file's settings as a dict ({} when there is no file). A broken file is one
    HookcamError naming the file and the line (tomllib's message has it)."""
    path = Path(path) if path else config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise HookcamError(f"config file {path}: cannot read it ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise HookcamError(f"config file {path}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise HookcamError(f"config file {path}: {e}") from None
    return check_config(data, path)


def check_config(data: dict, path: Path | str = "config") -> dict:
    """Each key must be a Settings field with a valid value; returns the data unchanged."""
    from pydantic import ValidationError

    fields = Settings.model_fields
    for key in data:
        if key not in fields:
            raise HookcamError(f"config file {path}: unknown option {key!r} "
                               f"(`hookcam config init` writes a file listing them all)")
    try:
        Settings(**data)
    except ValidationError as e:
        raise HookcamError(f"config file {path}: {describe_validation_error(e)}") from None
    return data


def to_toml_values(values: dict) -> dict:
    """Settings values -> what TOML can hold (no None, paths and tuples as strings)."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == "size" and isinstance(value, (tuple, list)):
            value = f"{value[0]}x{value[1]}"
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def save_config(settings: Settings, path: Path | None = None, keys=LIVE_KEYS) -> Path:
    """Write `keys` of `settings` into the file, keeping the file's other options."""
    path = Path(path) if path else config_path()
    try:
        data = load_config(path)
    except HookcamError:
        data = {}  # a broken file is replaced by a good one
    current = settings.model_dump()
    for key in keys:
        if current.get(key) is None:
            data.pop(key, None)
        else:
            data[key] = current[key]
    write_config(to_toml_values(data), path)
    return path


def write_config(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a file


def template() -> str:
    """A config file listing every option, all commented out, with their defaults."""
    lines = ["# hookcam configuration: any `hookcam run` option (flags on the command line win).",
             "# Uncomment and edit. `hookcam config show` prints the settings in effect.", ""]
    defaults = to_toml_values(Settings().model_dump())
    for name, field in Settings.model_fields.items():
        if field.description:
            lines.append(f"# {name}: {field.description}")
        if name in defaults:
            lines += ["# " + ln for ln in tomli_w.dumps({name: defaults[name]}).strip().splitlines()]
        else:
            lines.append(f"# {name} = ...   (not set by default)")
    return "\n".join(lines) + "\n"


class ConfigWatcher:
    """Re-reads the config file when it changes (mtime/size polled every `interval` s) or when
    `poke()` is called (SIGHUP), and applies what changed through `apply(changes)` — normally
    `Pipeline.update`. A broken file logs one line and keeps the last good settings."""

    def __init__(self, path: Path, apply, *, log=None, interval: float = 1.0, initial: dict | None = None):
        self.path = Path(path)
        self.apply = apply
        self.log = log or (lambda msg: print(f"hookcam: {msg}", file=sys.stderr))
        self.interval = interval
        self.last_good = dict(initial) if initial is not None else self._try_load() or {}
        self._stamp = self._stat()
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="config-watch", daemon=True)

    def start(self) -> ConfigWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        self._thread.join(timeout=2)

    def poke(self, *_args) -> None:
        """Reload now (signal-handler safe: only sets an event)."""
        self._poke.set()

    def _stat(self):
        try:
            st = self.path.stat()
            return (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            return None

    def _try_load(self):
        try:
            return load_config(self.path)
        except HookcamError:
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            poked = self._poke.wait(self.interval)
            self._poke.clear()
            if self._stop.is_set():
                return
            stamp = self._stat()
            if poked or stamp != self._stamp:
                self._stamp = stamp
                self.reload()

    def reload(self) -> dict:
        """Apply the options whose value changed in the file since the last good read."""
        try:
            data = load_config(self.path)
        except HookcamError as e:
            self.log(f"{e}; keeping the current settings")
            return {}
        changed = {k: v for k, v in data.items() if self.last_good.get(k, _MISSING) != v}
        live = {k: v for k, v in changed.items() if k in LIVE_KEYS}
        fixed = sorted(k for k in changed if k not in LIVE_KEYS)
        if live:
            try:
                self.apply(**live)
            except HookcamError as e:
                self.log(f"config file {self.path}: {e}; keeping the current settings")
                return {}
            self.log(f"config file reloaded: {', '.join(f'{k}={v!r}' for k, v in live.items())}")
        if fixed:
            self.log(f"config file: {', '.join(fixed)} changed; restart hookcam to apply "
                     f"{'it' if len(fixed) == 1 else 'them'}")
        self.last_good = data
        return live


_MISSING = object()
