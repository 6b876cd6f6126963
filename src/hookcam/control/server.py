"""The control page and its JSON API (FastAPI), served by uvicorn in a background thread.

    GET   /                 the page (page.html; it uses only the API below)
    GET   /stream.mjpg      live preview, MJPEG (multipart/x-mixed-replace), at most ~15 fps
    GET   /api/frame.jpg    the newest output frame as one JPEG
    GET   /api/state        settings (+ which are live), faces, idle, stats
    GET   /api/stats        output fps, per-stage ms, dropped frames, CPU
    PATCH /api/settings     a partial JSON object, e.g. {"effect": "smile"}; applied on the next frame
    POST  /api/config/save  write the live settings to the config file
    GET   /openapi.json     the API description

Requests must name this server in `Host` (localhost / 127.0.0.1 / [::1] with the port, or the
bound address) and, when they carry an `Origin`, come from that same origin: another web site
cannot drive it (DNS rebinding, CSRF). Bound anywhere but 127.0.0.1/localhost/::1, every request
also needs the token: `Authorization: Bearer TOKEN`, or `?token=TOKEN` on GET (page, stream).
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import sys
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hookcam.control.config import LIVE_KEYS, config_path, save_config
from hookcam.control.schema import SettingsPatch, strip_unused_422
from hookcam.errors import HookcamError
from hookcam.settings import EFFECTS, Settings

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
STREAM_FPS = 15.0
JPEG_QUALITY = 80


def needs_token(host: str) -> bool:
    return host.strip("[]") not in LOCAL_HOSTS


def _host_port(value: str) -> tuple[str, int | None]:
    """'127.0.0.1:8787' / '[::1]:8787' / 'localhost' -> (host, port)."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    try:
        return host, int(port) if port else None
    except ValueError:
        return host, -1


class Guard:
    """Pure ASGI middleware: Host, Origin and token checks before anything else runs."""

    def __init__(self, app, *, host: str, port: int, token: str | None):
        self.app = app
        self.port = port
        self.token = token
        bound = host.strip("[]").lower()
        self.hosts = set(LOCAL_HOSTS)
        self.any_host = bound in ("0.0.0.0", "::", "")
        if not self.any_host:
            self.hosts.add(bound)

    def host_ok(self, value: str) -> bool:
        host, port = _host_port(value)
        if port not in (self.port, None if self.port == 80 else self.port):
            return False
        return self.any_host or host in self.hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        problem = None
        if not self.host_ok(host):
            problem = (403, f"Host {host!r} is not this control server: use http://127.0.0.1:{self.port}/")
        elif "origin" in headers:
            origin = urlsplit(headers["origin"])
            if origin.scheme != "http" or origin.netloc.lower() != host.lower():
                problem = (403, f"requests from {headers['origin']!r} are not allowed")
        if problem is None and self.token is not None:
            given = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            elif scope["method"] in ("GET", "HEAD"):
                given = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [None])[0]
            if not given or not secrets.compare_digest(given.encode(), self.token.encode()):
                problem = (401, "a token is needed: open the URL hookcam printed at start "
                                "(?token=...) or send 'Authorization: Bearer TOKEN'")
        if problem is None:
            return await self.app(scope, receive, send)
        import json

        status, message = problem
        body = json.dumps({"detail": message}).encode()
        extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())] + extra})
        await send({"type": "http.response.body", "body": body})


class CpuMeter:
    """Process CPU use (all threads, in % of one core) between two calls, from os.times()."""

    def __init__(self):
        self._lock = threading.Lock()
        t = os.times()
        self._last = (time.monotonic(), t.user + t.system)
        self.percent = 0.0

    def read(self) -> float:
        with self._lock:
            now, t = time.monotonic(), os.times()
            cpu = t.user + t.system
            wall = now - self._last[0]
            if wall >= 0.5:
                self.percent = 100.0 * (cpu - self._last[1]) / wall
                self._last = (now, cpu)
            return round(self.percent, 1)


