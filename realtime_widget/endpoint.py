"""Which Realtime server the widget talks to: OpenAI (with a key) or the bundled local server (without one)."""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .keys import KeyMinter, SecretKey, resolve_api_key

OPENAI_BASE_URL = "https://api.openai.com/v1"

# A local server started elsewhere (``python -m realtime_widget.server``; a test run's shared server).
LOCAL_SERVER_URL_ENV = "REALTIME_WIDGET_LOCAL_SERVER_URL"
LOCAL_SERVER_KEY_ENV = "REALTIME_WIDGET_LOCAL_SERVER_KEY"

_local_server: Any = None
_local_server_lock = threading.Lock()


def shared_local_server() -> Any:
    """The kernel's local server: the one named by ``REALTIME_WIDGET_LOCAL_SERVER_URL`` (and ``_KEY``) if set,
    else a child process started on first use and stopped when the kernel exits.

    One per kernel: every widget without a key shares it, so a notebook with several widgets starts it once.
    """
    global _local_server  # noqa: PLW0603 - one child process per kernel, by design
    from .server.launcher import LocalServer  # noqa: PLC0415 - aiortc loads only when needed

    with _local_server_lock:
        if _local_server is None or not _local_server.running:
            url, key = os.environ.get(LOCAL_SERVER_URL_ENV), os.environ.get(LOCAL_SERVER_KEY_ENV)
            if url and key:
                _local_server = LocalServer.attach(url, key)
            else:
                _local_server = LocalServer.start()
                atexit.register(_local_server.stop)
        return _local_server


@dataclass
class Endpoint:
    """A Realtime API base URL with the standard key for it (kept in the kernel)."""

    base_url: str
    api_key: SecretKey
    label: str
    local_server: Any = None
    _minter: KeyMinter | None = field(default=None, repr=False)

    @property
    def calls_url(self) -> str:
        return f"{self.base_url}/realtime/calls"

    def minter(self) -> KeyMinter:
        """One minter (and one HTTP client) per endpoint, reused for every key."""
        if self._minter is None:
            self._minter = KeyMinter(self.base_url, self.api_key)
        return self._minter

    def close(self) -> None:
        if self._minter is not None:
            self._minter.close()
            self._minter = None


def resolve_endpoint(*, api_key: str | None, base_url: str | None) -> Endpoint:
    """OpenAI when a key is given or set in ``OPENAI_API_KEY``; otherwise the local server.

    ``base_url`` (or ``OPENAI_BASE_URL``) points a key at another Realtime-compatible server or a proxy.
    """
    key = resolve_api_key(api_key)
    if key is None:
        if base_url is not None:
            raise ValueError("base_url needs an api_key (or OPENAI_API_KEY) for that server")
        server = shared_local_server()
        return Endpoint(server.base_url, SecretKey(server.api_key), "Local server (offline)", local_server=server)
    url = (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL).rstrip("/")
    host = urlparse(url).hostname or url
    label = "OpenAI" if host == "api.openai.com" else host
    return Endpoint(url, key, label)
