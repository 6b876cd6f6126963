"""Anime benchmark: ours (AnimeEffect, GAN in a worker) against the original tool's way
(a GAN run synchronously on every frame's face crop), re-created in this same run.

Baselines, random weights (speed does not depend on the values), written from the papers'
published architectures in torch (a bench-only extra, never imported at run time):
  ugatit      U-GAT-IT ResnetGenerator (ngf=64, n_blocks=4, light=False: CAM + AdaILN/ILN,
              the full FC gamma/beta head), 256x256, synchronous on every frame.
  animeganv2  AnimeGANv2 generator (face_paint_512 architecture), 512x512, synchronous.
Ours: the real pipeline (capture, analysis and output threads, the GAN in its worker), paced at
the clip's frame rate as a camera delivers it; the int8 cache is filled first.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

BASELINE_FRAMES = 8  # the baselines take seconds a frame: a few frames give stable medians


def _stats(xs: list[float]) -> dict:
    if not xs:
        return {"median_ms": None, "p95_ms": None}
    return {"median_ms": round(float(np.median(xs)), 2), "p95_ms": round(float(np.percentile(xs, 95)), 2)}


def _frames(path: str, n: int):
    import av

    while True:  # loop the clip if it is shorter than n
        with av.open(path) as c:
            for fr in c.decode(video=0):
                t0 = time.perf_counter()
                img = fr.to_ndarray(format="bgr24")
                yield img, (time.perf_counter() - t0) * 1000
                n -= 1
                if n <= 0:
                    return


def _faces(det, img):
    from hookcam.types import Face

    return [Face(0, d.box, d.score, keypoints=d.keypoints, roll=d.roll) for d in det.detect(img)[:1]]


# ------------------------------------------------------------------------------ ours


def ours(path: str, frames: int, model: str, model_dir) -> dict:
    """Our real pipeline, paced at the clip's rate as a camera delivers it, anime on."""
    from hookcam.bench.core import pipeline_scenario

    return pipeline_scenario(path, frames, "anime", model_dir, paced=True, anime_model=model)


def int8_vs_fp32(model: str, store, cache_dir: Path, reps: int = 6, runtime: str = "auto") -> dict:
    """Model call alone, fp32 and int8 interleaved (fair on a noisy machine), plus the look check."""
    from hookcam.effects.anime.calib import augmented_crops
    from hookcam.effects.anime.model import load_fp32_model_bytes, make_generator
    from hookcam.effects.anime.quantize import checked_int8, quantize_int8, time_both
    from hookcam.effects.anime.stylizer import resolve_model

    info = resolve_model(model, store)
    data = load_fp32_model_bytes(info.path)
    _, report = quantize_int8(data, info.sha256, info.size, cache_dir, info.crop, runtime=runtime)
    out = {"size": info.size, "runtime": report.get("runtime"), "psnr_db": round(report.get("psnr", 0), 2),
           "ssim": round(report.get("ssim", 0), 3), "int8_kept": bool(report.get("ok"))}
    q = checked_int8(cache_dir, report)
    if q is None:
        return out
    crop = cv2.cvtColor(augmented_crops(info.size, 1, info.crop)[0], cv2.COLOR_BGR2RGB)
    f, i = time_both(make_generator(data, runtime=runtime), make_generator(q, runtime=runtime), crop, reps)
    out.update(fp32_ms=round(f, 1), int8_ms=round(i, 1), speedup=round(f / i, 2), int8_used=bool(report.get("use")))
    return out


# ------------------------------------------------------------------------------ mouth sync

MOUTH_SKIP = 15  # first frames left out of the mouth figures (the first GAN result is on its way)
MAX_LAG = 15  # lags (output behind input, frames) searched for the best r
RECORD_BYTES = 2 << 30  # memory for the recorded (input, output) frames: 388 pairs at 720p
UPPER_LIP, LOWER_LIP, FOREHEAD, CHIN = 13, 14, 10, 152  # Face Landmarker mesh points (inner lips)


def _count_frames(path: str) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for pkt in c.demux(video=0) if pkt.size)


