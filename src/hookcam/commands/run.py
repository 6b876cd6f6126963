"""`hookcam run`: the live filter."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from hookcam.errors import HookcamError, SinkError
from hookcam.settings import EFFECTS, Settings, make_settings, parse_size

HELP = """\
Read a camera (or a file), edit each frame and send it to one or more outputs.

inputs:  0 / 1 (camera index), /dev/video0, clip.mp4, photo.jpg, a folder of images,
         demo (built-in moving picture), auto (first camera, else demo; the default)
outputs: /dev/videoN (a v4l2loopback virtual camera), out.mp4 / out.mkv, window (preview),
         - (raw bgr24 frames on stdout), null, auto (first virtual camera; the default).
         Repeat --output for several at once: --output /dev/video10 --output window
"""


def _bool(text: str) -> bool:
    low = str(text).strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", help="what to read (default: auto)")
    p.add_argument("-o", "--output", action="append", dest="outputs", metavar="OUTPUT",
                   help="where to send frames (repeatable; default: auto)")
    p.add_argument("-e", "--effect", choices=EFFECTS, help="what to do to faces (default: smile)")
    p.add_argument("--size", help="capture size WIDTHxHEIGHT, e.g. 1280x720 (files are resized)")
    p.add_argument("--fps", type=float, help="camera frame rate to ask for (files: output rate)")
    p.add_argument("--mirror", action="store_true", default=None, help="flip left-right, like a mirror")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N output frames")
    p.add_argument("--loop", action="store_true", default=None, help="replay a file forever (a clip as a webcam)")
    p.add_argument("--realtime", action=argparse.BooleanOptionalAction, default=None,
                   help="pace a file at its frame rate (default: yes with --loop or when an output is a camera or window)")
    p.add_argument("--show-fps", action="store_true", default=None, help="draw fps and stage times on the frames")
    p.add_argument("--stickers", metavar="DIR", help="your own sticker pack folder (PNGs + manifest.toml)")
    p.add_argument("--max-faces", type=int, help="most faces to handle per frame (default 4)")
    p.add_argument("--smile-on", type=float, help="smile probability that shows the sticker (default 0.6)")
    p.add_argument("--smile-off", type=float, help="smile probability that hides it again (default 0.4)")
    p.add_argument("--model-dir", metavar="DIR", help="folder with ready model files (or HOOKCAM_MODEL_DIR)")
    p.add_argument("--anime-model", metavar="NAME_OR_PATH", help="anime generator: registry name or .onnx path")
    p.add_argument("--anime-scope", choices=("face", "frame"), help="stylise the face or the whole frame")
    p.add_argument("--anime-runtime", choices=("auto", "openvino", "onnxruntime"),
                   help="what runs the anime GAN (default auto: OpenVINO when installed)")
    p.add_argument("--anime-warp", action=argparse.BooleanOptionalAction, default=None,
                   help="anime: move the stylised mouth and eyes with yours between GAN results (default: on)")
    p.add_argument("--anime-max-rate", type=float, metavar="N",
                   help="anime: at most N GAN stylisations a second (default: as many as the CPU gives)")
    p.add_argument("--pip", action="store_true", default=None, help="anime mode: small real face in a corner")
    p.add_argument("--control", action=argparse.BooleanOptionalAction, default=None,
                   help="serve the control page and JSON API (default: on)")
    p.add_argument("--control-host", help="address for the control page (default 127.0.0.1; "
                   "anything else requires the printed token)")
    p.add_argument("--control-port", type=int, help="port for the control page (default 8787)")
    p.add_argument("--always-on", action="store_true", default=None,
                   help="keep the camera on even when no app reads the virtual camera")
    p.add_argument("--audio", action=argparse.BooleanOptionalAction, default=None,
                   help="copy a video file's sound into file outputs (default: yes; --no-audio drops it)")
    p.add_argument("--background", metavar="blur|IMAGE|VIDEO|#RRGGBB|none",
                   help="blur or replace what is behind you (a picture, a looping video, a colour)")
    p.add_argument("--background-blur", type=float, metavar="PIXELS",
                   help="blur strength, 1-60 (default 12)")
    p.add_argument("--background-model", choices=("landscape", "general"),
                   help="person segmentation model (default landscape: faster, as good on webcams)")
    p.add_argument("--framing", choices=("off", "auto"),
                   help="auto: pan and zoom to keep your face framed (default off)")
    p.add_argument("--framing-max-zoom", type=float, metavar="X", help="most zoom framing may use (default 3)")
    # The 2020 tool's flags, kept so its users can switch.
    p.add_argument("--input_video_num", help=argparse.SUPPRESS)
    p.add_argument("--output_video_dev", help=argparse.SUPPRESS)
    p.add_argument("--emotion_mode", type=_bool, help=argparse.SUPPRESS)
    p.add_argument("--anime_mode", type=_bool, help=argparse.SUPPRESS)


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="webcam (or file) in, virtual camera (or file/window) out",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(p)
    p.set_defaults(func=main)


def settings_from_args(args) -> Settings:
    size = parse_size(args.size) if args.size else None
    effect = args.effect
    if args.emotion_mode:
        effect = "emotion"
    if args.anime_mode:
        effect = "anime"
    outputs = list(args.outputs or [])
    if args.output_video_dev:
        outputs.append(args.output_video_dev)
    cli = dict(
        input=args.input if args.input is not None else args.input_video_num,
        outputs=outputs or None, effect=effect, size=size, fps=args.fps, mirror=args.mirror,
        max_frames=args.max_frames, loop=args.loop, realtime=args.realtime, show_fps=args.show_fps,
        stickers=args.stickers, max_faces=args.max_faces, smile_on=args.smile_on,
        smile_off=args.smile_off, model_dir=args.model_dir, anime_model=args.anime_model,
        anime_scope=args.anime_scope, anime_runtime=args.anime_runtime, pip=args.pip, control=args.control,
        anime_warp=args.anime_warp, anime_max_rate=args.anime_max_rate,
        control_host=args.control_host, control_port=args.control_port, always_on=args.always_on,
        audio=args.audio,
        background=args.background, background_blur=args.background_blur,
        background_model=args.background_model, framing=args.framing,
        framing_max_zoom=args.framing_max_zoom,
    )
    # The config file (~/.config/hookcam/config.toml or $HOOKCAM_CONFIG) sits under the flags.
    from hookcam.control.config import load_config

    file_values = load_config()
    return make_settings(**{**file_values, **{k: v for k, v in cli.items() if v is not None}})


def main(args) -> int:
    settings = settings_from_args(args)
    stats = run(settings)
    print(stats.report(), file=sys.stderr)
    return 0


def run(settings: Settings, *, on_pipeline=None):
    """Open everything the settings name, run until the input ends, Ctrl-C or SIGTERM."""
    from hookcam.effects import make_effect
    from hookcam.models import ModelStore
    from hookcam.pipeline import Pipeline
    from hookcam.sinks import open_sink, resolve_auto
    from hookcam.sinks.audio import audio_from
    from hookcam.sources import open_source
    from hookcam.stages import make_stages

    store = ModelStore(settings.model_dir)
    effect = make_effect(settings, store)  # a bad sticker pack fails before the camera opens
    try:
        stages = make_stages(settings, lambda m: print(f"hookcam: {m}", file=sys.stderr))
    except BaseException:
        effect.close()
        store.close()
        raise
    source = None
    sinks = []
    pipeline = None
    running = False  # once the pipeline runs, it closes what it owns
    try:
        source = open_source(settings.input, settings.size, settings.fps, settings.loop)
        info = source.info
        print(f"hookcam: input {info.description}", file=sys.stderr)
        fps = settings.fps if (settings.fps and not info.live) else info.fps
        keys = []
        audio = audio_from(settings.input, info, settings.loop) if settings.audio else None
        for spec in settings.outputs:
            spec = resolve_auto() if spec == "auto" else spec
            sink = open_sink(spec, info.width, info.height, fps,
                             on_key=lambda k: keys and keys[0].handle_key(k),
                             input_spec=settings.input, audio=audio)
            if sink is not None:
                sinks.append(sink)
                print(f"hookcam: output {sink.name}", file=sys.stderr)
        if not sinks:
            raise SinkError("no output left to send frames to: add --output out.mp4 or --output null")
        pipeline = Pipeline(settings, source, sinks, effect=effect, store=store, stages=stages)
        keys.append(pipeline)
        if on_pipeline is not None:
            on_pipeline(pipeline)
        from hookcam.control import live_control  # control page, config reload, idle watcher

        with live_control(pipeline, settings), _signals(pipeline):
            running = True
            if (info.live or settings.loop or info.kind == "demo") and not settings.max_frames:
                print("hookcam: running until stopped: Ctrl-C to stop", file=sys.stderr)
            return pipeline.run()
    except BaseException:
        if not running:  # the pipeline closes what it owns; before it runs, we do
            # abort: a failed start leaves an existing output file as it was
            # (the store after the effect: closing the effect hands its loaded model to the store)
            for closer in ([effect.close, store.close] + ([source.close] if source is not None else [])
                           + [s.close for s in stages] + [getattr(s, "abort", s.close) for s in sinks]):
                try:
                    closer()
                except Exception:
                    pass
        raise


class _signals:
    """Ctrl-C and SIGTERM stop the pipeline cleanly (files finalised, devices closed);
    a second Ctrl-C interrupts at once."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.saved = {}

    def _handler(self, signum, frame):
        if self.pipeline.stopped and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.pipeline.stop()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, old in self.saved.items():
            signal.signal(sig, old)
        return False


__all__ = ["add_parser", "main", "run", "settings_from_args", "HookcamError"]
