"""WebRTC calls end to end against the in-process server, with aiortc as the browser."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from openai.types.realtime import ClientSecretCreateResponse

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY, RtcClient

Connect = Callable[..., Awaitable[RtcClient]]


async def test_offer_answer_gives_201_location_and_session_created(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    assert client.call_id is not None
    assert client.call_id.startswith("rtc_")
    assert client.call_id in server.calls
    created = await client.wait_for("session.created")
    assert created["session"]["id"].startswith("sess_")
    assert created["event_id"].startswith("event_")


async def test_answer_offers_only_loopback_candidates(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    answer = client.pc.remoteDescription.sdp
    candidates = [line for line in answer.splitlines() if line.startswith("a=candidate")]
    assert candidates
    assert all(" 127.0.0.1 " in line for line in candidates)


async def test_session_update_answers_session_updated(rtc_client: Connect) -> None:
    client = await rtc_client()
    client.send(
        {
            "type": "session.update",
            "event_id": "evt_1",
            "session": {"type": "realtime", "instructions": "Talk like a pirate."},
        }
    )
    updated = await client.wait_for("session.updated")
    assert updated["session"]["instructions"] == "Talk like a pirate."


async def test_bad_json_on_the_channel_is_an_error_and_the_session_goes_on(rtc_client: Connect) -> None:
    client = await rtc_client()
    client.channel.send("{not json")
    error = await client.wait_for("error")
    assert error["error"]["type"] == "invalid_request_error"
    client.send({"type": "no.such.event", "event_id": "evt_bad"})
    await client.wait_for("error", after=client.events.index(error) + 1)
    assert client.events[-1]["error"]["event_id"] == "evt_bad"
    client.send({"type": "session.update", "session": {"type": "realtime"}})
    await client.wait_for("session.updated")


async def test_multipart_offer_carries_the_session(rtc_client: Connect) -> None:
    client = await rtc_client(session={"type": "realtime", "instructions": "From multipart."})
    created = await client.wait_for("session.created")
    assert created["session"]["instructions"] == "From multipart."


async def test_ephemeral_key_connects_with_its_session(server: RealtimeServer, rtc_client: Connect) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{server.base_url}/realtime/client_secrets",
            headers={"Authorization": f"Bearer {API_KEY}"},
            json={"session": {"type": "realtime", "instructions": "From the key."}},
        )
        secret = ClientSecretCreateResponse.model_validate_json(await response.text())
    client = await rtc_client(key=secret.value)
    created = await client.wait_for("session.created")
    assert created["session"]["instructions"] == "From the key."
    assert created["session"]["id"] != secret.session.id  # type: ignore[union-attr]


async def test_wrong_key_is_401(rtc_client: Connect) -> None:
    client = await rtc_client(key="sk-wrong", wait=False)
    assert client.call_id is None


async def test_server_sends_paced_audio_frames(rtc_client: Connect) -> None:
    client = await rtc_client()
    await asyncio.sleep(1.0)
    # ~50 frames a second; silence while idle.
    assert 30 <= len(client.audio_rms) <= 70
    assert max(client.audio_rms) < 1.0


async def test_hangup_ends_the_call(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{server.base_url}/realtime/calls/{client.call_id}/hangup", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert response.status == 200
    assert client.call_id not in server.calls


async def test_offer_without_audio_still_gets_events(server: RealtimeServer) -> None:
    from aiortc import RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection()
    channel = pc.createDataChannel("oai-events")
    messages: list[str] = []
    channel.on("message", messages.append)
    try:
        await pc.setLocalDescription(await pc.createOffer())
        async with aiohttp.ClientSession() as http:
            response = await http.post(
                f"{server.base_url}/realtime/calls",
                data=pc.localDescription.sdp,
                headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/sdp"},
            )
            assert response.status == 201
            answer = await response.text()
        assert "m=audio" not in answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for _ in range(100):
            if messages:
                break
            await asyncio.sleep(0.05)
        assert '"session.created"' in messages[0]
        channel.send('{"type": "response.create"}')
        for _ in range(200):
            if any('"response.done"' in m for m in messages):
                break
            await asyncio.sleep(0.05)
        assert any('"response.output_audio.delta"' in m for m in messages)
        assert any('"response.done"' in m for m in messages)
    finally:
        await pc.close()
