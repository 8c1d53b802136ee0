"""Spoken conversations with the offline voice model: the user's voice is made by eSpeak NG in the test and sent
over real WebRTC (aiortc client) or the official ``openai`` SDK's WebSocket; the server hears it with its VAD and
PocketSphinx, answers with its responder, and speaks with eSpeak NG. Recognition is rough, so assertions on what
was heard are loose; everything else (events, audio energy, tool calls) is exact.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import numpy as np
import openai
import pytest

from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.loader import load_voice_model
from realtime_widget.server.voice.model import VoiceModel
from realtime_widget.server.voice.tts import EspeakSynthesizer
from tests.server.clients import API_KEY, RtcClient

pytest.importorskip("pocketsphinx", reason="the offline voice model needs the speech extra")
pytest.importorskip("espeakng_loader", reason="the offline voice model needs the speech extra")

MakeServer = Callable[..., Awaitable[RealtimeServer]]
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TRANSCRIBE = {"model": "whisper-1"}
LOUD_RMS = 1000.0  # a 48 kHz PCM16 frame this loud is speech, not silence


@pytest.fixture(scope="module")
def user_voice() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def say(voice: EspeakSynthesizer, text: str, trailing_ms: int = 900) -> Pcm16:
    """What the user says into the microphone: eSpeak speech with a little silence before and after."""
    speech = voice.synthesize(text, "alloy", 0.9).samples
    before = np.zeros(SAMPLE_RATE * 3 // 10, dtype=np.int16)
    after = np.zeros(SAMPLE_RATE * trailing_ms // 1000, dtype=np.int16)
    return np.concatenate([before, speech, after])


@pytest.fixture(scope="module")
def voice_deps() -> Iterator[VoiceModel]:
    """One offline voice model (with its recognition worker) for the whole module."""
    deps = load_voice_model()
    yield deps
    deps.close()


@pytest.fixture
async def voice_server(make_server: MakeServer, voice_deps: VoiceModel) -> RealtimeServer:
    return await make_server(deps=voice_deps)


@pytest.fixture
async def call(voice_server: RealtimeServer) -> AsyncIterator[Callable[[dict[str, Any]], Awaitable[RtcClient]]]:
    """``client = await call(session)``: a WebRTC call configured with ``session`` (multipart), channel open."""
    clients: list[RtcClient] = []

    async def connect(session: dict[str, Any]) -> RtcClient:
        client = RtcClient(voice_server.base_url, API_KEY)
        clients.append(client)
        response = await client.connect({"type": "realtime", **session})
        assert response.status == 201
        await asyncio.wait_for(client.channel_open.wait(), 10)
        await client.wait_for("session.created")
        return client

    yield connect
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def loud_frames(client: RtcClient, since: int) -> int:
    return sum(rms > LOUD_RMS for rms in client.audio_rms[since:])


async def test_spoken_turn_is_heard_answered_and_spoken(call: Any, user_voice: EspeakSynthesizer) -> None:
    client = await call(
        {
            "instructions": 'Always start with "Welcome to the local server."',
            "audio": {"input": {"transcription": TRANSCRIBE, "turn_detection": {"type": "server_vad"}}},
        }
    )
    frames_before = len(client.audio_rms)
    utterance = say(user_voice, "What time is it?")
    client.mic.play(utterance)
    started = await client.wait_for("input_audio_buffer.speech_started", within=15)
    stopped = await client.wait_for("input_audio_buffer.speech_stopped", within=15)
    assert started["item_id"] == stopped["item_id"]
    spoken_ms = stopped["audio_end_ms"] - started["audio_start_ms"]
    assert 500 <= spoken_ms <= utterance.size * 1000 // SAMPLE_RATE + 300  # speech plus the prefix padding
    committed = await client.wait_for("input_audio_buffer.committed", within=10)
    assert committed["item_id"] == stopped["item_id"]
    heard = await client.wait_for("conversation.item.input_audio_transcription.completed", within=20)
    assert heard["item_id"] == committed["item_id"]
    assert heard["transcript"].strip()  # PocketSphinx heard some words (which ones varies)
    done = await client.wait_for("response.done", within=30)
    assert done["response"]["status"] == "completed"
    transcript = (await client.wait_for("response.output_audio_transcript.done"))["transcript"]
    assert transcript.startswith("Welcome to the local server.")
    await client.wait_for("output_audio_buffer.stopped", within=30)
    assert loud_frames(client, frames_before) >= 25  # at least half a second of the spoken answer arrived


async def test_spoken_request_calls_a_tool_and_speaks_its_result(call: Any, user_voice: EspeakSynthesizer) -> None:
    client = await call(
        {
            "tools": [WEATHER],
            # Forced, because whether PocketSphinx hears "weather" varies; matching by words is unit-tested.
            "tool_choice": {"type": "function", "name": "get_weather"},
            "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 400}}},
        }
    )
    client.mic.play(say(user_voice, "What is the weather in Paris today?"))
    arguments_done = await client.wait_for("response.function_call_arguments.done", within=30)
    assert arguments_done["name"] == "get_weather"
    assert "city" in json.loads(arguments_done["arguments"])
    await client.wait_for("response.done", within=10)
    after = len(client.events)
    client.send({"type": "session.update", "session": {"type": "realtime", "tool_choice": "auto"}})
    client.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": arguments_done["call_id"],
                "output": json.dumps({"temperature_c": 18, "sky": "cloudy"}),
            },
        }
    )
    client.send({"type": "response.create"})
    spoken = await client.wait_for("response.output_audio_transcript.done", within=30, after=after)
    assert spoken["transcript"] == "get_weather returned temperature c 18, sky cloudy."


async def test_user_speech_interrupts_a_spoken_answer(
    voice_server: RealtimeServer, call: Any, user_voice: EspeakSynthesizer
) -> None:
    client = await call({"audio": {"input": {"turn_detection": {"type": "server_vad"}}}})
    voice_server.deps.script.push({"say": "This is a long answer. " * 12}, call_id=client.call_id)
    client.send({"type": "response.create"})
    await client.wait_for("output_audio_buffer.started", within=15)
    await asyncio.sleep(0.8)
    client.mic.play(say(user_voice, "Stop, please."))
    await client.wait_for("input_audio_buffer.speech_started", within=15)
    cleared = await client.wait_for("output_audio_buffer.cleared", within=10)
    truncated = await client.wait_for("conversation.item.truncated", within=10)
    done = await client.wait_for("response.done", within=10)
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    assert cleared["response_id"] == done["response"]["id"]
    assert 500 <= truncated["audio_end_ms"] <= 6000
    # The interrupting turn is then heard and answered in full.
    second = await client.wait_for("response.done", within=30, after=client.events.index(done) + 1)
    assert second["response"]["status"] == "completed"


async def test_push_to_talk_without_turn_detection(call: Any, user_voice: EspeakSynthesizer) -> None:
    client = await call({"audio": {"input": {"transcription": TRANSCRIBE, "turn_detection": None}}})
    client.send({"type": "input_audio_buffer.clear"})
    await client.wait_for("input_audio_buffer.cleared")
    utterance = say(user_voice, "My name is John and I live in New York.", trailing_ms=300)
    frames_before = len(client.audio_rms)
    client.mic.play(utterance)
    await asyncio.sleep(utterance.size / SAMPLE_RATE + 0.5)  # the button is held while the user speaks
    client.send({"type": "input_audio_buffer.commit"})
    client.send({"type": "response.create"})
    committed = await client.wait_for("input_audio_buffer.committed", within=10)
    heard = await client.wait_for("conversation.item.input_audio_transcription.completed", within=20)
    assert heard["item_id"] == committed["item_id"]
    assert heard["transcript"].strip()
    done = await client.wait_for("response.done", within=30)
    assert done["response"]["status"] == "completed"
    assert "input_audio_buffer.speech_started" not in client.types()
    await client.wait_for("output_audio_buffer.stopped", within=30)
    assert loud_frames(client, frames_before) >= 25


async def collect_until(connection: Any, event_type: str, within: float = 30.0) -> list[Any]:
    events: list[Any] = []

    async def read() -> list[Any]:
        async for event in connection:
            events.append(event)
            if event.type == event_type:
                return events
        raise AssertionError(f"connection ended before {event_type}; got {[e.type for e in events]}")

    try:
        return await asyncio.wait_for(read(), within)
    except TimeoutError as exc:
        raise AssertionError(f"no {event_type} within {within} s; got {[e.type for e in events]}") from exc


async def test_spoken_turn_and_tool_call_over_websocket_with_the_official_sdk(
    voice_server: RealtimeServer, user_voice: EspeakSynthesizer
) -> None:
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=voice_server.base_url)
    async with client.realtime.connect(model="gpt-realtime") as connection:
        assert (await connection.recv()).type == "session.created"
        await connection.session.update(
            session={
                "type": "realtime",
                "tools": [WEATHER],  # type: ignore[list-item]
                "tool_choice": {"type": "function", "name": "get_weather"},
                "audio": {"input": {"transcription": {"model": "whisper-1"}, "turn_detection": {"type": "server_vad"}}},
            }
        )
        assert (await connection.recv()).type == "session.updated"
        pcm = say(user_voice, "What is the weather in Paris today?").astype("<i2").tobytes()
        step = SAMPLE_RATE * 2 // 10  # 100 ms per append, as a client streaming a microphone would
        for start in range(0, len(pcm), step):
            await connection.input_audio_buffer.append(audio=base64.b64encode(pcm[start : start + step]).decode())
        events = await collect_until(connection, "response.done")
        kinds = [e.type for e in events]
        for expected in (
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.input_audio_transcription.completed",
            "response.function_call_arguments.done",
        ):
            assert expected in kinds, kinds
        call = next(e for e in events if e.type == "response.function_call_arguments.done")
        assert call.name == "get_weather"
        await connection.session.update(session={"type": "realtime", "tool_choice": "auto"})
        await connection.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature_c": 18}'}
        )
        await connection.response.create()
        events = await collect_until(connection, "response.done")
        audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float64)
        assert samples.size > SAMPLE_RATE  # more than a second of speech
        assert np.sqrt(np.mean(samples**2)) > 500
        transcript = next(e for e in events if e.type == "response.output_audio_transcript.done").transcript
        assert transcript == "get_weather returned temperature c 18."
