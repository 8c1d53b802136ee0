"""The control API (``/_local/``), independent concurrent calls, and dropped peers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY, RtcClient

Connect = Callable[..., Awaitable[RtcClient]]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


async def control(
    server: RealtimeServer, method: str, path: str, body: Any = None, key: str = API_KEY
) -> tuple[int, Any]:
    root = server.base_url.removesuffix("/v1")
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"{root}/_local/{path}", json=body, headers={"Authorization": f"Bearer {key}"}
        ) as response,
    ):
        return response.status, await response.json()


async def test_control_needs_the_standard_key(server: RealtimeServer) -> None:
    status, body = await control(server, "GET", "calls", key="sk-wrong")
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"


async def test_calls_lists_each_call(server: RealtimeServer, rtc_client: Connect) -> None:
    a = await rtc_client()
    b = await rtc_client()
    status, body = await control(server, "GET", "calls")
    assert status == 200
    assert {c["call_id"] for c in body["calls"]} == {a.call_id, b.call_id}
    assert all(c["transport"] == "webrtc" and c["channel_open"] for c in body["calls"])


async def test_script_drives_the_next_responses(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "output_modalities": ["text"],
                "audio": {"input": {"turn_detection": None}},
            },
        }
    )
    await client.wait_for("session.updated")
    status, _ = await control(
        server,
        "POST",
        "script",
        {"turns": [{"call_tool": {"name": "lookup", "arguments": {"q": "x"}}}, {"say": "Found it."}]},
    )
    assert status == 200
    client.send({"type": "response.create"})
    args = await client.wait_for("response.function_call_arguments.done")
    assert args["name"] == "lookup"
    first_done = await client.wait_for("response.done")
    client.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": args["call_id"], "output": "42"},
        }
    )
    client.send({"type": "response.create"})
    await client.wait_for("response.done", after=client.events.index(first_done) + 1)
    assert (await client.wait_for("response.output_text.done"))["text"] == "Found it."


async def test_script_rejects_bad_turns_and_unknown_calls(server: RealtimeServer) -> None:
    status, _ = await control(server, "POST", "script", {"turns": [{"sing": "la"}]})
    assert status == 400
    status, _ = await control(server, "POST", "script", {"turns": [], "call_id": "rtc_nope"})
    assert status == 404


async def test_say_speaks_unprompted(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    status, body = await control(server, "POST", f"calls/{client.call_id}/say", {"text": "Good morning."})
    assert status == 200
    done = await client.wait_for("response.done", within=10)
    assert done["response"]["id"] == body["response_id"]
    assert (await client.wait_for("response.output_audio_transcript.done"))["transcript"] == "Good morning."


async def test_close_channel_keeps_the_call(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    status, _ = await control(server, "POST", f"calls/{client.call_id}/close_channel")
    assert status == 200
    await asyncio.sleep(0.3)
    assert client.channel.readyState == "closed"
    assert client.call_id in server.calls


async def test_dropping_one_call_leaves_the_others(server: RealtimeServer, rtc_client: Connect) -> None:
    clients = [await rtc_client() for _ in range(3)]
    status, _ = await control(server, "POST", f"calls/{clients[0].call_id}/drop")
    assert status == 200
    assert clients[0].call_id not in server.calls
    for other in clients[1:]:
        other.send({"type": "session.update", "session": {"type": "realtime", "instructions": "ok"}})
        await other.wait_for("session.updated")
    status, _ = await control(server, "POST", "calls/rtc_gone/drop")
    assert status == 404


async def test_a_client_that_vanishes_is_dropped(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    other = await rtc_client()
    await client.pc.close()
    for _ in range(100):
        if client.call_id not in server.calls:
            break
        await asyncio.sleep(0.1)
    assert client.call_id not in server.calls
    assert other.call_id in server.calls


async def test_stop_closes_every_call(rtc_client: Connect, server: RealtimeServer) -> None:
    for _ in range(3):
        await rtc_client()
    await server.stop()
    assert server.calls == {}
