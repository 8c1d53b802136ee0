"""Speech recognition with PocketSphinx on speech made by eSpeak NG (needs the speech extra).

Recognition of eSpeak's robotic voice is rough, so these tests assert that some expected words are heard, never
an exact transcript; ``benchmarks/voice_turn_latency.py`` prints what it actually hears.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import numpy as np
import pytest

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.asr import PocketsphinxRecognizer, RecognizerUnavailableError
from realtime_widget.server.voice.asr_worker import WorkerRecognizer
from realtime_widget.server.voice.tts import EspeakSynthesizer

# The user's voice in these tests: eSpeak's "f2" variant a little slower than normal, which PocketSphinx hears best.
USER_VOICE = "alloy"
USER_SPEED = 0.9


@pytest.fixture(scope="module")
def recognizer() -> PocketsphinxRecognizer:
    pytest.importorskip("pocketsphinx", reason="PocketSphinx comes with the speech extra")
    return PocketsphinxRecognizer()


@pytest.fixture(scope="module")
def speak() -> EspeakSynthesizer:
    pytest.importorskip("espeakng_loader", reason="eSpeak NG comes with the speech extra")
    return EspeakSynthesizer()


def padded(speech: Pcm16) -> Pcm16:
    silence = np.zeros(SAMPLE_RATE * 3 // 10, dtype=np.int16)
    return np.concatenate([silence, speech, silence])


def heard_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("What time is it?", {"what", "time"}),
        ("What is the weather in Paris today?", {"what", "weather", "paris", "today"}),
        ("My name is John and I live in New York.", {"my", "name", "live", "new", "york"}),
    ],
)
def test_hears_some_of_the_words_of_espeak_speech(
    recognizer: PocketsphinxRecognizer, speak: EspeakSynthesizer, sentence: str, expected: set[str]
) -> None:
    text = recognizer.transcribe(padded(speak.synthesize(sentence, USER_VOICE, USER_SPEED).samples))
    assert heard_words(text) & expected, f"heard {text!r} for {sentence!r}"


def test_silence_and_quiet_noise_give_an_empty_transcript(recognizer: PocketsphinxRecognizer) -> None:
    rng = np.random.default_rng(3)
    assert recognizer.transcribe(np.zeros(SAMPLE_RATE, dtype=np.int16)) == ""
    assert recognizer.transcribe((rng.standard_normal(SAMPLE_RATE) * 30).astype(np.int16)) == ""
    assert recognizer.transcribe(np.zeros(0, dtype=np.int16)) == ""


def test_streaming_hears_the_same_kind_of_words_in_small_chunks(
    recognizer: PocketsphinxRecognizer, speak: EspeakSynthesizer
) -> None:
    audio = padded(speak.synthesize("What time is it? What is the weather in Paris?", USER_VOICE, USER_SPEED).samples)
    stream = recognizer.start_stream()
    for start in range(0, audio.size, 480):  # 20 ms, as WebRTC delivers it
        stream.feed(audio[start : start + 480])
    text = stream.finish()
    assert heard_words(text) & {"what", "time", "weather", "paris"}, text
    assert stream.finish() == ""  # a finished stream stays finished


def test_streams_are_independent_and_reuse_decoders(
    recognizer: PocketsphinxRecognizer, speak: EspeakSynthesizer
) -> None:
    question = padded(speak.synthesize("What time is it?", USER_VOICE, USER_SPEED).samples)
    first, second = recognizer.start_stream(), recognizer.start_stream()
    first.feed(question)
    second.feed(np.zeros(SAMPLE_RATE, dtype=np.int16))
    assert second.finish() == ""
    assert heard_words(first.finish()) & {"what", "time"}
    cancelled = recognizer.start_stream()
    cancelled.feed(question)
    cancelled.cancel()
    assert cancelled.finish() == ""
    assert heard_words(recognizer.transcribe(question)) & {"what", "time"}


# ---- recognition in a child process ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerRecognizer]:
    pytest.importorskip("pocketsphinx", reason="PocketSphinx comes with the speech extra")
    recognizer = WorkerRecognizer()
    yield recognizer
    recognizer.close()


def test_worker_transcribes_and_streams_like_in_process(worker: WorkerRecognizer, speak: EspeakSynthesizer) -> None:
    question = padded(speak.synthesize("What time is it?", USER_VOICE, USER_SPEED).samples)
    assert heard_words(worker.transcribe(question)) & {"what", "time"}
    assert worker.transcribe(np.zeros(SAMPLE_RATE, dtype=np.int16)) == ""
    stream = worker.start_stream()
    for start in range(0, question.size, 480):
        stream.feed(question[start : start + 480])
    assert heard_words(stream.finish()) & {"what", "time"}
    idle = worker.start_stream()
    assert idle.finish() == ""  # nothing fed: no round trip
    dropped = worker.start_stream()
    dropped.feed(question)
    dropped.cancel()
    assert worker.transcribe(np.zeros(SAMPLE_RATE, dtype=np.int16)) == ""  # still answering after a cancel


def test_a_closed_worker_fails_clearly() -> None:
    pytest.importorskip("pocketsphinx", reason="PocketSphinx comes with the speech extra")
    recognizer = WorkerRecognizer()
    pid = recognizer.pid
    recognizer.close()
    with pytest.raises(RecognizerUnavailableError, match="stopped"):
        recognizer.transcribe(np.ones(SAMPLE_RATE, dtype=np.int16))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
