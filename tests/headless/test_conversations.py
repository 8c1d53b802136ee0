"""Headless sessions against the real local server, over a real WebSocket and real aiortc WebRTC: spoken and typed
turns, tools, a barge-in, several sessions at once, and a dropped connection."""

from __future__ import annotations

import asyncio
import time

import pytest

from realtime_widget import RealtimeWidgetError, Session, tool
from realtime_widget.server.launcher import LocalServer

from .conftest import MakeSession

QUESTION = "what are the total sales in the north"
LONG_REPLY = (
    "Here is a long answer, so that there is time to cut in. The north sold a great deal this quarter, "
    "more than the south and the west together, and the east was close behind. Shall I go on with the details?"
)


@tool
def total_sales(region: str) -> float:
    """Total sales of a region, in dollars.

    Args:
        region: north, south, east or west.
    """
    return {"north": 1250.5}.get(region, 42.0)


async def server_call_id(server: LocalServer, session: Session) -> str:
    """The local server's id for this session's call (WebRTC: the call id; WebSocket: found by session id)."""
    if session.call_id is not None:
        return session.call_id
    calls = await asyncio.to_thread(server.calls)
    return next(c["call_id"] for c in calls if c.get("session_id") == session.api_session_id)


async def test_a_spoken_turn_is_answered_and_timed_from_the_audio(make_session: MakeSession, transport: str) -> None:
    session = await make_session(transport)
    before_ms = time.time() * 1000
    said = await session.say(QUESTION)
    reply = await session.wait_for_reply()

    assert reply.statuses == ["completed"]
    assert reply.text.startswith("You asked:")
    # Real time: the speech took as long to stream as it lasts (its first 20 ms frame goes at once).
    assert said.ended_ms >= before_ms + said.duration_ms - 20
    # Latency from the end of the synthesized speech to the first audible reply sample, as the record keeps it.
    assert reply.latency_ms is not None
    assert reply.latency_ms > 0
    heard = session.record.voice_latency
    assert len(heard) == 1
    assert heard["ms"].iloc[0] == pytest.approx(reply.latency_ms)
    assert heard["user_speech_end"].iloc[0].timestamp() * 1000 == pytest.approx(said.ended_ms, abs=0.01)
    turns = session.record.turns
    assert turns["voice_to_voice_ms"].iloc[-1] == pytest.approx(reply.latency_ms)
    # Server VAD ends the turn after its silence: the audio-measured latency includes that wait.
    assert turns["voice_to_voice_ms"].iloc[-1] > turns["latency_ms"].iloc[-1]
    transcript = session.record.transcript
    assert transcript["role"].tolist() == ["user", "assistant"]
    heard_user = transcript["text"].iloc[0]
    assert heard_user.startswith("what")  # offline recognition of eSpeak is close, not exact
    assert heard_user in reply.text  # the offline responder repeats what it recognized
    assert not transcript["interrupted"].any()


async def test_a_typed_turn_is_answered(make_session: MakeSession, transport: str) -> None:
    session = await make_session(transport)
    await session.send_text("hello")
    reply = await session.wait_for_reply()

    assert reply.text == "Hello! How can I help you today?"
    assert reply.latency_ms is None  # nobody spoke
    assert session.record.transcript[["role", "text"]].values.tolist() == [
        ["user", "hello"],
        ["assistant", "Hello! How can I help you today?"],
    ]
    sent = session.record.events.query("direction == 'client'")["type"].tolist()
    assert sent[-2:] == ["conversation.item.create", "response.create"]


async def test_a_tool_is_called_and_answered_as_in_the_widget(make_session: MakeSession, transport: str) -> None:
    session = await make_session(transport, tools=[total_sales], instructions="Answer with the tools.")
    await session.send_text(QUESTION)
    reply = await session.wait_for_reply()

    assert [call["name"] for call in reply.tool_calls] == ["total_sales"]
    assert len(reply.response_ids) == 2  # the call, then the answer that uses its output
    assert "1250.5" in reply.text
    calls = session.record.tool_calls
    assert calls[["name", "output"]].values.tolist() == [["total_sales", "1250.5"]]
    assert calls["error"].isna().all()
    events = [session.record.event(i) or {} for i in range(len(session.record))]
    created = [e["item"] for e in events if e.get("type") == "conversation.item.create"]
    call_id = calls["call_id"].iloc[0]
    assert created[-1] == {"type": "function_call_output", "call_id": call_id, "output": "1250.5"}


