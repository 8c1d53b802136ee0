"""The server as a child process: ``LocalServer`` and ``python -m realtime_widget.server``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from realtime_widget.server.launcher import LocalServer, LocalServerError


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer.start(strict=True) as server:
        yield server


def test_start_reports_url_key_and_pid(local_server: LocalServer) -> None:
    assert local_server.base_url.startswith("http://127.0.0.1:")
    assert local_server.base_url.endswith("/v1")
    assert local_server.pid > 0
    assert local_server.running
    response = httpx.post(
        f"{local_server.base_url}/realtime/client_secrets",
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        json={},
    )
    assert response.status_code == 200


def test_key_is_not_in_repr_or_command_line(local_server: LocalServer) -> None:
    assert local_server.api_key not in repr(local_server)
    cmdline = Path(f"/proc/{local_server.pid}/cmdline").read_bytes().decode()
    assert local_server.api_key not in cmdline


def test_control_methods(local_server: LocalServer) -> None:
    assert local_server.calls() == []
    assert local_server.violations() == []
    attached = LocalServer.attach(local_server.base_url, local_server.api_key)
    assert attached.pid is None
    assert attached.calls() == []
    attached.stop()  # leaves the server it did not start
    assert local_server.running
    local_server.script([{"say": "hi"}])
    with pytest.raises(LocalServerError, match="404"):
        local_server.say("rtc_nope", "hello")
    with pytest.raises(LocalServerError, match="400"):
        local_server.script([{"bad": 1}])


def test_a_child_that_dies_reports_its_stderr() -> None:
    with pytest.raises(LocalServerError, match="exited"):
        LocalServer.start(port=-5)


def test_exit_with_parent_exits_on_stdin_eof() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "realtime_widget.server", "--port", "0", "--exit-with-parent"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "REALTIME_WIDGET_SERVER_KEY": "sk-env-key"},
    )
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        line = process.stdout.readline()
        assert line.startswith("Realtime server ready at http://127.0.0.1:")
        process.stdin.close()
        deadline = time.monotonic() + 30  # the voice model may still be loading; that finishes first
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_stop_ends_the_process(local_server: LocalServer) -> None:
    # Last in this module: it stops the shared server (stop is idempotent, so the fixture's exit is harmless).
    pid = local_server.pid
    local_server.stop()
    assert not local_server.running
    assert not Path(f"/proc/{pid}").exists()
