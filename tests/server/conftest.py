"""Shared fixtures for server tests: an in-process strict server and an aiortc client that talks to it.

Every server here runs ``strict``: each event it sends is validated against ``openai.types.realtime`` and a
test fails at teardown if any event did not validate.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.voice.loader import fallback_voice_model

from .clients import API_KEY, EngineHarness, RtcClient


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[..., Awaitable[RealtimeServer]]]:
    """A factory of started in-process strict servers: ``await make_server(deps=load_voice_model())`` for the offline
    voice model; the default is the fast fallback model (tone, no recognition, the plain responder). Each is
    stopped after the test, which then fails if any event a server sent did not validate."""
    servers: list[RealtimeServer] = []

    async def make(**kwargs: Any) -> RealtimeServer:
        kwargs.setdefault("deps", fallback_voice_model())
        srv = RealtimeServer(API_KEY, strict=True, **kwargs)
        servers.append(srv)
        await srv.start()
        return srv

    yield make
    for srv in servers:
        await srv.stop()
    for srv in servers:
        assert srv.checker.violations == [], srv.checker.violations


@pytest.fixture
def server_options() -> dict[str, Any]:
    """Keyword arguments of the ``server`` fixture's ``RealtimeServer``; parametrize it to vary them."""
    return {}


@pytest.fixture
async def server(
    make_server: Callable[..., Awaitable[RealtimeServer]], server_options: dict[str, Any]
) -> RealtimeServer:
    """An in-process strict server with the fallback voice model on a free loopback port."""
    return await make_server(**server_options)


@pytest.fixture
async def rtc_client(server: RealtimeServer) -> AsyncIterator[Callable[..., Awaitable[RtcClient]]]:
    """A factory: ``client = await rtc_client()`` connects (raw SDP, standard key) and waits for the channel;
    pass ``key=`` or ``session=`` (multipart) to vary it, ``receive_only=True`` to offer no microphone,
    ``wait=False`` to skip waiting."""
    clients: list[RtcClient] = []

    async def make(
        key: str = API_KEY, session: dict[str, Any] | None = None, wait: bool = True, receive_only: bool = False
    ) -> RtcClient:
        client = RtcClient(server.base_url, key, receive_only=receive_only)
        clients.append(client)
        response = await client.connect(session)
        if wait:
            assert response.status == 201, await response.text()
            await asyncio.wait_for(client.channel_open.wait(), 10)
            await client.wait_for("session.created")
        return client

    yield make
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


@pytest.fixture
async def harness() -> AsyncIterator[Callable[..., EngineHarness]]:
    """A factory of ``EngineHarness``es (closed, and checked for invalid events, after the test)."""
    made: list[EngineHarness] = []

    def make(**kwargs: Any) -> EngineHarness:
        h = EngineHarness(**kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        await h.engine.close()
        assert h.checker.violations == [], h.checker.violations
