"""Video files through PyAV: H.264 in MP4 (or MKV/MOV; VP9 in WebM), with the input's sound.

Written so that a hard kill (SIGKILL, power loss) still leaves a file that plays up to about
the last second: MP4/MOV are fragmented (a fragment every quarter second, a keyframe every
second) and MKV/WebM write a cluster every quarter second, each flushed to disk as written. Where
the file goes, and what replaces what when, is `safefile.SafeTarget`'s job.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hookcam.errors import SinkError
from hookcam.sinks.audio import AudioCarry, AudioFrom, NoAudio
from hookcam.sinks.safefile import SafeTarget

# Muxer options per container: what makes a killed run's file playable.
_FRAGMENTED_MP4 = {
    "movflags": "frag_keyframe+delay_moov+default_base_moof",  # delay_moov: edit lists, so A/V start in sync
    "frag_duration": "250000",  # microseconds: a fragment at least every 0.25 s
    "flush_packets": "1",  # each fragment reaches the file when it is complete
}
_LIVE_MKV = {"cluster_time_limit": "250", "flush_packets": "1"}  # milliseconds
CONTAINER_OPTIONS = {".mp4": _FRAGMENTED_MP4, ".mov": _FRAGMENTED_MP4, ".mkv": _LIVE_MKV,
                     ".webm": _LIVE_MKV}


class VideoFileSink:
    live = False

    def __init__(self, path: Path, width: int, height: int, fps: float, audio: AudioFrom | None = None):
        self.target = SafeTarget(Path(path))
        self.path = self.target.path
        self.name = f"file {self.path}"
        suffix = self.path.suffix.lower()
        webm = suffix == ".webm"
        self.container = None
        self.audio = None
        try:
            self.container = av.open(str(self.target.write_path), mode="w", format=_format(suffix),
                                     options=dict(CONTAINER_OPTIONS.get(suffix, {})))
            rate = Fraction(fps).limit_denominator(1001)
            self.stream = self.container.add_stream("libvpx-vp9" if webm else "libx264", rate=rate)
            # H.264 4:2:0 needs even sides: pad odd frames by one pixel.
            self.width, self.height = width + width % 2, height + height % 2
            self.stream.width, self.stream.height = self.width, self.height
            self.stream.pix_fmt = "yuv420p"
            self.stream.codec_context.gop_size = max(1, round(fps))  # a keyframe every second
            self.stream.options = ({"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"}
                                   if webm else {"preset": "veryfast", "crf": "20"})
            self.audio = self._open_audio(audio, fps, "libopus" if webm else "aac")
        except (av.FFmpegError, OSError, ValueError) as e:
            self._drop_container()
            self.target.discard(0)
            raise SinkError(f"cannot write {self.path}: {_why(e)}; choose a folder you can write to "
                            "and a .mp4 or .mkv name") from None
        self.fps = fps
        self.frames = 0
        self.broken = False

    def _open_audio(self, audio: AudioFrom | None, fps: float, codec: str) -> AudioCarry | None:
        if audio is None:
            return None
        try:
            return AudioCarry(audio, self.container, fps, codec)
        except NoAudio:
            return None

    def send(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        if (w, h) != (self.width, self.height):
            image = np.pad(image, ((0, self.height - h), (0, self.width - w), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = self.frames
        frame.time_base = 1 / self.stream.codec_context.framerate
        try:
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
            self.frames += 1
            if self.audio is not None:
                self.audio.write_until(self.frames / self.fps, self.container)
        except (av.FFmpegError, OSError) as e:
            self.broken = True
            raise SinkError(_write_failed(self.target, e, self.frames)) from None

    def close(self) -> None:
        """Finalise the file; an existing output is replaced only now."""
        if self.container is None:
            return
        if self.frames == 0:  # stopped before its first frame: nothing to replace an old file with
            self.abort()
            return
        try:
            self._finalise()
        except (av.FFmpegError, OSError) as e:
            self.broken = True
            self.abort()
            raise SinkError(_write_failed(self.target, e, self.frames)) from None
        self.target.commit()

    def abort(self) -> None:
        """The run failed: keep what plays (a new file), leave an existing output as it was."""
        if self.container is not None:
            try:
                if self.broken:
                    self._drop_container()
                else:
                    self._finalise()
            except (av.FFmpegError, OSError):
                self._drop_container()
        note = self.target.discard(self.frames)
        if note:
            print(f"hookcam: {note}", file=sys.stderr)

    def _finalise(self) -> None:
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
            if self.audio is not None:
                self.audio.finish(self.frames / self.fps, self.container)
        finally:
            container, self.container = self.container, None
            if self.audio is not None:
                self.audio.close()
            container.close()

    def _drop_container(self) -> None:
        container, self.container = self.container, None
        if self.audio is not None:
            self.audio.close()
        if container is not None:
            try:
                container.close()
            except (av.FFmpegError, OSError):
                pass


def _format(suffix: str) -> str | None:
    return {".mkv": "matroska", ".webm": "webm", ".mov": "mov", ".mp4": "mp4"}.get(suffix)


def _why(e: Exception) -> str:
    return str(getattr(e, "strerror", None) or e).strip().lower()


def _write_failed(target: SafeTarget, e: Exception, frames: int) -> str:
    why = _why(e)
    fix = ("free some space or write to another disk" if "space" in why or "too large" in why
           else "check the disk and the folder")
    kept = "" if target.replaces or not frames else "; what was written before it plays"
    return f"writing {target.path} failed: {why}; {fix}{kept}"
