"""A spoken turn end to end with the offline voice model (skipped without the ``speech`` extra): eSpeak NG speech
into the microphone, the server's VAD and PocketSphinx, the rule responder, and eSpeak NG speech back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.voice.loader import load_voice_model
from realtime_widget.server.voice.model import VoiceModel
from tests.server.clients import API_KEY, RtcClient

pytest.importorskip("pocketsphinx")
pytest.importorskip("espeakng_loader")


@pytest.fixture(scope="module")
def voice_deps() -> Any:
    deps = load_voice_model()
    yield deps
    deps.close()


@pytest.fixture
async def voice_client(
    make_server: Callable[..., Awaitable[RealtimeServer]], voice_deps: VoiceModel
) -> AsyncIterator[RtcClient]:
    server = await make_server(deps=voice_deps)
    client = RtcClient(server.base_url, API_KEY)
    response = await client.connect()
    assert response.status == 201
    await asyncio.wait_for(client.channel_open.wait(), 10)
    await client.wait_for("session.created")
    yield client
    await client.close()


async def test_a_spoken_question_gets_a_spoken_answer(voice_client: RtcClient, voice_deps: VoiceModel) -> None:
    client = voice_client
    client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
        }
    )
    await client.wait_for("session.updated")
    question = voice_deps.synthesizer.synthesize("What is the weather in Paris today?", "echo", 1.0).samples
    client.mic.play(np.concatenate([question, np.zeros(24_000 // 2, dtype=np.int16)]))
    await client.wait_for("input_audio_buffer.speech_stopped", within=15)
    transcription = await client.wait_for("conversation.item.input_audio_transcription.completed", within=15)
    assert transcription["transcript"].strip()
    done = await client.wait_for("response.done", within=20)
    assert done["response"]["status"] == "completed"
    transcript = (await client.wait_for("response.output_audio_transcript.done"))["transcript"]
    assert transcript
    await client.wait_for("output_audio_buffer.stopped", within=20)
    assert sum(1 for rms in client.audio_rms if rms > 500) >= 25  # at least half a second of audible reply
