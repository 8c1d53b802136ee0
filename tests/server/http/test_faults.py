"""Faults tests can arm through ``/_local/``: a server clock run ahead (keys expire, sessions reach their limit),
the next call answered with a 500, or with candidates nothing listens on. Each is the API's answer, in its shape."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp

from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.http.faults import unreachable_candidates
from tests.server.clients import API_KEY, RtcClient

from .test_control_routes import control


async def _mint(server: RealtimeServer, seconds: int = 10) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.base_url}/realtime/client_secrets",
            json={"expires_after": {"anchor": "created_at", "seconds": seconds}},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response,
    ):
        assert response.status == 200
        return str((await response.json())["value"])


async def test_a_key_expires_when_the_clock_is_run_past_its_lifetime(server: RealtimeServer) -> None:
    key = await _mint(server, seconds=10)
    status, body = await control(server, "POST", "clock", {"advance_s": 11})
    assert (status, body) == (200, {"clock_ahead_s": 11.0})
    client = RtcClient(server.base_url, key)
    try:
        response = await client.connect()
        assert response.status == 401
        error = (await response.json())["error"]
        assert error["code"] == "invalid_api_key"
        assert "expired" in error["message"]
    finally:
        await client.close()
    # A key minted after the jump lives its full time on the advanced clock.
    fresh = RtcClient(server.base_url, await _mint(server))
    try:
        assert (await fresh.connect()).status == 201
    finally:
        await fresh.close()


async def test_a_live_session_reaches_its_time_limit_when_the_clock_is_run_ahead(
    make_server: Callable[..., Awaitable[RealtimeServer]],
) -> None:
    server = await make_server()  # the API's 60 minutes
    client = RtcClient(server.base_url, API_KEY)
    try:
        assert (await client.connect()).status == 201
        await client.wait_for("session.created")
        started = time.monotonic()
        await control(server, "POST", "clock", {"advance_s": 59 * 60})
        await control(server, "POST", "clock", {"advance_s": 60})
        error = await client.wait_for("error", within=5)
        assert time.monotonic() - started < 5
        assert error["error"] == {
            "type": "invalid_request_error",
            "code": "session_expired",
            "message": "Your session hit the maximum duration of 60 minutes.",
            "param": None,
            "event_id": None,
        }
        for _ in range(50):
            if client.call_id not in server.calls:
                break
            await asyncio.sleep(0.1)
        assert client.call_id not in server.calls
    finally:
        await client.close()


async def test_the_clock_must_move_forward(server: RealtimeServer) -> None:
    for bad in (0, -5, "60", True, None):
        status, body = await control(server, "POST", "clock", {"advance_s": bad})
        assert status == 400, bad
        assert body["error"]["code"] == "invalid_value"


async def test_the_next_call_fails_once_with_a_500_in_the_apis_shape(server: RealtimeServer) -> None:
    status, _ = await control(server, "POST", "faults/next_call", {"fault": "server_error"})
    assert status == 200
    failing = RtcClient(server.base_url, API_KEY)
    try:
        response = await failing.connect()
        assert response.status == 500
        assert response.content_type == "application/json"
        assert (await response.json())["error"]["type"] == "server_error"
    finally:
        await failing.close()
    assert server.calls == {}
    after = RtcClient(server.base_url, API_KEY)
    try:
        assert (await after.connect()).status == 201
    finally:
        await after.close()


async def test_unreachable_ice_moves_every_candidate_to_a_closed_port(server: RealtimeServer) -> None:
    await control(server, "POST", "faults/next_call", {"fault": "unreachable_ice"})
    client = RtcClient(server.base_url, API_KEY)
    try:
        response = await client.connect()
        assert response.status == 201
        ports = {line.split()[5] for line in (await response.text()).splitlines() if line.startswith("a=candidate")}
        assert len(ports) == 1
        call = server.calls[str(client.call_id)]
        assert call.describe()["connection_state"] != "connected"
    finally:
        await client.close()
        if client.call_id is not None:
            await server.end_call(client.call_id)


def test_unreachable_candidates_keeps_the_rest_of_the_line() -> None:
    sdp = "v=0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n"
    moved = unreachable_candidates(sdp)
    line = moved.splitlines()[1]
    assert line.startswith("a=candidate:1 1 udp 2130706431 127.0.0.1 ")
    assert line.endswith(" typ host")
    assert line.split()[5] != "5000"
    assert moved.endswith("a=end-of-candidates\r\n")


async def test_an_unknown_fault_is_refused(server: RealtimeServer) -> None:
    status, body = await control(server, "POST", "faults/next_call", {"fault": "meteor"})
    assert status == 400
    assert body["error"]["param"] == "fault"
