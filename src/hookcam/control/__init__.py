"""Live control of `hookcam run`: the control page + JSON API (server.py), the config file
(config.py) and idling while no app reads the virtual camera (idle.py)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading


@contextlib.contextmanager
def live_control(pipeline, settings, *, log=None):
    """Everything `hookcam run` starts beside the pipeline, stopped again on the way out:
    the control server (unless --no-control), the config file watcher (+ SIGHUP) and the idle
    watcher (unless --always-on; live source + v4l2loopback output only)."""
    from hookcam.control.config import ConfigWatcher, config_path, load_config
    from hookcam.control.idle import start_idle_watcher

    log = log or (lambda msg: print(f"hookcam: {msg}", file=sys.stderr))
    stack = contextlib.ExitStack()
    with stack:
        if any(getattr(s, "name", "") == "preview window" for s in pipeline.sinks):
            pipeline.handle_key("h")  # list the hotkeys once
        if settings.control:
            # Started beside the pipeline (importing FastAPI and starting uvicorn take ~0.5 s).
            from hookcam.control.server import start_control

            started: list = []
            starter = threading.Thread(
                target=lambda: started.append(start_control(pipeline, settings, log=log)),
                name="control-start", daemon=True)
            starter.start()

            def _close_control():
                starter.join(timeout=10)
                for server in started:
                    if server is not None:
                        server.close()

            stack.callback(_close_control)
        path = config_path()
        try:
            initial = load_config(path)
        except Exception:
            initial = None  # broken since startup: the watcher reports it when it changes
        watcher = ConfigWatcher(path, pipeline.update, log=log, initial=initial).start()
        stack.callback(watcher.stop)
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            old = signal.signal(signal.SIGHUP, watcher.poke)
            stack.callback(signal.signal, signal.SIGHUP, old)
        if not settings.always_on:
            idle = start_idle_watcher(pipeline, log=log)
            if idle is not None:
                stack.callback(idle.stop)
        yield
