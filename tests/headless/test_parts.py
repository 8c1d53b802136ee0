"""The pure parts of a headless session: the simulated speaker, the microphone's timing, the user's audio, and the
options checked before anything connects."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from realtime_widget import RealtimeWidgetError, Session
from realtime_widget.headless.audible import AUDIBLE_LEVEL, first_audible
from realtime_widget.headless.clock import SessionClock
from realtime_widget.headless.microphone import FRAME_SAMPLES, Microphone
from realtime_widget.headless.playback import Playback
from realtime_widget.headless.user_audio import as_pcm16, read_wav, user_speech
from realtime_widget.server.pcm import SAMPLE_RATE


def tone(ms: float, level: int = 8000) -> np.ndarray:
    n = int(SAMPLE_RATE * ms / 1000)
    return np.where(np.arange(n) % 2 == 0, level, -level).astype(np.int16)  # loud from its first sample


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE * ms / 1000), dtype=np.int16)


def test_the_first_audible_sample_is_found_after_silence() -> None:
    samples = np.concatenate([silence(10), np.full(5, AUDIBLE_LEVEL, dtype=np.int16)])
    assert first_audible(samples) == 240
    assert first_audible(silence(20)) is None
    assert first_audible(np.full(3, AUDIBLE_LEVEL - 1, dtype=np.int16)) is None


def test_playback_plays_deltas_back_to_back_in_real_time() -> None:
    speaker = Playback()
    # Two 100 ms deltas arrive at once (faster than real time): the second starts when the first ends.
    assert speaker.play("item_a", "resp_1", np.concatenate([silence(40), tone(60)]), now_ms=1000.0) == 1040.0
    assert speaker.play("item_a", "resp_1", tone(100), now_ms=1000.0) == 1100.0
    assert speaker.ends_at == 1200.0
    assert speaker.heard_ms("item_a", 1150.0) == pytest.approx(150.0)
    assert speaker.playing(1199.0)
    assert not speaker.playing(1200.0)
    # A late delta (an underrun) starts when it arrives.
    speaker.play("item_a", "resp_1", tone(50), now_ms=1500.0)
    assert speaker.heard_ms("item_a", 1525.0) == pytest.approx(225.0)


def test_stopping_playback_reports_what_was_heard_of_the_item_playing() -> None:
    speaker = Playback()
    speaker.play("item_a", "resp_1", tone(1000), now_ms=0.0)
    assert speaker.stop(now_ms=420.5) == ("item_a", 420)
    assert not speaker.playing(421.0)
    assert speaker.heard_ms("item_a", 5000.0) == pytest.approx(420.5, abs=0.05)  # the rest is never heard
    assert speaker.stop(now_ms=500.0) is None


async def test_the_microphone_streams_in_real_time_and_knows_when_speech_ended() -> None:
    clock = SessionClock()
    microphone = Microphone(clock)
    speech = tone(110)  # 5.5 frames
    before = clock.now_ms()
    ended = microphone.speak(speech, trailing_silence_ms=60)
    frames = []
    while microphone.busy:
        frame, filled = await microphone.next_frame(continuous=False)
        frames.append((frame, filled))
    total = sum(filled for _, filled in frames)
    assert total == speech.size + SAMPLE_RATE * 60 // 1000
    assert all(frame.size == FRAME_SAMPLES for frame, _ in frames)
    streamed = np.concatenate([frame[:filled] for frame, filled in frames])
    assert np.array_equal(streamed[: speech.size], speech)
    # The sixth frame carries the last speech sample; it went 100 ms after the first, which went at once.
    end = await ended
    assert end >= before + 110 - 20
    assert end <= clock.now_ms()


async def test_speaking_again_drops_the_silence_left_from_before() -> None:
    microphone = Microphone(SessionClock())
    microphone.speak(tone(20), trailing_silence_ms=1000)
    await microphone.next_frame(continuous=False)
    microphone.speak(tone(20), trailing_silence_ms=0)
    frame, filled = await microphone.next_frame(continuous=False)
    assert filled == FRAME_SAMPLES
    assert first_audible(frame) == 0  # speech at once, not the old silence
    assert not microphone.busy


async def test_stopping_the_microphone_fails_the_utterances_waiting() -> None:
    microphone = Microphone(SessionClock())
    ended = microphone.speak(tone(100), trailing_silence_ms=0)
    microphone.stop(RealtimeWidgetError.__new__(RealtimeWidgetError))
    with pytest.raises(RealtimeWidgetError):
        await asyncio.wait_for(ended, 1)


def test_user_audio_from_arrays_wav_files_and_text(tmp_path: Path) -> None:
    assert as_pcm16(np.array([0.0, 0.5, -1.0])).tolist() == [0, 16384, -32767]
    stereo = np.array([[1000, 3000], [-1000, -3000]], dtype=np.int16)
    assert as_pcm16(stereo).tolist() == [2000, -2000]
    assert as_pcm16(np.zeros(16_000, dtype=np.int16), 16_000).size == pytest.approx(SAMPLE_RATE, abs=64)
    path = tmp_path / "hello.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(tone(200).tobytes())
    assert np.array_equal(read_wav(path), tone(200))
    assert np.array_equal(user_speech(path, tts=lambda _t: tone(1)), tone(200))
    assert user_speech("hi", tts=lambda text: tone(len(text) * 10)).size == tone(20).size
    with pytest.raises(ValueError, match="empty"):
        user_speech("  ", tts=lambda _t: tone(1))
    with pytest.raises(TypeError, match=r"pathlib\.Path"):
        user_speech(42, tts=lambda _t: tone(1))  # type: ignore[arg-type]


def test_options_are_checked_before_anything_connects() -> None:
    with pytest.raises(TypeError, match=r"unknown option 'voise'.*voice"):
        Session(voise="cedar")
    with pytest.raises(TypeError, match=r"unknown option 'transprt'.*transport"):
        Session(transprt="webrtc")
    with pytest.raises(ValueError, match="transport must be"):
        Session(transport="carrier-pigeon")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="api_key must be a string"):
        Session(api_key=123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="speed"):
        Session(speed=9)
    with pytest.raises(TypeError, match="tts must be a function"):
        Session(tts="espeak")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="connect_timeout"):
        Session(connect_timeout=0)


async def test_nothing_is_sent_before_connecting_and_invalid_events_are_refused() -> None:
    session = Session(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="not a valid Realtime client event"):
        session.send_event({"type": "input_audio_buffer.append"})  # no audio
    with pytest.raises(RealtimeWidgetError, match="not connected"):
        await session.send_text("hello")
    with pytest.raises(RealtimeWidgetError, match="not connected"):
        await session.say(np.zeros(10, dtype=np.int16))
    assert len(session.record) == 0
    assert "sk-test" not in repr(session)


async def test_an_unreachable_server_fails_with_a_clear_error() -> None:
    session = Session(api_key="sk-test", base_url="http://127.0.0.1:9/v1", connect_timeout=10)
    with pytest.raises(RealtimeWidgetError, match="Could not reach") as failure:
        await session.connect()
    assert failure.value.code == "network"
    assert session.status == "failed"
    assert session.record.timeline["what"].tolist() == ["connect_requested", "failed"]
