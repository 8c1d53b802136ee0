"""Huge session objects are refused with the API's errors when a key is minted or a call opened, and nothing of
them is kept: the key store holds only what it accepted."""

from __future__ import annotations

import json

import aiohttp
import pytest

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MANY_TOOLS = [{"type": "function", "name": f"tool_{i}", "parameters": {"type": "object"}} for i in range(5000)]
HUGE = {
    "instructions of megabytes": ({"instructions": "Be brief. " * 400_000}, "string_above_max_length"),
    "thousands of tools": ({"tools": MANY_TOOLS}, "array_above_max_length"),
    "a megabyte of tool descriptions": (
        {"tools": [{"type": "function", "name": f"t{i}", "description": "d" * 20_000} for i in range(100)]},
        "session_too_large",
    ),
}


@pytest.mark.parametrize("case", list(HUGE))
async def test_a_huge_session_is_refused_and_not_stored(server: RealtimeServer, case: str) -> None:
    session, code = HUGE[case]
    body = {"session": {"type": "realtime", **session}}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.base_url}/realtime/client_secrets", json=body, headers=AUTH) as response,
    ):
        text = await response.text()
        assert response.status == 400, text[:300]
    error = json.loads(text)["error"]
    assert (error["code"], error["type"]) == (code, "invalid_request_error")
    assert len(text) < 2000  # the refusal does not echo the object back
    assert len(server.keys) == 0


async def test_a_huge_session_on_a_call_is_refused(server: RealtimeServer) -> None:
    form = aiohttp.FormData()
    form.add_field("sdp", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", content_type="application/sdp")
    form.add_field("session", json.dumps({"type": "realtime", "tools": MANY_TOOLS}), content_type="application/json")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.base_url}/realtime/calls", data=form, headers=AUTH) as response,
    ):
        text = await response.text()
        assert response.status == 400, text[:300]
    assert json.loads(text)["error"]["code"] == "array_above_max_length"
    assert server.calls == {}
