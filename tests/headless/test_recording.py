"""Headless sessions recording both sides (``record_audio=True``) against the real local server: each side's audio
lasts as long as the session played it, the acoustic latency of each turn matches the truth known from the
synthesized speech, clips cut both sides to a turn, and a save loads back with the same audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from realtime_widget import SessionRecord
from realtime_widget.headless.audible import AUDIBLE_LEVEL
from realtime_widget.headless.user_audio import espeak
from realtime_widget.server.pcm import SAMPLE_RATE

from .conftest import MakeSession

QUESTIONS = ("what are the total sales in the north", "and in the south")


def last_audible(samples: npt.NDArray[np.int16]) -> int:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= AUDIBLE_LEVEL)
    return int(loud[-1])


def ms(stamp: pd.Timestamp) -> float:
    return float(stamp.value) / 1e6


def check_saved_and_loaded(record: SessionRecord, tmp_path: Path) -> None:
    """Saved as FLAC beside the Parquet files, listed in the summary, and loaded back sample for sample."""
    turns = record.turns
    folder = record.save(tmp_path / "session")
    assert {p.name for p in record.audio.files} == {"audio_user.flac", "audio_assistant.flac"}
    assert "Audio recorded: user" in record.summary()
    loaded = SessionRecord.load(folder)
    for side in ("user", "assistant"):
        track = record.audio[side]  # type: ignore[index]
        assert track is not None
        again = loaded.audio[side]  # type: ignore[index]
        assert again is not None
        assert again.sample_rate == track.sample_rate
        assert again.start == track.start
        assert np.array_equal(again.samples, track.samples)
    assert loaded.turns["acoustic_latency_ms"].tolist() == pytest.approx(turns["acoustic_latency_ms"].tolist())
    assert str(folder / "audio_user.flac") in loaded.summary()


async def test_both_sides_are_recorded_timed_and_saved(
    make_session: MakeSession, transport: str, tmp_path: Path
) -> None:
    session = await make_session(transport, record_audio=True)
    connected_ms = ms(session.record.timeline["time"].iloc[-1])
    tts = espeak()
    truths: list[float] = []
    said = []
    for question in QUESTIONS:
        speech = tts(question)
        said.append(await session.say(speech))
        reply = await session.wait_for_reply()
        assert reply.statuses == ["completed"]
        # The truth: the last audible sample of the synthesized speech → the first audible reply sample, both known
        # exactly by the session (the speech's end on its microphone, the reply's first sound on its speaker).
        silent_tail_ms = (speech.size - 1 - last_audible(speech)) * 1000.0 / SAMPLE_RATE
        reply_start_ms = ms(session.record.voice_latency["assistant_audio_start"].iloc[-1])
        truths.append(reply_start_ms - (said[-1].ended_ms - silent_tail_ms))
    playback_end_ms = session._playback.ends_at
    assert session._microphone is not None
    frames_ms = session._microphone.frames * 20
    max_late_ms = session._microphone.max_late_ms
    trailing_silence_ms = session._trailing_silence_ms()
    await session.close()
    closed_ms = ms(session.record.timeline["time"].iloc[-1])

    record = session.record
    user, assistant = record.audio.user, record.audio.assistant
    assert user is not None
    assert assistant is not None
    assert record.audio["user"] is not None
    assert bool(record.audio)

    # Durations: what the session sent and played, within 2 %.
    if transport == "webrtc":  # both tracks run from the call's start to the hang-up, silence included
        # The microphone track: every frame it sent (on a loaded machine aiortc may pull them slower than real
        # time, so the call's wall-clock span is the reply's yardstick, not the microphone's).
        assert user.duration_s * 1000 == pytest.approx(frames_ms, rel=0.02)
        span_ms = closed_ms - ms(assistant.start)
        assert assistant.duration_s * 1000 == pytest.approx(span_ms, rel=0.02), (assistant, span_ms)
        assert ms(user.start) == pytest.approx(connected_ms, abs=1000)
    else:  # the microphone sends only while the user speaks (and the silence after); the speaker plays each reply
        spoken_ms = said[-1].ended_ms + trailing_silence_ms - said[0].started_ms
        assert user.duration_s * 1000 == pytest.approx(spoken_ms, rel=0.02)
        assert ms(assistant.end) == pytest.approx(playback_end_ms, abs=0.02 * assistant.duration_s * 1000)
        # The first frame is stamped when it was handed over, late by however long the event loop was busy.
        assert ms(user.start) == pytest.approx(said[0].started_ms, abs=60 + max_late_ms)

    # Acoustic latency per turn within 40 ms of the truth. Over WebRTC the "truth" is itself stamped when a busy
    # event loop handed aiortc's frames over (58 and 107 ms off at a load average of 9 on 2 cores, with the browser
    # tests running beside), so there the bound only catches a wrong turn or a lost side; over the WebSocket both
    # ends are known to the sample and the bound is the issue's.
    # The WebSocket truth's end of speech is the session microphone's stamp of its last frame, taken when the frame
    # was handed over: a loaded event loop that hands a frame over late stamps the end late by as much, while the
    # recording keeps the sound contiguous. So the bound is the 40 ms plus the worst lateness the
    # microphone measured (zero when real time was kept; 230 ms was seen once in a full CI-like run).
    bound_ms = 40 + max_late_ms if transport == "websocket" else 250
    turns = record.turns
    assert len(turns) == len(QUESTIONS)
    for measured, truth in zip(turns["acoustic_latency_ms"], truths, strict=True):
        assert measured == pytest.approx(truth, abs=bound_ms), (turns["acoustic_latency_ms"].tolist(), truths)

    # A clip of a turn holds both sides from the user starting to speak until the next turn (or the end).
    clip = record.audio.clip(turn=1)
    assert clip.user is not None
    assert clip.assistant is not None
    assert ms(clip.user.start) == pytest.approx(ms(turns["speech_started"].iloc[1]), abs=1)
    assert clip.assistant.end <= assistant.end

    check_saved_and_loaded(record, tmp_path)


async def test_without_record_audio_nothing_is_recorded(make_session: MakeSession, tmp_path: Path) -> None:
    session = await make_session("websocket")
    await session.say(QUESTIONS[1])
    await session.wait_for_reply()
    await session.close()
    assert not session.record.audio
    assert session.record.turns["acoustic_latency_ms"].isna().all()
    assert "Audio" not in session.record.summary()
    folder = session.record.save(tmp_path / "s")
    assert not list(folder.glob("audio*"))
