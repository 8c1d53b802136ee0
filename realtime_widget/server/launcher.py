"""Run the local server as a child process of the kernel, and drive it.

A process rather than a thread: its audio work must not hold the kernel's GIL, and a crash must not take the
kernel down. The child reads its key from the environment (so it never shows in ``ps``) and exits when its stdin
closes, so a kernel that dies leaves no orphan server behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from types import TracebackType
from typing import IO, Any

from realtime_widget.server import KEY_ENV

READY_PREFIX = "Realtime server ready at "
#: How many of the child's last stderr lines are kept, for :meth:`LocalServer.log_tail`.
LOG_LINES_KEPT = 400


class LocalServerError(RuntimeError):
    """The local server could not be started or refused a control request."""


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _spawn_server(args: list[str], key: str) -> subprocess.Popen[str]:
    """The server as a child process; the key travels in its environment, never on its command line."""
    return subprocess.Popen(
        [sys.executable, "-m", "realtime_widget.server", *args],
        stdin=subprocess.PIPE,  # --exit-with-parent: the child exits when this pipe closes with us
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, KEY_ENV: key},
    )


def _wait_for_ready_line(process: subprocess.Popen[str], timeout: float, errors: deque[str]) -> str:
    """The base URL from the child's ready line; kills it and raises with its stderr if it exits or is not ready
    within ``timeout`` seconds. The child's stderr goes on being read into ``errors`` (its last lines) for good:
    a pipe nobody reads would block the child once full."""
    assert process.stdout is not None
    assert process.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    threading.Thread(target=lambda: errors.extend(process.stderr or []), daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            line = ""
        if line and line.startswith(READY_PREFIX):
            return line[len(READY_PREFIX) :].strip()
        if line is None or remaining <= 0:
            LocalServer._kill(process)
            reason = "exited" if line is None else f"was not ready after {timeout:.0f} s"
            time.sleep(0.05)  # let the stderr reader take the last lines
            stderr = "".join(errors)[-4000:]
            raise LocalServerError(f"The local Realtime server {reason}.\n{stderr}".strip())


class LocalServer:
    """A running local server process. Use ``LocalServer.start()``; stop with ``stop()`` or a ``with`` block.

    ``base_url`` is the OpenAI-style base (``http://127.0.0.1:PORT/v1``) and ``api_key`` its standard key.
    """

    def __init__(
        self, process: subprocess.Popen[str] | None, base_url: str, api_key: str, log: deque[str] | None = None
    ) -> None:
        self._process = process
        self._log = log if log is not None else deque(maxlen=LOG_LINES_KEPT)
        self.base_url = base_url
        self.api_key = api_key

    @classmethod
    def attach(cls, base_url: str, api_key: str) -> LocalServer:
        """Drive a local server that something else started (``python -m realtime_widget.server``, a test run's
        shared server); ``stop()`` then leaves it running."""
        return cls(None, base_url.rstrip("/"), api_key)

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        strict: bool = False,
        extra_args: list[str] | None = None,
    ) -> LocalServer:
        """Start ``python -m realtime_widget.server`` and wait (up to ``timeout`` s) for it to be ready."""
        key = api_key or "sk-local-" + secrets.token_urlsafe(24)
        args = ["--host", host, "--port", str(port), "--exit-with-parent"]
        if strict:
            args.append("--strict")
        process = _spawn_server([*args, *(extra_args or [])], key)
        log: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        return cls(process, _wait_for_ready_line(process, timeout, log), key, log)

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines the child wrote to stderr (its log: warnings, and the tracebacks of what
        failed inside it); empty for an attached server."""
        return "".join(list(self._log)[-lines:])

    @property
    def pid(self) -> int | None:
        """The child's process id, or ``None`` for an attached server."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is None or self._process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to stop (SIGTERM), wait, then kill it if it has not gone. An attached server is left."""
        if self._process is not None:
            self._kill(self._process, timeout)

    def kill(self) -> None:
        """End the server abruptly (SIGKILL), as a crash would: no call is closed, no socket says goodbye. An attached
        server is left."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    @staticmethod
    def _kill(process: subprocess.Popen[str], timeout: float = 5.0) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self._process is None:
            return f"LocalServer(base_url={self.base_url!r}, attached)"
        state = "running" if self.running else "stopped"
        return f"LocalServer(base_url={self.base_url!r}, pid={self.pid}, {state})"

    # ---- control API (``/_local/``; not part of the Realtime protocol) ----------------------------------------
    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        root = self.base_url.removesuffix("/v1")
        request = urllib.request.Request(
            f"{root}/_local/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise LocalServerError(f"Control request {method} /_local/{path} failed ({exc.code}): {detail}") from exc

    def violations(self) -> list[str]:
        """Server events that failed validation so far (only checked when started with ``strict=True``)."""
        return list(self._control("GET", "violations")["violations"])

    def calls(self) -> list[dict[str, Any]]:
        """The calls in progress: ``[{"call_id", "transport", "channel_open", "session_id"}, ...]``."""
        return list(self._control("GET", "calls")["calls"])

    def script(self, turns: list[dict[str, Any]], call_id: str | None = None) -> None:
        """Queue scripted assistant turns (``{"say": text}`` or ``{"call_tool": {"name", "arguments"}}``) for the
        next responses of ``call_id``, or of every call when ``None``."""
        self._control("POST", "script", {"turns": turns, "call_id": call_id})

    def drop_call(self, call_id: str) -> None:
        """Close that call's peer connection abruptly, as a crash would."""
        self._control("POST", f"calls/{call_id}/drop")

    def close_channel(self, call_id: str) -> None:
        """Close only that call's data channel."""
        self._control("POST", f"calls/{call_id}/close_channel")

    def say(self, call_id: str, text: str) -> str:
        """Make the assistant speak ``text`` now, unprompted; returns the response id."""
        return str(self._control("POST", f"calls/{call_id}/say", {"text": text})["response_id"])

    def call_stats(self, call_id: str, reset: bool = False) -> dict[str, Any]:
        """Outgoing audio pacing of a call since it began or the last ``reset`` (start the server with
        ``extra_args=["--record-timing"]``)."""
        return dict(self._control("GET", f"calls/{call_id}/stats" + ("?reset=1" if reset else "")))

    def advance_clock(self, seconds: float) -> None:
        """Run the server's clock ``seconds`` ahead: ephemeral keys expire and sessions reach their time limit
        (the API's 60 minutes) as if that much time had passed."""
        self._control("POST", "clock", {"advance_s": seconds})

    def fail_next_call(self, fault: str | None) -> None:
        """How the next ``POST /v1/realtime/calls`` fails: ``"server_error"`` (a 500 in the API's shape) or
        ``"unreachable_ice"`` (an answer whose candidates nothing listens on, so ICE never connects); ``None``
        disarms it."""
        self._control("POST", "faults/next_call", {"fault": fault})

    def hang_up(self, call_id: str) -> None:
        """End a call as its owner would (``POST /v1/realtime/calls/{id}/hangup`` with the standard key)."""
        request = urllib.request.Request(
            f"{self.base_url}/realtime/calls/{call_id}/hangup",
            method="POST",
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # already gone
                raise LocalServerError(f"Hang-up of {call_id} failed ({exc.code})") from exc