def recorded_run(path: str, model: str, model_dir, warp: bool, max_rate: float | None = None,
                 frames: int | None = None, output: str = "null") -> tuple[dict, list[tuple[np.ndarray, np.ndarray]]]:
    """The real pipeline paced as a webcam, anime on, into `output` (null, an MP4, a camera);
    returns (figures, [(input, output) of every frame that went out])."""
    from hookcam.bench.core import result
    from hookcam.models import ModelStore
    from hookcam.pipeline import Pipeline
    from hookcam.settings import make_settings
    from hookcam.sinks import open_sink
    from hookcam.sources.video import VideoSource

    source = VideoSource(path, loop=False)
    n = frames or source.info.frame_count or None
    settings = make_settings(input=str(path), outputs=[output], effect="anime", max_frames=n, realtime=True,
                             model_dir=model_dir, control=False, anime_model=model, anime_warp=warp,
                             anime_max_rate=max_rate)
    info = source.info
    sink = open_sink(output, info.width, info.height, info.fps)
    pipe = Pipeline(settings, source, [sink], store=ModelStore(model_dir), lockstep=False)
    eff = pipe.effect
    # Every frame's input and output, copied into memory taken and touched before the run: a
    # fresh allocation a frame (two 720p copies, 5.5 MB) made the output loop itself late on a
    # 2-core machine (latency p95 265 ms against 16 ms unrecorded), which is not what is measured.
    # At most RECORD_BYTES of them (the frames after that still run, unrecorded); a clip that does
    # not say its length is counted first (its packets, not decoded).
    pair = 2 * info.height * info.width * 3
    kept = max(1, min(n or _count_frames(path), RECORD_BYTES // pair))
    buf = np.ones((kept, 2, info.height, info.width, 3), np.uint8)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    apply = eff.apply

    def recording(image, faces):
        i = len(pairs)
        if i >= kept:
            return apply(image, faces)
        np.copyto(buf[i, 0], image)
        out = apply(image, faces)
        np.copyto(buf[i, 1], out)
        pairs.append((buf[i, 0], buf[i, 1]))
        return out

    eff.apply = recording
    eff.worker.ready.wait(120)
    n0 = eff.worker.count
    pipe.stats.started = time.monotonic()
    cpu0 = time.process_time()
    stats = pipe.run()
    out = result(stats)
    elapsed = time.monotonic() - stats.started
    out["stylized_per_s"] = round((eff.worker.count - n0) / elapsed, 2) if elapsed > 0 else 0.0
    out["model"] = getattr(eff.worker.stylizer, "kind", None)
    out["stages"]["warp"] = _stats(eff.timings.get("warp", []))  # wall: includes waiting for a core
    out["stages"]["warp_cpu"] = _stats(eff.timings.get("warp_cpu", []))  # this thread's CPU time
    out["cpu_cores"] = round((time.process_time() - cpu0) / elapsed, 2) if elapsed > 0 else None
    return out, pairs


def mouth_openings(pairs, model_dir) -> tuple[np.ndarray, np.ndarray]:
    """Mouth opening (inner-lip gap over forehead-chin) of input and output, NaN where not found."""
    from hookcam.faces.detect import FaceDetector
    from hookcam.faces.landmarks import Landmarker
    from hookcam.models import ModelStore

    lm = Landmarker(ModelStore(model_dir).path("face_landmarker"))
    det = FaceDetector()
    a_in, a_out = np.full(len(pairs), np.nan), np.full(len(pairs), np.nan)
    try:
        for i, (src, out) in enumerate(pairs):
            d = det.detect(src)
            if not d:
                continue
            for arr, img in ((a_in, src), (a_out, out)):
                r = lm.run(img, d[0].box)
                if r is not None:
                    p = r.points
                    arr[i] = np.hypot(*(p[UPPER_LIP] - p[LOWER_LIP])) / max(1.0, np.hypot(*(p[FOREHEAD] - p[CHIN])))
    finally:
        lm.close()
        det.close()
    return a_in, a_out


def mouth_sync(a_in: np.ndarray, a_out: np.ndarray, skip: int = MOUTH_SKIP, max_lag: int = MAX_LAG) -> dict:
    """Pearson r of mouth opening input vs output at zero lag, and the lag (output behind) with the best r."""
    def r_at(lag: int) -> float:
        x, y = a_in[skip : len(a_in) - lag], a_out[skip + lag :]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 10 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
            return float("nan")
        return float(np.corrcoef(x[ok], y[ok])[0, 1])

    rs = [r_at(lag) for lag in range(max_lag + 1)]
    best = int(np.nanargmax(rs)) if np.any(np.isfinite(rs)) else 0
    found = float(np.mean(np.isfinite(a_out[skip:])))
    return {"mouth_sync_r": round(rs[0], 3), "mouth_lag_frames": best, "mouth_r_at_best_lag": round(rs[best], 3),
            "output_faces_found": round(found, 3)}


IN_STEP_EVERY = 8  # in step: the GAN on every 8th frame (3.75/s at 30 fps, as a 2-core AVX2 laptop),
# each result shown 8 frames after its crop (it takes that long there)


def in_step_run(path: str, model: str, model_dir, warp: bool, every: int = IN_STEP_EVERY
                ) -> tuple[dict, list[tuple[np.ndarray, np.ndarray]]]:
    """Every frame in step (no timing, no load): the GAN on every `every`-th frame, each result
    shown `every` frames after the crop it was made from, warp or hold in between. What a slow CPU
    shows, made repeatable; `anime-sheet --strip` shows the same."""
    import av

    from hookcam.effects.anime import AnimeEffect
    from hookcam.faces.detect import FaceDetector
    from hookcam.models import ModelStore
    from hookcam.settings import make_settings

    store = ModelStore(model_dir)
    eff = AnimeEffect(make_settings(effect="anime", anime_model=model, model_dir=model_dir, anime_warp=warp),
                      store)
    det = FaceDetector()
    pairs = []
    try:
        eff.wait_ready(120)
        eff.sync, eff.sync_every, eff.sync_delay = True, every, every
        with av.open(path) as c:
            for fr in c.decode(video=0):
                img = fr.to_ndarray(format="bgr24")
                pairs.append((img, eff.apply(img.copy(), _faces(det, img))))
    finally:
        eff.close()
        store.close()
        det.close()
    return {"every": every, "delay": every, "warp_cpu": _stats(eff.timings.get("warp_cpu", []))}, pairs


def mouth_scenario(path: str, model: str, model_dir, max_rate: float | None = None) -> dict:
    """Warp on and off on the same clip: paced (fps, latency, stylisations/s, mouth figures), and
    in step with the GAN on every 8th frame, each result 8 frames late (mouth figures that do not
    depend on the machine's load)."""
    res = {}
    for warp in (True, False):
        figures, pairs = recorded_run(path, model, model_dir, warp, max_rate)
        a_in, a_out = mouth_openings(pairs, model_dir)
        figures.update(mouth_sync(a_in, a_out))
        step, pairs = in_step_run(path, model, model_dir, warp)
        step.update(mouth_sync(*mouth_openings(pairs, model_dir)))
        figures["in_step"] = step
        res["warp_on" if warp else "warp_off"] = figures
    return res


def mouth_table(scenarios: dict) -> str:
    """Markdown rows: model, clip, warp on/off, mouth_sync_r, mouth_lag_frames, fps, latency p95, stylised/s."""
    lines = ["| model | clip | warp | mouth_sync_r (lag) paced | in step, GAN every 8th frame, 8 late | fps | "
             "latency p95 ms | stylised/s | warp CPU ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in scenarios.items():
        mouth = r.get("mouth", {})
        cap = f" (GAN capped at {mouth['max_rate']}/s)" if mouth.get("max_rate") else ""
        for clip, runs in mouth.items():
            if not isinstance(runs, dict):
                continue
            for warp, m in runs.items():
                st = m.get("stages", {})
                step = m.get("in_step", {})
                lines.append(f"| {name}{cap} | {clip} | {warp.removeprefix('warp_')} | {m.get('mouth_sync_r')} "
                             f"({m.get('mouth_lag_frames')}) | {step.get('mouth_sync_r')} ({step.get('mouth_lag_frames')}) "
                             f"| {m.get('fps')} | {st.get('latency', {}).get('p95_ms')} "
                             f"| {m.get('stylized_per_s')} | {st.get('warp_cpu', {}).get('median_ms')} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ baselines


def baseline(path: str, frames: int, which: str) -> dict:
    """The original way: stylise every frame's face crop synchronously, then paste it."""
    import torch

    from hookcam.effects.anime.align import crop_face, placement
    from hookcam.effects.anime.blend import paste
    from hookcam.faces.detect import FaceDetector

    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    ugatit_cls, animegan_cls = _torch_nets()
    net, size = (ugatit_cls(), 256) if which == "ugatit" else (animegan_cls(), 512)
    net.eval()
    det = FaceDetector()
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "stylize": [], "latency": []}
    done = 0
    with torch.inference_mode():
        net(torch.zeros(1, 3, size, size))  # warm-up
        t_start = time.perf_counter()
        for img, dec_ms in _frames(path, frames):
            t0 = time.perf_counter()
            faces = _faces(det, img)
            t1 = time.perf_counter()
            if faces:
                f = faces[0]
                p = placement(f.box, f.keypoints, f.roll, "loose")
                crop = crop_face(img, p, size)
                x = torch.from_numpy(crop[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
                y = net(x)[0] if which == "animeganv2" else net(x)[0][0]
                y = ((y.clamp(-1, 1) + 1) * 127.5).byte().permute(1, 2, 0).numpy()[..., ::-1].copy()
                paste(img, y, p, "loose")
                done += 1
            t2 = time.perf_counter()
            stages["decode"].append(dec_ms)
            stages["detect"].append((t1 - t0) * 1000)
            stages["stylize"].append((t2 - t1) * 1000)
            stages["latency"].append(dec_ms + (t2 - t0) * 1000)
        wall = time.perf_counter() - t_start
    det.close()
    return {"fps": round(frames / wall, 3), "stylized_per_s": round(done / wall, 3), "size": size,
            "params_m": round(sum(p.numel() for p in net.parameters()) / 1e6, 1),
            "stages": {k: _stats(v) for k, v in stages.items()}}


def _torch_nets():
    """(UGATITGenerator, AnimeGANv2Generator) classes; torch imported only here."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    # ---- U-GAT-IT (Kim et al. 2020), generator of the official PyTorch release's layout.
    class ResBlock(nn.Module):
        def __init__(self, c: int):
            super().__init__()
            self.body = nn.Sequential(
                nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=False), nn.InstanceNorm2d(c), nn.ReLU(True),
                nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=False), nn.InstanceNorm2d(c))

        def forward(self, x):
            return x + self.body(x)

    def _ln_stats(x):
        return x.mean((1, 2, 3), keepdim=True), x.var((1, 2, 3), keepdim=True)

    class AdaILN(nn.Module):
        """rho * InstanceNorm + (1 - rho) * LayerNorm, scaled by gamma/beta from the CAM head."""

        def __init__(self, c: int, eps: float = 1e-5):
            super().__init__()
            self.eps = eps
            self.rho = nn.Parameter(torch.full((1, c, 1, 1), 0.9))

        def forward(self, x, gamma, beta):
            m_in, v_in = x.mean((2, 3), keepdim=True), x.var((2, 3), keepdim=True)
            m_ln, v_ln = _ln_stats(x)
            x_in = (x - m_in) / torch.sqrt(v_in + self.eps)
            x_ln = (x - m_ln) / torch.sqrt(v_ln + self.eps)
            rho = self.rho.expand(x.shape[0], -1, -1, -1)
            out = rho * x_in + (1 - rho) * x_ln
            return out * gamma[:, :, None, None] + beta[:, :, None, None]

    class ILN(nn.Module):
        def __init__(self, c: int, eps: float = 1e-5):
            super().__init__()
            self.eps = eps
            self.rho = nn.Parameter(torch.zeros(1, c, 1, 1))
            self.gamma = nn.Parameter(torch.ones(1, c, 1, 1))
            self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))

        def forward(self, x):
            m_in, v_in = x.mean((2, 3), keepdim=True), x.var((2, 3), keepdim=True)
            m_ln, v_ln = _ln_stats(x)
            x_in = (x - m_in) / torch.sqrt(v_in + self.eps)
            x_ln = (x - m_ln) / torch.sqrt(v_ln + self.eps)
            out = self.rho * x_in + (1 - self.rho) * x_ln
            return out * self.gamma + self.beta

    class AdaResBlock(nn.Module):
        def __init__(self, c: int):
            super().__init__()
            self.pad1, self.conv1 = nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=True)
            self.norm1 = AdaILN(c)
            self.pad2, self.conv2 = nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=True)
            self.norm2 = AdaILN(c)

        def forward(self, x, gamma, beta):
            y = F.relu(self.norm1(self.conv1(self.pad1(x)), gamma, beta))
            y = self.norm2(self.conv2(self.pad2(y)), gamma, beta)
            return x + y

    class UGATITGenerator(nn.Module):
        def __init__(self, ngf: int = 64, n_blocks: int = 4, img_size: int = 256, light: bool = False):
            super().__init__()
            self.light = light
            down = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=False), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
            for i in range(2):  # two stride-2 down-sampling convs
                m = 2 ** i
                down += [nn.ReflectionPad2d(1), nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, bias=False),
                         nn.InstanceNorm2d(ngf * m * 2), nn.ReLU(True)]
            c = ngf * 4
            down += [ResBlock(c) for _ in range(n_blocks)]
            self.down = nn.Sequential(*down)
            # Class activation map (CAM) head: GAP and GMP logits re-weight the features.
            self.gap_fc = nn.Linear(c, 1, bias=False)
            self.gmp_fc = nn.Linear(c, 1, bias=False)
            self.conv1x1 = nn.Conv2d(c * 2, c, 1, bias=True)
            # gamma/beta for AdaILN: the full model feeds the whole feature map to an MLP
            # (img_size/4 squared * 256 -> 256: the ~268 M parameter layer behind the 1 GB file).
            fc_in = c if light else (img_size // 4) ** 2 * c
            self.fc = nn.Sequential(nn.Linear(fc_in, c, bias=False), nn.ReLU(True),
                                    nn.Linear(c, c, bias=False), nn.ReLU(True))
            self.gamma = nn.Linear(c, c, bias=False)
            self.beta = nn.Linear(c, c, bias=False)
            self.up_blocks = nn.ModuleList(AdaResBlock(c) for _ in range(n_blocks))
            up = []
            for i in range(2):
                m = 2 ** (2 - i)
                up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                       nn.Conv2d(ngf * m, ngf * m // 2, 3, bias=False), ILN(ngf * m // 2), nn.ReLU(True)]
            up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, bias=False), nn.Tanh()]
            self.up = nn.Sequential(*up)

        def forward(self, x):
            x = self.down(x)
            gap_logit = self.gap_fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
            gap = x * self.gap_fc.weight[:, :, None, None]
            gmp_logit = self.gmp_fc(F.adaptive_max_pool2d(x, 1).flatten(1))
            gmp = x * self.gmp_fc.weight[:, :, None, None]
            cam_logit = torch.cat([gap_logit, gmp_logit], 1)
            x = F.relu(self.conv1x1(torch.cat([gap, gmp], 1)))
            heatmap = x.sum(1, keepdim=True)
            h = F.adaptive_avg_pool2d(x, 1).flatten(1) if self.light else x.flatten(1)
            h = self.fc(h)
            gamma, beta = self.gamma(h), self.beta(h)
            for blk in self.up_blocks:
                x = blk(x, gamma, beta)
            return self.up(x), cam_logit, heatmap

    # ---- AnimeGANv2 generator, face_paint_512 layout (bryandlee/animegan2-pytorch).
    class ConvNormLReLU(nn.Sequential):
        def __init__(self, cin, cout, k=3, stride=1, pad=1, groups=1, bias=False):
            super().__init__(nn.ReflectionPad2d(pad), nn.Conv2d(cin, cout, k, stride, groups=groups, bias=bias),
                             nn.GroupNorm(1, cout, affine=True), nn.LeakyReLU(0.2, inplace=True))

    class InvertedResBlock(nn.Module):
        def __init__(self, cin, cout, expansion=2):
            super().__init__()
            mid = round(expansion * cin)
            self.res = cin == cout
            layers = [] if expansion == 1 else [ConvNormLReLU(cin, mid, k=1, pad=0)]
            layers += [ConvNormLReLU(mid, mid, groups=mid, bias=True),
                       nn.Conv2d(mid, cout, 1, bias=False), nn.GroupNorm(1, cout, affine=True)]
            self.layers = nn.Sequential(*layers)

        def forward(self, x):
            y = self.layers(x)
            return x + y if self.res else y

    class AnimeGANv2Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_a = nn.Sequential(ConvNormLReLU(3, 32, k=7, pad=3),
                                         ConvNormLReLU(32, 64, stride=2, pad=(0, 1, 0, 1)), ConvNormLReLU(64, 64))
            self.block_b = nn.Sequential(ConvNormLReLU(64, 128, stride=2, pad=(0, 1, 0, 1)), ConvNormLReLU(128, 128))
            self.block_c = nn.Sequential(ConvNormLReLU(128, 128), InvertedResBlock(128, 256),
                                         *[InvertedResBlock(256, 256) for _ in range(3)], ConvNormLReLU(256, 128))
            self.block_d = nn.Sequential(ConvNormLReLU(128, 128), ConvNormLReLU(128, 128))
            self.block_e = nn.Sequential(ConvNormLReLU(128, 64), ConvNormLReLU(64, 64),
                                         ConvNormLReLU(64, 32, k=7, pad=3))
            self.out_layer = nn.Sequential(nn.Conv2d(32, 3, 1, bias=False), nn.Tanh())

        def forward(self, x):
            y = self.block_a(x)
            half = y.shape[-2:]
            y = self.block_c(self.block_b(y))
            y = F.interpolate(y, size=half, mode="bilinear", align_corners=True)
            y = self.block_d(y)
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=True)
            return self.out_layer(self.block_e(y))

    return UGATITGenerator, AnimeGANv2Generator


# ------------------------------------------------------------------------------ entry


def run(input_path: str, frames: int, model_dir: str | None, mouth_clips: list[str] | None = None,
        max_rate: float | None = None) -> dict[str, dict]:
    """Scenarios anime-jp_face, anime-tiny_cute, ugatit, animeganv2 (same run, same clip), and per
    model the mouth sync (warp on and off) on each talking clip, paced as a webcam."""
    from hookcam.models import ModelStore

    store = ModelStore(model_dir)
    cache = Path(store.cache_dir)
    out: dict[str, dict] = {}
    for key, model in (("anime-jp_face", "anime_jp_face"), ("anime-tiny_cute", "anime_tiny_cute")):
        q = int8_vs_fp32(model, store, cache)  # also fills the int8 cache the effect then uses
        out[key] = ours(input_path, frames, model, model_dir)
        out[key]["int8_vs_fp32"] = q
        out[key]["mouth"] = {Path(c).name: mouth_scenario(str(c), model, model_dir, max_rate)
                             for c in (mouth_clips or [input_path])}
        if max_rate:
            out[key]["mouth"]["max_rate"] = max_rate
    nb = min(frames, BASELINE_FRAMES)
    out["ugatit"] = baseline(input_path, nb, "ugatit")
    out["animeganv2"] = baseline(input_path, nb, "animeganv2")
    ug = out["ugatit"]["stylized_per_s"]
    for key in ("anime-jp_face", "anime-tiny_cute"):
        if ug:
            out[key]["stylized_vs_ugatit"] = round(out[key]["stylized_per_s"] / ug, 1)
            out[key]["fps_vs_ugatit"] = round(out[key]["fps"] / out["ugatit"]["fps"], 1)
    return out


def main() -> None:  # python -m hookcam.bench.anime CLIP [FRAMES] [MODEL_DIR]
    import json
    import sys

    a = sys.argv[1:]
    res = run(a[0], int(a[1]) if len(a) > 1 else 300, a[2] if len(a) > 2 else None)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
