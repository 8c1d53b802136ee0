"""Sessions end at their maximum duration (60 minutes on the API; shortened here), over both transports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import openai

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY, RtcClient


async def test_webrtc_call_ends_at_the_limit(make_server: Callable[..., Awaitable[RealtimeServer]]) -> None:
    server = await make_server(max_session_s=1.0)
    client = RtcClient(server.base_url, API_KEY)
    try:
        assert (await client.connect()).status == 201
        error = await client.wait_for("error", within=5)
        assert error["error"]["code"] == "session_expired"
        for _ in range(50):
            if client.call_id not in server.calls:
                break
            await asyncio.sleep(0.1)
        assert client.call_id not in server.calls
    finally:
        await client.close()


async def test_websocket_session_ends_at_the_limit(make_server: Callable[..., Awaitable[RealtimeServer]]) -> None:
    server = await make_server(max_session_s=0.5)
    sdk = openai.AsyncOpenAI(api_key=API_KEY, base_url=server.base_url)
    async with sdk.realtime.connect(model="gpt-realtime") as connection:
        events = [event async for event in connection]
    assert events[0].type == "session.created"
    assert events[-1].type == "error"
    assert events[-1].error.code == "session_expired"
    assert server.calls == {}
