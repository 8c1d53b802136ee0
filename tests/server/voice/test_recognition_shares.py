"""Recognition shared fairly between sessions: a queue per session, a time budget per turn, a hung worker replaced.

One session committing a very long buffer must not hold up another session's spoken turn, a turn over its budget
fails for its own session only, and a worker that hangs is replaced without the other sessions noticing. Real
PocketSphinx in its worker process, real eSpeak NG speech; assertions are on order and outcome, never on time.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

import numpy as np
import pytest

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.asr import RecognitionFailedError, RecognizerUnavailableError
from realtime_widget.server.voice.asr_scheduler import MAX_TURNS_PER_SESSION, FairRecognizer, TurnBudgetExceededError
from realtime_widget.server.voice.loader import load_voice_model
from realtime_widget.server.voice.model import VoiceModel
from realtime_widget.server.voice.tts import EspeakSynthesizer
from tests.server.clients import EngineHarness

pytest.importorskip("pocketsphinx", reason="recognition needs the speech extra")
pytest.importorskip("espeakng_loader", reason="speech needs the speech extra")

TRANSCRIBE = {"model": "whisper-1"}
DEADLINE_S = 120  # only a bound on a hang; the assertions are about order


def noise(seconds: float, seed: int = 1) -> Pcm16:
    """Loud noise: every frame is 'voiced', so the recognizer has to decode all of it."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, 3000, int(seconds * SAMPLE_RATE)), -32768, 32767).astype(np.int16)


@pytest.fixture(scope="module")
def voice() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def spoken(voice: EspeakSynthesizer, text: str) -> Pcm16:
    silence = np.zeros(SAMPLE_RATE // 2, dtype=np.int16)
    return np.concatenate([silence, voice.synthesize(text, "alloy", 0.9).samples, silence, silence])


@pytest.fixture(scope="module")
def voice_model() -> Iterator[VoiceModel]:
    model = load_voice_model()
    assert isinstance(model.recognizer, FairRecognizer)
    yield model
    model.close()


async def until(condition: object, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_very_long_commit_does_not_hold_up_another_sessions_turn(
    voice_model: VoiceModel, voice: EspeakSynthesizer
) -> None:
    long_turn = EngineHarness(deps=voice_model)
    talker = EngineHarness(deps=voice_model)
    try:
        await long_turn.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"transcription": TRANSCRIBE, "turn_detection": None}},
                },
            }
        )
        await talker.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"transcription": TRANSCRIBE, "turn_detection": {"type": "server_vad"}}},
                },
            }
        )
        # Five minutes of loud audio, committed at once: minutes of decoding for the one worker.
        minutes = noise(300)
        for chunk in np.array_split(minutes, 5):
            audio = base64.b64encode(chunk.tobytes()).decode()
            await long_turn.engine.receive(f'{{"type": "input_audio_buffer.append", "audio": "{audio}"}}')
        await long_turn.engine.receive('{"type": "input_audio_buffer.commit"}')
        assert "input_audio_buffer.committed" in long_turn.types()

        # The other session speaks while that turn is being decoded (20 ms frames, as a microphone delivers them),
        # and is heard and answered.
        speech = spoken(voice, "Hello, how are you today?")
        for frame in np.array_split(speech, speech.size // 480):
            talker.engine.feed_audio(frame)
            await asyncio.sleep(0.02)
        await until(lambda: "response.done" in talker.types(), "the other session's answer")
        heard = talker.of_type("conversation.item.input_audio_transcription.completed")
        assert heard, talker.types()
        assert heard[0]["transcript"]
        # ... while the long turn is still being decoded: it has neither a transcript nor a failure yet.
        finished = [t for t in long_turn.types() if t.startswith("conversation.item.input_audio_transcription.")]
        assert finished == [], finished
        assert talker.of_type("error") == []
    finally:
        await long_turn.engine.close()  # drops its queued turn
        await talker.engine.close()


async def test_a_turn_over_its_budget_fails_for_its_own_session_only(voice: EspeakSynthesizer) -> None:
    model = load_voice_model()
    assert isinstance(model.recognizer, FairRecognizer)
    model.recognizer.close()
    tight = dataclasses.replace(model, recognizer=FairRecognizer(turn_budget_s=8.0))
    greedy = EngineHarness(deps=tight)
    modest = EngineHarness(deps=tight)
    try:
        off = {"transcription": TRANSCRIBE, "turn_detection": None}
        for h in (greedy, modest):
            await h.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": off}}})
        await greedy.engine.receive(
            json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(noise(60).tobytes()).decode()})
        )
        await greedy.engine.receive('{"type": "input_audio_buffer.commit"}')
        await modest.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(spoken(voice, "What is the weather like?").tobytes()).decode(),
            }
        )
        await modest.send({"type": "input_audio_buffer.commit"})  # waits for its transcript
        await greedy.engine.idle()

        failed = greedy.of_type("conversation.item.input_audio_transcription.failed")
        assert len(failed) == 1
        assert "recognizer's time" in failed[0]["error"]["message"]
        assert greedy.of_type("conversation.item.input_audio_transcription.completed") == []
        assert modest.of_type("conversation.item.input_audio_transcription.failed") == []
        assert modest.of_type("conversation.item.input_audio_transcription.completed")[0]["transcript"]
        # The session goes on: its next turn is transcribed.
        await greedy.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(spoken(voice, "Hello there.").tobytes()).decode(),
            }
        )
        await greedy.send({"type": "input_audio_buffer.commit"})
        assert len(greedy.of_type("conversation.item.input_audio_transcription.completed")) == 1
    finally:
        await greedy.engine.close()
        await modest.engine.close()
        model.close()
        tight.recognizer.close()  # type: ignore[attr-defined]


