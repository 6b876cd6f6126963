"""The one typed settings object. The CLI, the config file and the control page all edit it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hookcam.errors import HookcamError

EFFECTS = ("none", "smile", "emotion", "anime")
Effect = Literal["none", "smile", "emotion", "anime"]

_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'1280x720' -> (1280, 720). Raises HookcamError with the fix for anything else."""
    if text in (None, "", "auto"):
        return None
    m = _SIZE.match(str(text))
    if not m:
        raise HookcamError(f"bad --size {text!r}: write WIDTHxHEIGHT, for example --size 1280x720")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise HookcamError(f"bad --size {text!r}: width 16-7680 and height 16-4320, e.g. 1280x720")
    return w, h


class Settings(BaseModel):
    """Everything `hookcam run` does. Assignments are validated, so a live change cannot break it."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    input: str = Field("auto", description="camera index, /dev/videoN, video file, image, folder, 'demo' or 'auto'")
    outputs: list[str] = Field(default_factory=lambda: ["auto"], description="where frames go")
    effect: Effect = "smile"
    size: tuple[int, int] | None = Field(None, description="requested capture size (width, height)")
    fps: float | None = Field(None, gt=0, le=240, description="requested camera fps / output fps")
    mirror: bool = False
    max_frames: int | None = Field(None, ge=1)
    loop: bool = False
    realtime: bool | None = None  # None: paced when an output is a device or window
    show_fps: bool = False
    stickers: Path | None = None
    max_faces: int = Field(4, ge=1, le=16)
    detect_threshold: float = Field(0.5, ge=0.05, le=0.99)
    smile_on: float = Field(0.6, ge=0.0, le=1.0, description="smile probability that turns the sticker on")
    smile_off: float = Field(0.4, ge=0.0, le=1.0, description="smile probability that turns it off again")
    model_dir: Path | None = None
    # Filled in by later modes; kept here so the one settings object stays the single source.
    anime_model: str | None = None
    anime_scope: Literal["face", "frame"] = "face"
    anime_runtime: Literal["auto", "openvino", "onnxruntime"] = Field(
        "auto", description="what runs the anime GAN: auto = OpenVINO when installed, else ONNX Runtime")
    anime_warp: bool = Field(True, description="anime: move the stylised mouth and eyes with the live face "
                             "(optical flow) between GAN results")
    anime_max_rate: float | None = Field(None, gt=0, le=120, description="anime: most GAN stylisations per "
                                         "second (saves CPU; also how a slow CPU is emulated)")
    pip: bool = False
    label: bool = True
    # Live control (control page + JSON API), and idling while no app reads the virtual camera.
    control: bool = True
    control_host: str = "127.0.0.1"
    control_port: int = Field(8787, ge=1, le=65535)
    always_on: bool = False
    audio: bool = Field(True, description="copy a video file input's sound into file outputs")
    # Background (blur or replace what is behind the person) and auto framing (pan/zoom).
    background: str = Field("none", description="none, blur, a colour #RRGGBB, an image or a video file")
    background_blur: float = Field(12.0, ge=1, le=60, description="blur strength (pixels at 720p)")
    background_model: Literal["landscape", "general"] = Field(
        "landscape", description="MediaPipe selfie segmentation variant (landscape: faster)")
    framing: Literal["off", "auto"] = Field("off", description="auto: pan and zoom to keep faces framed")
    framing_max_zoom: float = Field(3.0, ge=1.0, le=8.0, description="most zoom framing may use")

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v):
        if isinstance(v, str):
            try:
                return parse_size(v)
            except HookcamError as e:
                raise ValueError(str(e)) from None
        return v

    @field_validator("background")
    @classmethod
    def _background(cls, v: str) -> str:
        from hookcam.effects.background.fill import parse_background

        try:
            parse_background(v)
        except HookcamError as e:
            raise ValueError(str(e)) from None
        return v.strip() or "none"

    @field_validator("outputs")
    @classmethod
    def _outputs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one output is needed (try --output null)")
        return v

    @field_validator("anime_model")
    @classmethod
    def _anime_model(cls, v: str | None) -> str | None:
        problem = anime_model_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    def paced(self, outputs_are_live: bool) -> bool:
        # A looped clip stands in for a webcam, so it plays at its frame rate unless --no-realtime.
        return self.realtime if self.realtime is not None else (outputs_are_live or self.loop)


def anime_model_problem(value: str | None) -> str | None:
    """Why `value` is no anime model (None when it is one): a registry name, or an existing
    .onnx file (optionally NAME@SIZE). A model that is named right but not downloaded, or a
    corrupt file, is the effect's business (it falls back to the cartoon filter and says so)."""
    if value is None:
        return None
    text = value.strip()
    if "@" in text and text.rsplit("@", 1)[1].isdigit():
        text = text.rsplit("@", 1)[0]
    from hookcam.models import REGISTRY

    names = sorted(n for n in REGISTRY if n.startswith("anime"))
    if "/" not in text and "\\" not in text and not text.lower().endswith(".onnx"):
        if text in names:
            return None
        return f"unknown anime model {value!r}: use {', '.join(names)} or the path of an .onnx file"
    if not Path(text).expanduser().is_file():
        return f"anime model file {text!r} does not exist"
    return None


def make_settings(**values) -> Settings:
    """Build Settings from plain values; a bad value becomes a one-line HookcamError."""
    try:
        s = Settings(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as e:
        raise HookcamError(describe_validation_error(e)) from None
    if s.smile_off > s.smile_on:
        raise HookcamError(
            f"smile_off ({s.smile_off}) must not be above smile_on ({s.smile_on}): lower smile_off"
        )
    return s


def describe_validation_error(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
    msg = err.get("msg", "invalid value").removeprefix("Value error, ")
    return f"bad setting {where!r}: {msg}"
