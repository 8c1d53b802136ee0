"""marimo for the end-to-end tests: the quickstart as a marimo app, served headless by ``marimo run``, and a probe
that evaluates the test's expressions where the widget lives.

marimo has no kernel a second client can attach to, so the app starts a small probe thread: the test writes an
expression to ``<probe dir>/<n>.expr`` and the probe writes the JSON result beside it (atomically), with the same
``value``/``wait_until`` interface as the Jupyter kernel client."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .harness import free_port, stop_process_group

QUICKSTART_APP = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from realtime_widget import RealtimeWidget

    widget = RealtimeWidget(instructions="You are a friendly assistant. Keep answers short.", voice="marin")
    mo.ui.anywidget(widget)
    return (widget,)


@app.cell
def _(widget):
    import json as _json
    import os as _os
    import pathlib as _pathlib
    import threading as _threading
    import time as _time

    def _jsonable(o):
        return o.item() if hasattr(o, "item") else str(o)

    def _serve(folder):
        while True:
            for request in sorted(folder.glob("*.expr")):
                expression = request.read_text()
                request.unlink()
                try:
                    answer = {"ok": True, "value": eval(expression, {"widget": widget})}
                    text = _json.dumps(answer, default=_jsonable)
                except Exception as error:
                    text = _json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"})
                partial = request.with_suffix(".partial")
                partial.write_text(text)
                _os.replace(partial, request.with_suffix(".json"))
            _time.sleep(0.05)

    _probe = _pathlib.Path(_os.environ["RTW_TEST_PROBE_DIR"])
    _threading.Thread(target=_serve, args=(_probe,), daemon=True, name="test probe").start()
    return
"""


class ProbeError(RuntimeError):
    """The expression raised where the widget lives."""


class MarimoProbe:
    """Evaluates expressions in the marimo app's kernel, through the probe's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._ids = itertools.count()

    def value(self, expression: str, timeout: float = 30) -> Any:
        n = next(self._ids)
        request = self.folder / f"{n:06d}.expr"
        partial = request.with_suffix(".partial-request")
        partial.write_text(expression)
        os.replace(partial, request)
        reply = request.with_suffix(".json")
        deadline = time.monotonic() + timeout
        while not reply.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the marimo probe did not answer {expression!r} within {timeout} s")
            time.sleep(0.05)
        answer = json.loads(reply.read_text())
        reply.unlink()
        if not answer["ok"]:
            raise ProbeError(f"{expression!r} failed: {answer['error']}")
        return answer["value"]

    def wait_until(self, expression: str, timeout: float = 30, interval: float = 0.25) -> Any:
        """Polls until ``expression`` is truthy. An error counts as not yet: the probe reads the record from its
        own thread while the kernel appends to it."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.value(expression)
            except ProbeError as error:
                last = error
            else:
                if last:
                    return last
            time.sleep(interval)
        raise TimeoutError(f"{expression!r} stayed falsy for {timeout} s (last: {last!r})")


@dataclass
class MarimoServer:
    url: str
    probe: MarimoProbe
    process: subprocess.Popen[bytes]
    log_path: Path


# A user config of its own: in `marimo edit` the notebook runs when opened (as `marimo run` always does), and
# nothing is checked online.
MARIMO_CONFIG = """[runtime]
auto_instantiate = true
"""


@contextlib.contextmanager
def marimo_server(base: Path, env: dict[str, str], mode: str = "run") -> Iterator[MarimoServer]:
    """``marimo run`` (``mode="run"``, the app) or ``marimo edit`` (the notebook editor) of the quickstart app on
    127.0.0.1, headless, with its own config folder; stopped by its PID."""
    app = base / "quickstart_app.py"
    app.write_text(QUICKSTART_APP)
    probe = base / "probe"
    probe.mkdir()
    config = base / "config"
    (config / "marimo").mkdir(parents=True)
    (config / "marimo" / "marimo.toml").write_text(MARIMO_CONFIG)
    port = free_port()
    full_env = {**env, "XDG_CONFIG_HOME": str(config), "RTW_TEST_PROBE_DIR": str(probe)}
    edit_only = ["--skip-update-check"] if mode == "edit" else []
    command = [
        sys.executable,
        "-m",
        "marimo",
        mode,
        "--headless",
        "--host=127.0.0.1",
        f"--port={port}",
        "--no-token",
        *edit_only,
        str(app),
    ]
    log_path = base / "marimo.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = MarimoServer(f"http://127.0.0.1:{port}", MarimoProbe(probe), process, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"marimo exited early:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(server.url, timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"marimo did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        stop_process_group(process)
