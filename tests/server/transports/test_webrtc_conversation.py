"""Conversations over WebRTC: text over the data channel, spoken replies on the audio track, interruptions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.session.responses import GenerationTiming
from tests.server.clients import RtcClient

Connect = Callable[..., Awaitable[RtcClient]]

TEXT_SESSION = {"type": "realtime", "output_modalities": ["text"], "audio": {"input": {"turn_detection": None}}}


def user_text(text: str) -> dict[str, object]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


async def test_text_conversation(rtc_client: Connect) -> None:
    client = await rtc_client()
    client.send({"type": "session.update", "session": TEXT_SESSION})
    await client.wait_for("session.updated")
    client.send(user_text("hello"))
    client.send({"type": "response.create"})
    done = await client.wait_for("response.done")
    text = "".join(e["delta"] for e in client.events if e["type"] == "response.output_text.delta")
    assert text == "You said: hello"
    assert done["response"]["status"] == "completed"
    assert "output_audio_buffer.started" not in client.types()


async def test_spoken_reply_has_energy_and_buffer_events(rtc_client: Connect) -> None:
    client = await rtc_client()
    client.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    await client.wait_for("session.updated")
    frames_before = len(client.audio_rms)
    client.send(user_text("hi"))
    client.send({"type": "response.create"})
    started = await client.wait_for("output_audio_buffer.started")
    done = await client.wait_for("response.done", within=10)
    stopped = await client.wait_for("output_audio_buffer.stopped", within=10)
    assert started["response_id"] == done["response"]["id"] == stopped["response_id"]
    kinds = client.types()
    assert kinds.index("response.done") < kinds.index("output_audio_buffer.stopped")
    assert "response.output_audio.delta" not in kinds  # audio travels on the track, not the channel
    loud = [rms for rms in client.audio_rms[frames_before:] if rms > 1000]
    assert len(loud) >= 10  # at least 200 ms of the reply was heard
    transcript = (await client.wait_for("response.output_audio_transcript.done"))["transcript"]
    assert transcript == "You said: hi"


async def test_a_receive_only_offer_hears_spoken_replies_to_typed_turns(rtc_client: Connect) -> None:
    # A client that never sends audio offers a recvonly audio transceiver: the server answers sendonly and speaks.
    # (The widget without a microphone offers sendrecv with no track instead, for widget.play: tests/e2e/test_play.py.)
    client = await rtc_client(receive_only=True)
    audio = client.pc.remoteDescription.sdp.split("m=audio", 1)[1].split("m=application", 1)[0]
    assert "a=sendonly" in audio
    client.send(user_text("hi"))
    client.send({"type": "response.create"})
    await client.wait_for("output_audio_buffer.started", within=10)
    await client.wait_for("output_audio_buffer.stopped", within=10)
    assert len([rms for rms in client.audio_rms if rms > 1000]) >= 10
    assert (await client.wait_for("response.output_audio_transcript.done"))["transcript"] == "You said: hi"
    # The session goes on: a second typed turn is answered too.
    after = len(client.events)
    client.send(user_text("again"))
    client.send({"type": "response.create"})
    assert (await client.wait_for("response.done", within=10, after=after))["response"]["status"] == "completed"


def speech_like(ms: int) -> np.ndarray:  # type: ignore[type-arg]
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 220 * t) * 0.3 * 32767).astype(np.int16)


async def test_replies_are_generated_faster_than_heard_and_barge_in_truncates_what_was_heard(
    server: RealtimeServer, rtc_client: Connect
) -> None:
    # As the real API: response.done when generation ends, long before the audio has been heard; the server's
    # output buffer goes on playing, and a barge-in then clears it and truncates the item itself (the
    # docstrings of OutputAudioBufferStopped and OutputAudioBufferCleared in openai/types/realtime).
    client = await rtc_client()
    assert client.call_id is not None
    server.deps.script.push({"say": "word " * 60}, call_id=client.call_id)
    client.send({"type": "response.create"})
    done = await client.wait_for("response.done", within=20)
    assert done["response"]["status"] == "completed"
    assert "output_audio_buffer.stopped" not in client.types()  # still playing: stopped comes only once drained
    item_id = done["response"]["output"][0]["id"]
    await client.wait_for("output_audio_buffer.started")
    client.mic.play(speech_like(600))
    await client.wait_for("input_audio_buffer.speech_started")
    cleared = await client.wait_for("output_audio_buffer.cleared")
    truncated = await client.wait_for("conversation.item.truncated")
    assert cleared["response_id"] == done["response"]["id"]
    assert truncated["item_id"] == item_id
    assert "response.cancel" not in client.sent_types  # the client asked for nothing: the server truncated
    client.send({"type": "conversation.item.retrieve", "item_id": item_id})
    heard = (await client.wait_for("conversation.item.retrieved"))["item"]["content"][0]["transcript"].split()
    assert 0 < len(heard) < 60
    # The user's turn then completes and gets its own response.
    await client.wait_for("input_audio_buffer.committed", within=5)


async def test_user_speech_while_generating_cancels_the_reply(server: RealtimeServer, rtc_client: Connect) -> None:
    await _speech_cancels_a_reply_being_generated(server, rtc_client, "word " * 200)


@pytest.mark.parametrize("server_options", [{"timing": GenerationTiming(paced_to_playback=True)}])
async def test_paced_generation_keeps_the_response_in_progress_while_heard(
    server: RealtimeServer, rtc_client: Connect
) -> None:
    # --pace-generation: the earlier behaviour, where a reply is generated only as fast as it plays.
    await _speech_cancels_a_reply_being_generated(server, rtc_client, "word " * 60)


async def _speech_cancels_a_reply_being_generated(server: RealtimeServer, rtc_client: Connect, reply: str) -> None:
    client = await rtc_client()
    assert client.call_id is not None
    server.deps.script.push({"say": reply}, call_id=client.call_id)
    client.send({"type": "response.create"})
    await client.wait_for("output_audio_buffer.started")
    await asyncio.sleep(0.5)
    client.mic.play(speech_like(600))
    await client.wait_for("input_audio_buffer.speech_started")
    cleared = await client.wait_for("output_audio_buffer.cleared")
    truncated = await client.wait_for("conversation.item.truncated")
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    assert cleared["response_id"] == done["response"]["id"]
    assert 300 <= truncated["audio_end_ms"] <= 2500
    # The conversation keeps only what was heard.
    client.send({"type": "conversation.item.retrieve", "item_id": truncated["item_id"]})
    retrieved = await client.wait_for("conversation.item.retrieved")
    heard = retrieved["item"]["content"][0]["transcript"].split()
    assert 0 < len(heard) < 60
    # The user's turn then completes and gets its own response.
    await client.wait_for("input_audio_buffer.committed", within=5)
    second = [e for e in client.events if e["type"] == "response.created"]
    assert len(second) >= 1


async def test_output_audio_buffer_clear_stops_playback(server: RealtimeServer, rtc_client: Connect) -> None:
    client = await rtc_client()
    assert client.call_id is not None
    server.deps.script.push({"say": "word " * 40}, call_id=client.call_id)
    client.send({"type": "response.create"})
    await client.wait_for("output_audio_buffer.started")
    client.send({"type": "response.cancel"})
    client.send({"type": "output_audio_buffer.clear"})
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "cancelled"
    await client.wait_for("output_audio_buffer.cleared")


async def test_voice_turn_over_the_microphone(rtc_client: Connect) -> None:
    client = await rtc_client()
    client.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
    await client.wait_for("session.updated")
    client.mic.play(speech_like(700))
    stopped = await client.wait_for("input_audio_buffer.speech_stopped", within=5)
    committed = await client.wait_for("input_audio_buffer.committed")
    assert committed["item_id"] == stopped["item_id"]
    await client.wait_for("response.done", within=5)


async def test_a_reply_queued_behind_one_still_playing_is_announced_when_it_begins(
    server: RealtimeServer, rtc_client: Connect
) -> None:
    client = await rtc_client()
    assert client.call_id is not None
    client.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    await client.wait_for("session.updated")
    server.deps.script.push({"say": "word " * 20}, {"say": "And one more thing."}, call_id=client.call_id)
    client.send({"type": "response.create"})
    first = (await client.wait_for("response.done", within=20))["response"]["id"]
    client.send({"type": "response.create"})  # the first reply is still playing: the second queues behind it
    second = (await client.wait_for("response.done", within=20, after=len(client.events)))["response"]["id"]
    stopped = await client.wait_for("output_audio_buffer.stopped", within=30)
    started = [e["response_id"] for e in client.events if e["type"] == "output_audio_buffer.started"]
    assert started == [first, second]
    assert stopped["response_id"] == second  # one stretch of audio, stopped once, when nothing more was to come
    assert [e["type"] for e in client.events].count("output_audio_buffer.stopped") == 1