class Preview:
    """JPEG of the newest output frame, encoded only when someone asks, once per frame."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self._lock = threading.Lock()
        self._key = None
        self._jpeg: bytes | None = None
        self.watchers = 0
        self.encoded = 0

    def jpeg(self) -> bytes | None:
        import cv2

        p = self.pipeline
        img = p.last_image
        key = (p.stats.frames_out, id(img))
        with self._lock:
            if img is None:
                return None
            if key != self._key:
                ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                if ok:
                    self._jpeg, self._key = buf.tobytes(), key
                    self.encoded += 1
            return self._jpeg

    async def stream(self, stop: threading.Event):
        """multipart/x-mixed-replace parts, at most STREAM_FPS a second, new frames only.

        An async generator on purpose: when the viewer leaves, Starlette cancels it at an await
        and the `finally` runs at once. A plain generator is iterated in a worker thread and is
        only closed when the garbage collector gets to it, so the watcher count (and the JPEG
        encoding it keeps alive) could outlive the viewer by seconds.
        """
        import asyncio

        from anyio import to_thread

        period = 1.0 / STREAM_FPS
        with self._lock:
            self.watchers += 1
        try:
            last = None
            next_due = time.monotonic()
            while not stop.is_set() and not self.pipeline.stopped:
                delay = next_due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_due = max(next_due + period, time.monotonic())
                data = await to_thread.run_sync(self.jpeg)  # encoding stays off the event loop
                if data is None or data is last:
                    continue
                last = data
                yield (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                       + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
        finally:
            with self._lock:
                self.watchers -= 1


def describe_request_error(err: dict) -> str:
    """A request validation error -> one line naming the setting."""
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    kind, msg = err.get("type", ""), err.get("msg", "invalid body")
    if kind == "extra_forbidden" and loc:
        return f"unknown setting {loc[0]!r}"
    if kind == "json_invalid":
        return f"bad request: the body is not valid JSON ({err.get('ctx', {}).get('error', msg)})"
    if not loc and isinstance(err.get("input"), (bytes, str)):
        return "bad request: send a JSON object (Content-Type: application/json), e.g. {\"effect\": \"smile\"}"
    if loc:
        return f"bad setting {loc[0]!r}: {msg}"
    return f"bad request: {msg} (send a JSON object of settings, e.g. {{\"effect\": \"smile\"}})"


def _num(x):
    return None if x is None else round(float(x), 4)


def face_json(f) -> dict:
    return {
        "track_id": int(f.track_id) if isinstance(f.track_id, (int, float)) else str(f.track_id),
        "box": [round(float(v), 1) for v in f.box],
        "score": _num(f.score),
        "smile": _num(f.smile),
        "smiling": bool(f.smiling),
        "emotion": f.emotion,
        "emotion_score": _num(f.emotion_score),  # the label's averaged probability (its "93%")
        "emotion_scores": {k: _num(v) for k, v in (f.emotion_scores or {}).items()} or None,
    }


def anime_models() -> list[str]:
    from hookcam.models import REGISTRY

    return [name for name in REGISTRY if name.startswith("anime")]


def create_app(pipeline, *, host: str = "127.0.0.1", port: int = 8787, token: str | None = None,
               config_file: Path | None = None, stop: threading.Event | None = None):
    """The ASGI app for one pipeline (wrapped in the Host/Origin/token guard)."""
    from fastapi import Body, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

    stop = stop or threading.Event()
    preview = Preview(pipeline)
    cpu = CpuMeter()
    fields = Settings.model_fields
    read_only = [k for k in fields if k not in LIVE_KEYS]
    lock = threading.Lock()

    app = FastAPI(title="hookcam control", version="1",
                  description="Live control of a running `hookcam run`: the page at / uses only this API.",
                  strict_content_type=False)  # a JSON body sent without a Content-Type header is read
    app.state.preview = preview

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):
        err = exc.errors()[0] if exc.errors() else {}
        return JSONResponse({"detail": describe_request_error(err)}, status_code=400)

    def _openapi():  # the real body model, and no 422 (this server answers 400)
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            app.openapi_schema = strip_unused_422(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = _openapi

    def stats_json() -> dict:
        s = pipeline.stats
        return {
            "fps": round(s.fps(), 2),
            "frames_in": s.frames_in,
            "frames_out": s.frames_out,
            "dropped": s.dropped,
            "lost_frames": s.lost_frames,
            "stages_ms": {k: {"median": round(v["median_ms"], 2), "p95": round(v["p95_ms"], 2)}
                          for k, v in s.summary().items()},
            "cpu_percent": cpu.read(),
            "uptime_s": round(time.monotonic() - s.started, 1),
            "idle": bool(pipeline.idle),
            "preview_watchers": preview.watchers,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        return HTMLResponse(resources.files("hookcam.control").joinpath("page.html").read_text("utf-8"),
                            headers={"Cache-Control": "no-store"})

    @app.get("/stream.mjpg", summary="Live preview (MJPEG)",
             response_class=StreamingResponse)
    def stream():
        return StreamingResponse(preview.stream(stop),
                                 media_type="multipart/x-mixed-replace; boundary=frame",
                                 headers={"Cache-Control": "no-store"})

    @app.get("/api/frame.jpg", summary="The newest output frame as a JPEG")
    def frame():
        data = preview.jpeg()
        if data is None:
            return JSONResponse({"detail": "no frame yet"}, status_code=503)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get("/api/stats", summary="Output fps, per-stage timings, dropped frames, CPU")
    def get_stats() -> dict[str, Any]:
        return stats_json()

    @app.get("/api/state", summary="Settings, faces and figures")
    def get_state() -> dict[str, Any]:
        pipeline.analyzer.want_faces()  # the page shows faces: detect while it polls
        return {
            "settings": pipeline.settings.model_dump(mode="json"),
            "live": list(LIVE_KEYS),
            "read_only": read_only,
            "choices": {"effect": list(EFFECTS), "anime_scope": ["face", "frame"],
                        "anime_model": anime_models(),
                        "background": ["none", "blur"], "background_model": ["landscape", "general"],
                        "framing": ["off", "auto"]},
            "faces": [face_json(f) for f in list(pipeline.last_faces or [])],
            "idle": bool(pipeline.idle),
            "stats": stats_json(),
            "config_file": str(config_file or config_path()),
        }

    @app.patch("/api/settings", summary="Change settings live (partial object)",
               responses={400: {"description": "unknown, read-only or invalid setting; nothing applied"}})
    def patch_settings(body: SettingsPatch = Body(..., examples=[{"effect": "smile"},  # type: ignore[valid-type]
                                                                {"mirror": True, "smile_on": 0.7}])):
        changes = body.model_dump(mode="json", exclude_unset=True)
        current = pipeline.settings.model_dump(mode="json")
        live = {}
        for key, value in changes.items():
            if key not in fields:
                return _error(f"unknown setting {key!r}")
            if key in LIVE_KEYS:
                live[key] = value
            elif value != current.get(key):
                flag = "--" + key.replace("_", "-")
                return _error(f"{key!r} cannot change while hookcam runs: restart it with {flag}")
        with lock:
            try:
                new = pipeline.update(**live) if live else pipeline.settings
            except HookcamError as e:
                return _error(str(e))
            except (TypeError, ValueError, OSError) as e:
                return _error(f"bad setting: {e}")
        return {"settings": new.model_dump(mode="json")}

    @app.post("/api/config/save", summary="Write the live settings to the config file")
    def save():
        try:
            path = save_config(pipeline.settings, config_file)
        except OSError as e:
            return JSONResponse({"detail": f"cannot write the config file: {e}"}, status_code=500)
        return {"saved": str(path), "keys": list(LIVE_KEYS)}

    def _error(message: str):
        return JSONResponse({"detail": message}, status_code=400)

    return Guard(app, host=host, port=port, token=token)


class ControlServer:
    """uvicorn in a daemon thread. Ctrl-C stays with the main thread (uvicorn installs no signal
    handlers outside it), `close()` stops it."""

    def __init__(self, pipeline, *, host: str = "127.0.0.1", port: int = 8787, token: str | None = None,
                 config_file: Path | None = None):
        self.pipeline = pipeline
        self.host, self.port = host, port
        self.token = token
        self.config_file = config_file
        self._stop = threading.Event()
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        shown = self.host if self.host not in ("0.0.0.0", "::", "") else socket.gethostname()
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{self.port}/" + (f"?token={self.token}" if self.token else "")

    def start(self, timeout: float = 10.0) -> ControlServer:
        import uvicorn

        sock = bind(self.host, self.port)  # raises OSError (EADDRINUSE) before any thread starts
        self.port = sock.getsockname()[1]
        app = create_app(self.pipeline, host=self.host, port=self.port, token=self.token,
                         config_file=self.config_file, stop=self._stop)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1, ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       name="control", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def close(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=3)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(64)
        sock.set_inheritable(False)
    except OSError:
        sock.close()
        raise
    return sock


def start_control(pipeline, settings: Settings, *, config_file: Path | None = None, log=None):
    """Start the control server for `hookcam run`: prints the URL (and the token when one is
    needed); a busy port or bad address is a one-line warning and None (hookcam keeps running)."""
    log = log or (lambda msg: print(f"hookcam: {msg}", file=sys.stderr))
    host, port = settings.control_host, settings.control_port
    token = secrets.token_urlsafe(24) if needs_token(host) else None
    try:
        server = ControlServer(pipeline, host=host, port=port, token=token, config_file=config_file).start()
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            log(f"control page not started: port {port} is in use; pick another with --control-port "
                "(or --no-control)")
        else:
            log(f"control page not started: cannot listen on {host}:{port} ({e.strerror or e}); "
                "check --control-host/--control-port")
        return None
    except ImportError as e:
        log(f"control page not started: {e.name} is not installed (pip install fastapi uvicorn)")
        return None
    log(f"control page {server.url}")
    if token:
        log("the control page is reachable from other machines: the token in that URL is needed "
            "for every request; keep it private")
    return server
