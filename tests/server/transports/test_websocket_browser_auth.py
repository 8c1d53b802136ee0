"""The browser's form of WebSocket authentication: the ephemeral key in the subprotocol list, as
``["realtime", "openai-insecure-api-key.<key>"]`` (openai-agents-js, ``openaiRealtimeWebsocket.ts``), since a
browser cannot set an ``Authorization`` header on a WebSocket; and barge-in truncation as a WebSocket client does it."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from openai.types.realtime import RealtimeServerEvent
from pydantic import TypeAdapter

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY

SERVER_EVENT: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)


async def mint(http: aiohttp.ClientSession, server: RealtimeServer) -> str:
    async with http.post(
        f"{server.base_url}/realtime/client_secrets",
        json={"session": {"type": "realtime", "model": "gpt-realtime"}},
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as response:
        assert response.status == 200
        return str((await response.json())["value"])


def ws_url(server: RealtimeServer) -> str:
    return server.base_url.replace("http", "ws", 1) + "/realtime"


async def next_event(ws: aiohttp.ClientWebSocketResponse, event_type: str) -> dict[str, Any]:
    async for message in ws:
        event = json.loads(message.data)
        SERVER_EVENT.validate_python(event)
        if event["type"] == event_type:
            return dict(event)
    raise AssertionError(f"socket closed before {event_type}")


async def test_ephemeral_key_in_the_subprotocol_list_opens_a_session(server: RealtimeServer) -> None:
    async with aiohttp.ClientSession() as http:
        key = await mint(http, server)
        protocols = ("realtime", f"openai-insecure-api-key.{key}", "openai-agents-sdk.0.1")
        async with http.ws_connect(ws_url(server), protocols=protocols) as ws:
            # The server picks "realtime", never echoes the key back.
            assert ws.protocol == "realtime"
            created = await next_event(ws, "session.created")
            assert created["session"]["type"] == "realtime"


@pytest.mark.parametrize(
    "protocols",
    [
        ("realtime", "openai-insecure-api-key.ek_not_a_key_the_server_minted"),
        ("realtime",),
        ("realtime", "Bearer.{key}"),  # not the API's form
        ("realtime", "openai-insecure-api-key"),  # no key after the prefix
    ],
)
async def test_anything_else_is_refused_before_the_upgrade_with_the_api_error(
    server: RealtimeServer, protocols: tuple[str, ...]
) -> None:
    async with aiohttp.ClientSession() as http:
        key = await mint(http, server)
        offered = tuple(p.format(key=key) for p in protocols)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(server), protocols=offered)
        assert refused.value.status == 401


async def test_the_refusal_body_is_the_api_error_shape(server: RealtimeServer) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"Sec-WebSocket-Protocol": "realtime, openai-insecure-api-key.ek_wrong"}
        async with http.get(ws_url(server), headers=headers) as response:
            assert response.status == 401
            body = await response.json()
            assert body["error"]["code"] == "invalid_api_key"


async def test_a_client_truncation_after_barge_in_is_confirmed_at_what_was_heard(server: RealtimeServer) -> None:
    # Over WebSocket the client plays the audio, so when it stops the reply (the widget's Stop: cancel, then
    # truncate) it tells the server how much was heard.
    async with aiohttp.ClientSession() as http:
        key = await mint(http, server)
        protocols = ("realtime", f"openai-insecure-api-key.{key}")
        async with http.ws_connect(ws_url(server), protocols=protocols, max_msg_size=0) as ws:
            await next_event(ws, "session.created")
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Tell me more."}]}
            await ws.send_json({"type": "conversation.item.create", "item": item})
            await ws.send_json({"type": "response.create"})
            delta = await next_event(ws, "response.output_audio.delta")
            await ws.send_json({"type": "response.cancel"})
            await ws.send_json(
                {
                    "type": "conversation.item.truncate",
                    "item_id": delta["item_id"],
                    "content_index": delta["content_index"],
                    "audio_end_ms": 120,
                }
            )
            truncated = await next_event(ws, "conversation.item.truncated")
            assert truncated["item_id"] == delta["item_id"]
            assert truncated["audio_end_ms"] == 120