async def test_a_barge_in_cuts_the_reply_where_it_was_heard(
    make_session: MakeSession, transport: str, local_server: LocalServer
) -> None:
    session = await make_session(transport)
    call_id = await server_call_id(local_server, session)
    await asyncio.to_thread(local_server.script, [{"say": LONG_REPLY}], call_id)
    await session.send_text("tell me everything")
    await session.interrupt("stop please", after_ms=1500)
    answer = await session.wait_for_reply()

    # The reply to the barge-in, not the response it cut off, ends the wait.
    assert answer.interrupted
    assert answer.statuses[-1] == "completed"
    assert "You said:" in answer.text  # the offline responder repeats what it heard (roughly)

    transcript = session.record.transcript
    cut = transcript[transcript["interrupted"]]
    assert len(cut) == 1, transcript.to_string()
    assert answer.text.startswith(cut["text"].iloc[0])  # only what was heard of the cut reply
    # Generation runs ahead of playback, and the cut response stops generating too.
    generated, heard_text = cut["generated_text"].iloc[0], cut["text"].iloc[0]
    assert LONG_REPLY.startswith(generated)
    assert 0 < len(heard_text) < len(generated)
    assert generated.startswith(heard_text)
    heard_ms = cut["audio_end_ms"].iloc[0]
    # Cut at least 1.5 s in (the barge-in's offset) plus the VAD's detection, well before the reply's end.
    assert 1500 <= heard_ms < 8000
    assert session.record.turns["interrupted"].iloc[0]
    events = session.record.events
    if transport == "websocket":
        # The listener tells the server what it heard; the server confirms the cut at that point.
        truncate = events[(events["direction"] == "client") & (events["type"] == "conversation.item.truncate")]
        assert len(truncate) == 1
        assert session.record.event(int(truncate.index[0]))["audio_end_ms"] == heard_ms
    assert (events["type"] == "conversation.item.truncated").sum() == 1


async def test_several_sessions_run_concurrently_on_one_loop(make_session: MakeSession) -> None:
    transports = ["websocket", "websocket", "websocket", "webrtc"]
    sessions = await asyncio.gather(*(make_session(t) for t in transports))

    async def converse(session: Session) -> None:
        await session.say(QUESTION)
        await session.wait_for_reply()
        await session.send_text("hello")
        await session.wait_for_reply()

    await asyncio.gather(*(converse(s) for s in sessions))
    for session in sessions:
        assert session.record.transcript["role"].tolist() == ["user", "assistant", "user", "assistant"]
        assert len(session.record.voice_latency) == 1
    assert len({s.api_session_id for s in sessions}) == len(sessions)


async def test_a_dropped_connection_fails_clearly_and_keeps_the_record(
    make_session: MakeSession, transport: str, local_server: LocalServer
) -> None:
    session = await make_session(transport)
    await session.send_text("hello")
    await session.wait_for_reply()
    recorded = len(session.record)
    call_id = await server_call_id(local_server, session)
    await asyncio.to_thread(local_server.drop_call, call_id)

    with pytest.raises(RealtimeWidgetError, match="connection was lost") as failure:
        await session.wait_for("session.updated", timeout=60)
    assert failure.value.code == "channel_closed"
    assert session.status == "failed"
    assert session.error is not None
    assert "session.record" in session.error.message
    assert len(session.record) >= recorded
    assert session.record.transcript["text"].tolist() == ["hello", "Hello! How can I help you today?"]
    timeline = session.record.timeline
    assert timeline["what"].tolist()[-1] == "failed"
    with pytest.raises(RealtimeWidgetError, match="connection was lost"):
        await session.send_text("anyone there?")
    with pytest.raises(RealtimeWidgetError):
        await session.say("hello")


async def test_without_a_key_the_local_server_is_used(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("REALTIME_WIDGET_LOCAL_SERVER_URL", local_server.base_url)
    monkeypatch.setenv("REALTIME_WIDGET_LOCAL_SERVER_KEY", local_server.api_key)
    monkeypatch.setattr("realtime_widget.endpoint._local_server", None)  # attach afresh, and forget it after
    async with Session(voice="cedar") as session:
        assert session.local_server is not None
        await session.send_text("hello")
        reply = await session.wait_for_reply()
    assert reply.text
    assert session.status == "closed"
    assert session.record.validate().empty
    assert local_server.api_key not in repr(session)
