"""One local server for the eval runs: a real child process (strict: every event it sends is validated against
openai.types.realtime) that every headless session attaches to, as a notebook's sessions would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV
from realtime_widget.server.launcher import LocalServer


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    server = LocalServer.start(strict=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def offline(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalServer]:
    """Sessions in this test use the shared local server (no OpenAI key), and runs are written under tmp_path."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv(LOCAL_SERVER_URL_ENV, local_server.base_url)
    monkeypatch.setenv(LOCAL_SERVER_KEY_ENV, local_server.api_key)
    # The kernel keeps the local server it attached to; one from an earlier test (another folder's fixture, still
    # running) would otherwise take these sessions, and this test's server would not see them.
    monkeypatch.setattr("realtime_widget.endpoint._local_server", None)
    monkeypatch.chdir(tmp_path)
    yield local_server
    assert local_server.violations() == [], "the local server sent events that do not validate"


def server_env(server: LocalServer) -> dict[str, str]:
    """The environment of a child process that should use ``server``."""
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
    env[LOCAL_SERVER_URL_ENV] = server.base_url
    env[LOCAL_SERVER_KEY_ENV] = server.api_key
    return env