def test_a_hung_worker_is_replaced_and_only_its_turn_fails(voice: EspeakSynthesizer) -> None:
    # Long enough that no real slice runs over it on a loaded machine (the test suite runs beside other work): only
    # the SIGSTOP below is a hang. A real slice over it would fail the long turn before the worker is stopped.
    recognizer = FairRecognizer(slice_timeout_s=15.0)
    try:
        patient = recognizer.share().start_stream()
        patient.feed(spoken(voice, "Hello, how are you today?"))
        # Wait until the worker has decoded all of it (nothing of the turn left waiting).
        turn = patient._turn  # the test needs to know the audio reached the worker
        done_feeding = threading.Event()

        def watch() -> None:
            while turn.waiting:
                threading.Event().wait(0.02)
            done_feeding.set()

        threading.Thread(target=watch, daemon=True).start()
        assert done_feeding.wait(DEADLINE_S)

        hung_pid = recognizer.worker.pid
        outcome: Future[str] = Future()
        culprit = recognizer.share()

        def long_turn() -> None:
            try:
                outcome.set_result(culprit.transcribe(noise(120)))
            except Exception as exc:
                outcome.set_exception(exc)

        threading.Thread(target=long_turn, daemon=True).start()
        deadline = time.monotonic() + DEADLINE_S
        while not culprit.turns or not culprit.turns[0].decoded:  # the worker is busy with the long turn
            assert not outcome.done(), f"the long turn ended before the worker hung: {outcome.exception()!r}"
            assert time.monotonic() < deadline, "the worker never started on the long turn"
            threading.Event().wait(0.02)
        os.kill(hung_pid, signal.SIGSTOP)  # the worker hangs mid-slice

        with pytest.raises(RecognizerUnavailableError) as failure:
            outcome.result(DEADLINE_S)
        assert not isinstance(failure.value, TurnBudgetExceededError)
        for _ in range(DEADLINE_S * 50):  # the turn fails first, then the new worker starts
            if recognizer.restarts:
                break
            threading.Event().wait(0.02)
        assert recognizer.restarts == 1
        assert recognizer.worker.pid != hung_pid
        # The other turn was decoded again by the new worker and finishes as if nothing happened.
        assert patient.finish()
        with pytest.raises(ProcessLookupError):
            os.kill(hung_pid, 0)  # the hung worker was killed (and reaped)
    finally:
        recognizer.close()


def test_a_session_cannot_queue_turns_without_end(voice: EspeakSynthesizer) -> None:
    recognizer = FairRecognizer()
    try:
        busy = recognizer.share()
        waiting = [busy.start_stream() for _ in range(MAX_TURNS_PER_SESSION)]
        for stream in waiting:
            stream.feed(noise(5))
        refused = busy.transcribe_future(noise(5))
        with pytest.raises(RecognitionFailedError, match="turns waiting"):
            refused.result(DEADLINE_S)
        # Another session is not affected, and the busy one can queue again once a turn is done.
        assert recognizer.share().transcribe(spoken(voice, "Hello, how are you today?"))
        waiting[0].cancel()
        assert isinstance(busy.transcribe(spoken(voice, "Hello there.")), str)  # queued and decoded, not refused
    finally:
        recognizer.close()
