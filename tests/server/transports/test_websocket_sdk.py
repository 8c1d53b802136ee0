"""The WebSocket transport, driven by the official ``openai`` SDK unmodified (``base_url`` pointed at the server)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import Any

import aiohttp
import numpy as np
import openai
import pytest

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY


async def collect_until(connection: Any, event_type: str) -> list[Any]:
    events = []
    async for event in connection:
        events.append(event)
        if event.type == event_type:
            return events
    raise AssertionError(f"connection ended before {event_type}")


async def test_text_conversation_with_the_official_sdk(server: RealtimeServer) -> None:
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=server.base_url)
    async with client.realtime.connect(model="gpt-realtime") as connection:
        created = await connection.recv()
        assert created.type == "session.created"
        assert created.session.model == "gpt-realtime"
        await connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        assert (await connection.recv()).type == "session.updated"
        await connection.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
        )
        await connection.response.create()
        events = await collect_until(connection, "response.done")
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == "You said: hello"
        assert events[-1].response.status == "completed"


async def test_audio_in_and_out_with_the_official_sdk(server: RealtimeServer) -> None:
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=server.base_url)
    async with client.realtime.connect(model="gpt-realtime") as connection:
        await connection.recv()
        await connection.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
        await connection.recv()
        pcm = (np.sin(np.arange(24_000) / 24_000 * 2 * np.pi * 200) * 8000).astype("<i2").tobytes()
        await connection.input_audio_buffer.append(audio=base64.b64encode(pcm).decode())
        await connection.input_audio_buffer.commit()
        await connection.response.create()
        events = await collect_until(connection, "response.done")
        kinds = [e.type for e in events]
        assert kinds[0] == "input_audio_buffer.committed"
        audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
        assert len(audio) > 24_000


async def test_bad_key_is_refused_before_the_upgrade(server: RealtimeServer) -> None:
    client = openai.AsyncOpenAI(api_key="sk-wrong", base_url=server.base_url)
    with pytest.raises(Exception, match="401"):
        async with client.realtime.connect(model="gpt-realtime") as connection:
            await connection.recv()


async def test_sideband_sees_the_webrtc_calls_events(server: RealtimeServer, rtc_client: Any) -> None:
    rtc = await rtc_client()
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=server.base_url)
    async with client.realtime.connect(call_id=rtc.call_id) as connection:
        await connection.session.update(session={"type": "realtime", "instructions": "From the sideband."})
        updated = await connection.recv()
        assert updated.type == "session.updated"
        assert updated.session.instructions == "From the sideband."
    assert (await rtc.wait_for("session.updated"))["session"]["instructions"] == "From the sideband."


async def test_sdk_http_calls_mint_offer_and_hang_up(server: RealtimeServer) -> None:
    from aiortc import RTCPeerConnection

    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=server.base_url)
    secret = await client.realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 60}, session={"type": "realtime", "instructions": "Hi."}
    )
    assert secret.value.startswith("ek_")
    pc = RTCPeerConnection()
    pc.createDataChannel("oai-events")
    pc.addTransceiver("audio")
    try:
        await pc.setLocalDescription(await pc.createOffer())
        answer = await client.realtime.calls.create(
            sdp=pc.localDescription.sdp, session={"type": "realtime", "model": "gpt-realtime"}
        )
        assert answer.text.startswith("v=0")
        call_id = answer.response.headers["Location"].rsplit("/", 1)[-1]
        assert call_id in server.calls
        await client.realtime.calls.hangup(call_id)
        assert call_id not in server.calls
        with pytest.raises(openai.NotFoundError):
            await client.realtime.calls.hangup(call_id)
    finally:
        await pc.close()


async def test_a_client_that_never_reads_is_disconnected_not_buffered_forever(
    server: RealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("realtime_widget.server.transports.websocket.MAX_UNSENT_BYTES", 2 * 1024 * 1024)
    big = "x" * 200_000
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": big}]}
    url = server.base_url.replace("http", "ws") + "/realtime?model=gpt-realtime"
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url, headers={"Authorization": f"Bearer {API_KEY}"}, max_msg_size=0)
        # Each item comes back twice (added, done): 400 kB of events per item, and this client never reads them.
        with contextlib.suppress(ConnectionError):  # the server may drop it while it is still sending
            for _ in range(60):
                await ws.send_str(json.dumps({"type": "conversation.item.create", "item": item}))
        for _ in range(500):  # the server gives up on the client within seconds
            if not server.calls:
                break
            await asyncio.sleep(0.02)
        assert not server.calls
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)  # the server dropped the connection; closing may fail
