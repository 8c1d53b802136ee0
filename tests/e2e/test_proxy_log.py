"""The ephemeral key in the browser WebSocket's subprotocol list stays out of the Jupyter server's log when the
local server is reached through jupyter-server-proxy, even at DEBUG (where the proxy logs the list it was sent)."""

from __future__ import annotations

from urllib.parse import urlparse

import aiohttp
import httpx
import pytest

from realtime_widget.protocol.rules import DEFAULT_MODEL
from realtime_widget.server.launcher import LocalServer

from .harness import kernel_env, run_on_own_loop, start_jupyterlab, stop_jupyterlab

pytestmark = pytest.mark.e2e


def mint_ephemeral_key(local_server: LocalServer) -> str:
    answer = httpx.post(
        f"{local_server.base_url}/realtime/client_secrets",
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        json={"session": {"type": "realtime", "model": DEFAULT_MODEL}},
        timeout=30,
    )
    answer.raise_for_status()
    key: str = answer.json()["value"]
    assert key.startswith("ek_"), key
    return key


async def open_through_proxy(url: str, token: str, protocols: tuple[str, ...]) -> str:
    """Opens the Realtime WebSocket as the browser does on the proxy route; the first event's type."""
    # The Jupyter token in the query (the browser has a cookie): an Authorization header would be forwarded.
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}&token={token}", protocols=protocols) as ws:
        first = await ws.receive_json(timeout=30)
        return str(first["type"])


def test_the_ephemeral_key_is_not_in_the_jupyter_log_at_debug(
    tmp_path_factory: pytest.TempPathFactory, local_server: LocalServer
) -> None:
    empty = tmp_path_factory.mktemp("no-notebooks")
    lab = start_jupyterlab(
        tmp_path_factory.mktemp("debug-lab"), empty, kernel_env(local_server), extra_args=("--debug",)
    )
    try:
        port = urlparse(local_server.base_url).port
        url = f"{lab.url.replace('http', 'ws', 1)}/proxy/{port}/v1/realtime?model={DEFAULT_MODEL}"
        key = mint_ephemeral_key(local_server)
        # As the browser sends it: the proxy logs the list at DEBUG.
        first = run_on_own_loop(open_through_proxy(url, lab.token, ("realtime", f"openai-insecure-api-key.{key}")))
        assert first == "session.created", first
        # The key first: the proxy picks it, the server picks "realtime", and the proxy warns with the whole list.
        other = mint_ephemeral_key(local_server)
        first = run_on_own_loop(open_through_proxy(url, lab.token, (f"openai-insecure-api-key.{other}", "realtime")))
        assert first == "session.created", first
    finally:
        stop_jupyterlab(lab)
    log = lab.log_path.read_text()
    assert "Client sent subprotocols" in log  # the proxy's DEBUG line was written ...
    assert "became different than for client/proxy" in log  # ... and its warning ...
    assert "'openai-insecure-api-key.[redacted]'" in log  # ... with the key redacted
    assert key not in log
    assert other not in log
    assert key.removeprefix("ek_")[:16] not in log
    assert local_server.api_key not in log
