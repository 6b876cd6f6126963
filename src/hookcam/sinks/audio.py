"""The input file's sound, carried into an output file in step with the edited video.

hookcam re-times the video (input frame i becomes output frame i at the output rate), so the
sound is decoded, placed on the video's timeline (sound before the first video frame dropped,
gaps filled with silence), sped up or slowed down with FFmpeg's `atempo` when the output rate
differs from the input's, and encoded again (AAC; Opus for .webm). Past the end of the input's
sound, or after damage in it, silence keeps both streams the same length, so the muxer never
waits for audio and the file ends where the video ends.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hookcam.types import SourceInfo


@dataclass(frozen=True)
class AudioFrom:
    """Where a file output takes its sound: the input file, its frame rate, looped or not."""

    path: Path
    fps: float
    loop: bool = False


def audio_from(input_spec: str, info: SourceInfo, loop: bool = False) -> AudioFrom | None:
    """A video file input may carry sound; cameras, images and the demo have none."""
    if info.live or info.kind != "video":
        return None
    path = Path(str(input_spec).strip()).expanduser()
    return AudioFrom(path, info.fps, loop) if path.is_file() else None


class NoAudio(Exception):
    """The input has no audio stream (nothing to say to the user)."""


class AudioCarry:
    """Adds an audio stream to `out` and fills it up to the video's time on `write_until`."""

    def __init__(self, src: AudioFrom, out, out_fps: float, codec: str = "aac"):
        self.src = src
        self._input = None
        self._open_input()  # raises NoAudio
        a = self._input.streams.audio[0]
        self.in_rate = a.codec_context.sample_rate
        channels = a.codec_context.channels or 2
        self.layout = a.codec_context.layout.name if a.codec_context.layout else "stereo"
        self.tempo = out_fps / src.fps
        if codec == "libopus":
            self.out_rate, self.frame_size = 48000, 960
            out_layout = "mono" if channels == 1 else "stereo"
        else:
            self.out_rate, self.frame_size = self.in_rate, 1024
            out_layout = self.layout
            if not _encodable(codec, self.out_rate, out_layout):  # an odd rate or layout
                self.out_rate, out_layout = 48000, "mono" if channels == 1 else "stereo"
        self.stream = out.add_stream(codec, rate=self.out_rate)
        self.stream.layout = out_layout
        self.stream.bit_rate = min(64000 * max(channels, 2), 320000)
        fmt = self.stream.codec_context.codec.audio_formats[0].name
        self._graph = self._make_graph(fmt, out_layout)
        self._to_float = av.AudioResampler(format="fltp", layout=self.layout, rate=self.in_rate)
        self.encoded = 0  # output samples sent to the encoder
        self._in_pos = 0  # input samples pushed (silence included), on the video's timeline
        self._pass = 0
        self._eof = False
        self._loop = src.loop

    # ------------------------------------------------------------------ input side
    def _open_input(self) -> None:
        if self._input is not None:
            self._input.close()
        try:
            self._input = av.open(str(self.src.path))
            stream = self._input.streams.audio[0]
        except (av.FFmpegError, OSError, IndexError):
            if self._input is not None:
                self._input.close()
            self._input = None
            raise NoAudio from None
        video = self._input.streams.video[0] if self._input.streams.video else None
        tb = video.time_base if video is not None else None
        self._v_start = float(video.start_time * tb) if video is not None and video.start_time else 0.0
        # Input seconds per pass as the output timeline counts them (N frames at the input rate).
        n = video.frames if video is not None else 0
        if not n and video is not None and video.duration:
            n = round(float(video.duration * tb) * self.src.fps)
        self._period = n / self.src.fps if n else None
        self._packets = self._input.decode(stream)

    def _next_chunk(self) -> np.ndarray:
        """The next input samples (channels x n, float32) on the video's timeline."""
        if not self._eof:
            try:
                frame = next(self._packets)
            except StopIteration:
                frame = None
            except (av.FFmpegError, ValueError) as e:
                print(f"hookcam: the input's sound is damaged ({e}); the rest of the output's sound "
                      "is silent", file=sys.stderr)
                frame, self._loop = None, False
            if frame is not None:
                return self._place(frame)
            if self._loop and self._period:
                pass_end = round((self._pass + 1) * self._period * self.in_rate)
                self._pass += 1
                try:
                    self._open_input()
                except NoAudio:  # the file went away: silence from here on
                    self._loop = False
                if pass_end > self._in_pos:
                    return self._silence(pass_end - self._in_pos)
                return self._silence(0)
            self._eof = True
        return self._silence(self.frame_size)

    def _place(self, frame) -> np.ndarray:
        parts = [f.to_ndarray() for f in self._to_float.resample(frame)]
        data = np.concatenate(parts, axis=1) if parts else self._silence(0)
        if frame.time is None:
            return data
        offset = self._pass * self._period if self._pass else 0.0
        start = round((frame.time - self._v_start + offset) * self.in_rate)
        if abs(start - self._in_pos) <= self.in_rate // 500:  # timestamps rounded: contiguous
            start = self._in_pos
        if start > self._in_pos:  # a gap in the sound: silence
            data = np.concatenate([np.zeros((data.shape[0], start - self._in_pos), np.float32), data], axis=1)
        elif start < self._in_pos:  # before the first video frame (or overlapping): dropped
            data = data[:, self._in_pos - start:]
        if self._loop and self._period:  # one pass of sound per pass of the video
            end = round((self._pass + 1) * self._period * self.in_rate)
            data = data[:, : max(0, end - self._in_pos)]
        return data

    def _silence(self, n: int) -> np.ndarray:
        channels = len(av.AudioLayout(self.layout).channels)
        return np.zeros((channels, n), np.float32)

    def _push(self, data: np.ndarray) -> None:
        if data.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data, np.float32), format="fltp",
                                           layout=self.layout)
        frame.sample_rate = self.in_rate
        frame.pts = self._in_pos
        frame.time_base = Fraction(1, self.in_rate)
        self._in_pos += data.shape[1]
        self._graph.push(frame)

    # ------------------------------------------------------------------ output side
    def _make_graph(self, fmt: str, out_layout: str):
        g = av.filter.Graph()
        nodes = [g.add_abuffer(sample_rate=self.in_rate, format="fltp", layout=self.layout,
                               time_base=Fraction(1, self.in_rate))]
        tempo = self.tempo
        while abs(tempo - 1.0) > 1e-6:
            step = min(max(tempo, 0.5), 100.0)
            nodes.append(g.add("atempo", f"{step:.6f}"))
            tempo /= step
        nodes.append(g.add("aformat", sample_fmts=fmt, sample_rates=str(self.out_rate),
                           channel_layouts=out_layout))
        nodes.append(g.add("abuffersink"))
        g.link_nodes(*nodes).configure()
        g.set_audio_frame_size(self.frame_size)
        return g

    def _next_frame(self):
        while True:
            try:
                return self._graph.pull()
            except av.FFmpegError as e:
                if e.errno != 11:  # EAGAIN: the filters want more input
                    raise
            self._push(self._next_chunk())

    def _encode(self, frame, out) -> None:
        frame.pts = self.encoded
        frame.time_base = Fraction(1, self.out_rate)
        self.encoded += frame.samples
        for packet in self.stream.encode(frame):
            out.mux(packet)

    def write_until(self, seconds: float, out) -> None:
        """Encode sound up to about `seconds` of output (a little ahead is fine)."""
        target = round(seconds * self.out_rate)
        while self.encoded < target:
            self._encode(self._next_frame(), out)

    def finish(self, seconds: float, out) -> None:
        """Sound up to exactly `seconds` (the video's length), then flush the encoder."""
        target = round(seconds * self.out_rate)
        while self.encoded < target:
            frame = self._next_frame()
            left = target - self.encoded
            if frame.samples > left:
                arr = frame.to_ndarray()[..., :left] if frame.format.is_planar else \
                    frame.to_ndarray()[:, : left * len(frame.layout.channels)]
                cut = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=frame.format.name,
                                                 layout=frame.layout.name)
                cut.sample_rate = frame.sample_rate
                frame = cut
            self._encode(frame, out)
        for packet in self.stream.encode(None):
            out.mux(packet)
        self.close()

    def close(self) -> None:
        if self._input is not None:
            self._input.close()
            self._input = None


def _encodable(codec: str, rate: int, layout: str) -> bool:
    """Whether the encoder opens with this rate and channel layout (tried apart from the file)."""
    try:
        ctx = av.CodecContext.create(codec, "w")
        ctx.sample_rate, ctx.layout = rate, layout
        ctx.format = ctx.codec.audio_formats[0]
        ctx.open()
        return True
    except (av.FFmpegError, ValueError):
        return False
