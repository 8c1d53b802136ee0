"""A WebRTC client that stops taking events (its SCTP stack acknowledges nothing the server sends) does not grow
the server without bound: once ``MAX_UNSENT_BYTES`` wait in the data channel, the call is ended."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiortc.rtcsctptransport import DataChunk

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import RtcClient

Connect = Callable[..., Awaitable[RtcClient]]
LIMIT = 2 * 1024 * 1024


def stop_reading(client: RtcClient) -> None:
    """Make the client's SCTP stack drop every data chunk it receives (so it acknowledges none), as a frozen or
    hostile peer would; its own sends still get through."""
    sctp: Any = client.channel.transport  # the RTCSctpTransport
    receive = sctp._receive_chunk

    async def drop_data(chunk: Any) -> None:
        if not isinstance(chunk, DataChunk):
            await receive(chunk)

    sctp._receive_chunk = drop_data


async def test_a_client_that_never_reads_has_its_call_ended(
    server: RealtimeServer, rtc_client: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("realtime_widget.server.transports.webrtc.MAX_UNSENT_BYTES", LIMIT)
    client = await rtc_client()
    call = server.calls[client.call_id]
    stop_reading(client)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x" * 100_000}]}
    most_buffered = 0
    for _ in range(200):  # 40 MB of events (added and done per item), far past the limit
        # The server may already be ending the call: its channel closes before the call leaves `server.calls`.
        if client.call_id not in server.calls or client.channel.readyState != "open":
            break
        client.send({"type": "conversation.item.create", "item": item})
        await asyncio.sleep(0.01)
        channel = call.channel  # type: ignore[attr-defined]
        most_buffered = max(most_buffered, channel.bufferedAmount)
    for _ in range(500):
        if client.call_id not in server.calls:
            break
        await asyncio.sleep(0.02)
    assert client.call_id not in server.calls
    assert most_buffered <= LIMIT
