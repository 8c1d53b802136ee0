"""The rest of a headless session's controls against the real local server, over both transports: an image turn,
live config changes (confirmed, and refused then rolled back), cancelling a reply while it is heard, and
push-to-talk (turn detection off, the spoken audio committed by the session)."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from realtime_widget import RealtimeWidgetError
from realtime_widget.server.launcher import LocalServer

from .conftest import MakeSession
from .test_conversations import LONG_REPLY, QUESTION, server_call_id


def _client_events(session: object, kind: str) -> list[dict[str, object]]:
    record = session.record  # type: ignore[attr-defined]
    events = record.events
    rows = events[(events["direction"] == "client") & (events["type"] == kind)]
    return [record.event(int(i)) for i in rows.index]


async def test_an_image_turn_is_answered_about_the_image(make_session: MakeSession, transport: str) -> None:
    session = await make_session(transport)
    png = io.BytesIO()
    PILImage.new("RGB", (64, 48), "navy").save(png, format="PNG")
    await session.send_image(png.getvalue(), "what is this")
    reply = await session.wait_for_reply()

    # The local model cannot see; it names what it was shown, so the image is known to have arrived whole.
    assert reply.text.startswith("I see a 64 by 48 PNG."), reply.text
    (created,) = _client_events(session, "conversation.item.create")
    content = created["item"]["content"]  # type: ignore[index]
    assert [part["type"] for part in content] == ["input_image", "input_text"]
    assert content[0]["image_url"].startswith("data:image/png;base64,")
    assert content[1]["text"] == "what is this"


async def test_update_session_is_confirmed_or_refused_and_rolled_back(
    make_session: MakeSession, transport: str
) -> None:
    session = await make_session(transport, voice="marin")
    confirmed = await session.update_session(instructions='Always answer with "Blue skies."')
    assert confirmed.instructions == 'Always answer with "Blue skies."'
    update = _client_events(session, "session.update")[-1]  # the first is the one connecting sent
    assert set(update["session"]) == {"type", "instructions"}  # type: ignore[arg-type]  # only what changed
    await session.send_text("what is the weather")
    assert (await session.wait_for_reply()).text == "Blue skies."

    # As the real API: the voice cannot change once the assistant has spoken; the config goes back.
    with pytest.raises(RealtimeWidgetError) as refused:
        await session.update_session(voice="cedar")
    assert refused.value.code == "cannot_update_voice"
    assert session.config.voice == "marin"
    with pytest.raises(ValueError, match="model cannot change"):
        session.update_session(model="gpt-realtime-mini")
    # The session goes on after the refusal.
    assert session.status == "connected"
    await session.send_text("hello")
    assert (await session.wait_for_reply()).text == "Blue skies."


async def test_cancel_response_stops_the_reply_where_it_was_heard(
    make_session: MakeSession, transport: str, local_server: LocalServer
) -> None:
    session = await make_session(transport)
    call_id = await server_call_id(local_server, session)
    local_server.script([{"say": LONG_REPLY}, {"say": "Still here."}], call_id)
    await session.send_text("tell me everything")
    await session.wait_for(lambda e: e.get("type") in ("output_audio_buffer.started", "response.output_audio.delta"))
    session.cancel_response()
    reply = await session.wait_for_reply()

    assert reply.interrupted
    transcript = session.record.transcript
    said = transcript[transcript["role"] == "assistant"]["text"].iloc[-1]
    assert LONG_REPLY.startswith(said)
    assert len(said) < len(LONG_REPLY)
    if transport == "webrtc":
        # The server stops generating and drops the audio not yet played (response.cancel, then
        # output_audio_buffer.clear); as on the API, only a VAD barge-in truncates the item over WebRTC.
        assert reply.status == "cancelled"
        assert (session.record.events["type"] == "output_audio_buffer.cleared").sum() == 1
    else:
        # Over WebSocket the session plays the audio itself: it stops and truncates the item at what was heard.
        cut = transcript[transcript["interrupted"]]
        assert len(cut) == 1, transcript.to_string()
        assert (session.record.events["type"] == "conversation.item.truncated").sum() == 1
    # The session answers the next turn.
    await session.send_text("are you there")
    assert (await session.wait_for_reply()).text == "Still here."


async def test_push_to_talk_commits_the_spoken_audio(make_session: MakeSession, transport: str) -> None:
    session = await make_session(transport, turn_detection=None)
    reply = await session.turn(QUESTION)

    assert reply.statuses == ["completed"]
    assert reply.text.startswith("You asked:")
    sent = session.record.events.query("direction == 'client'")["type"].tolist()
    assert sent[-2:] == ["input_audio_buffer.commit", "response.create"]
    received = set(session.record.events.query("direction == 'server'")["type"])
    assert "input_audio_buffer.committed" in received
    assert "input_audio_buffer.speech_started" not in received  # no server VAD: the session ended the turn
    assert session.record.transcript["role"].tolist() == ["user", "assistant"]
    assert reply.latency_ms is not None
    assert reply.latency_ms > 0
