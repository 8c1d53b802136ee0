"""Recorded audio in the kernel: the writer that streams chunks to disk, record.audio and its clips, the acoustic
latency detector, and saving/loading the audio files (pure logic and real files; no session)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from realtime_widget import SessionRecord
from realtime_widget.record.acoustic import acoustic_turns
from realtime_widget.record.audio import SessionAudio
from realtime_widget.record.audio_track import AudioTrack
from realtime_widget.record.audio_writer import AudioWriter
from realtime_widget.record.persist import SessionLoadError

RATE = 24_000
T0 = 1_800_000_000_000_000  # µs since the epoch


def tone(ms: float, level: int = 8000, rate: int = RATE) -> npt.NDArray[np.int16]:
    n = round(ms * rate / 1000)
    return (np.sin(np.arange(n) * 2 * np.pi * 440 / rate) * level).astype(np.int16)


def silence(ms: float, rate: int = RATE) -> npt.NDArray[np.int16]:
    return np.zeros(round(ms * rate / 1000), dtype=np.int16)


def us(ms: float) -> int:
    return T0 + round(ms * 1000)


def test_chunks_are_placed_on_the_clock_with_silence_for_gaps(tmp_path: Path) -> None:
    writer = AudioWriter(tmp_path)
    writer.write("user", tone(20).tobytes(), RATE, us(0))
    writer.write("user", tone(20).tobytes(), RATE, us(20.5))  # jitter: follows on
    writer.write("user", tone(20).tobytes(), RATE, us(100))  # a pause: 60 ms of silence first
    track = writer.track("user")
    assert track is not None
    assert track.start == pd.Timestamp(T0, unit="us", tz="UTC")
    assert len(track.samples) == round(0.120 * RATE)
    assert not track.samples[round(0.041 * RATE) : round(0.099 * RATE)].any()
    assert track.samples[round(0.100 * RATE) :].any()
    assert writer.track("assistant") is None


def test_late_then_hurried_chunks_do_not_drift(tmp_path: Path) -> None:
    writer = AudioWriter(tmp_path)
    # 20 ms frames; frame 1 arrives 15 ms late, frame 2 on time: the silence put in for the lateness is taken back.
    writer.write("assistant", tone(20).tobytes(), RATE, us(0))
    writer.write("assistant", tone(20).tobytes(), RATE, us(35))
    writer.write("assistant", tone(20).tobytes(), RATE, us(40))
    for k in range(3, 50):
        writer.write("assistant", tone(20).tobytes(), RATE, us(20 * k))
    track = writer.track("assistant")
    assert track is not None
    assert track.duration_s == pytest.approx(1.0, abs=0.001)
    # Several late frames in a row (a busy event loop), then the rest at once: still no drift.
    writer.write("user", tone(20).tobytes(), RATE, us(0))
    for k, late in ((1, 30), (2, 45), (3, 60)):
        writer.write("user", tone(20).tobytes(), RATE, us(20 * k + late))
    for k in range(4, 50):
        writer.write("user", tone(20).tobytes(), RATE, us(20 * k))
    user = writer.track("user")
    assert user is not None
    assert user.duration_s == pytest.approx(1.0, abs=0.001)


def test_a_track_that_got_ahead_gives_up_silence_not_sound(tmp_path: Path) -> None:
    writer = AudioWriter(tmp_path)
    for _ in range(5):  # five frames at once: the track runs 80 ms ahead of the clock
        writer.write("assistant", tone(20).tobytes(), RATE, us(0))
    for k in range(5, 50):  # silence on time, then sound: the silence absorbs the lead
        frame = silence(20) if k < 40 else np.full(480, 3000, dtype=np.int16)
        writer.write("assistant", frame.tobytes(), RATE, us(20 * k))
    track = writer.track("assistant")
    assert track is not None
    assert track.duration_s == pytest.approx(1.0, abs=0.006)
    first_loud_after_pause = np.flatnonzero(track.samples[round(0.2 * RATE) :] == 3000)[0] + round(0.2 * RATE)
    assert first_loud_after_pause / RATE == pytest.approx(0.8, abs=0.006)


def test_nothing_is_held_in_memory_and_bursts_lose_no_sound(tmp_path: Path) -> None:
    writer = AudioWriter(tmp_path)
    chunk = np.full(480, 3000, dtype=np.int16)  # loud from its first sample: nothing of it may be dropped
    for k in range(500):  # ten seconds, frames arriving in pairs (a jitter buffer's burst)
        writer.write("user", chunk.tobytes(), RATE, us(40 * (k // 2)))
    spool = tmp_path / "user.pcm"
    assert spool.stat().st_size == 500 * chunk.nbytes
    track = writer.track("user")
    assert track is not None
    assert isinstance(track.samples, np.memmap) or isinstance(track.samples.base, np.memmap)


def test_other_rates_are_resampled_and_unplayed_audio_is_cut(tmp_path: Path) -> None:
    writer = AudioWriter(tmp_path)
    writer.write("assistant", tone(100).tobytes(), RATE, us(0))
    writer.write("assistant", tone(100, rate=48_000).tobytes(), 48_000, us(100))
    track = writer.track("assistant")
    assert track is not None
    assert track.sample_rate == RATE
    assert track.duration_s == pytest.approx(0.2, abs=0.01)
    writer.cut("assistant", us(150))
    track = writer.track("assistant")
    assert track is not None
    assert track.duration_s == pytest.approx(0.15, abs=0.001)


def test_bad_chunks_are_refused_and_close_removes_a_temporary_folder() -> None:
    writer = AudioWriter()
    with pytest.raises(ValueError, match="side"):
        writer.write("bot", b"\0\0", RATE, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="even"):
        writer.write("user", b"\0", RATE, T0)
    writer.write("user", tone(10).tobytes(), RATE, T0)
    folder = writer.folder
    assert folder.exists()
    writer.close()
    assert not folder.exists()


def test_clips_cut_both_sides_to_a_span() -> None:
    start = pd.Timestamp(T0, unit="us", tz="UTC")
    user = AudioTrack("user", tone(1000), RATE, start)
    assistant = AudioTrack("assistant", tone(500), RATE, start + pd.Timedelta(milliseconds=800))
    audio = SessionAudio.of({"user": user, "assistant": assistant})
    clip = audio.clip(start=start + pd.Timedelta(milliseconds=900), end=start + pd.Timedelta(milliseconds=1200))
    assert clip.user is not None
    assert clip.assistant is not None
    assert clip.user.start == start + pd.Timedelta(milliseconds=900)
    assert clip.user.duration_s == pytest.approx(0.1)
    assert clip.assistant.duration_s == pytest.approx(0.3)
    assert audio.clip(end=start).user is None
    assert audio.clip(start=start.tz_localize(None).isoformat()).user is not None  # naive = UTC
    with pytest.raises(IndexError, match="no turn 0"):
        audio.clip(turn=0)
    assert not SessionAudio.of({})
    with pytest.raises(KeyError):
        audio["bot"]  # type: ignore[index]


def turns_frame(rows: list[tuple[float, float]]) -> pd.DataFrame:
    """Turns with speech_started/speech_stopped at these ms after T0."""
    stamp = lambda v: pd.Timestamp(us(v), unit="us", tz="UTC")  # noqa: E731
    return pd.DataFrame(
        {
            "speech_started": pd.Series([stamp(a) for a, _ in rows], dtype="datetime64[us, UTC]"),
            "speech_stopped": pd.Series([stamp(b) for _, b in rows], dtype="datetime64[us, UTC]"),
            "response_created": pd.Series([stamp(b) for _, b in rows], dtype="datetime64[us, UTC]"),
        }
    )


def test_acoustic_latency_is_the_gap_between_the_sounds() -> None:
    # Turn 0: user speaks 100-900 ms, reply sounds from 1650 ms; turn 1: user 3000-3500, reply from 4210.
    user = np.concatenate([silence(100), tone(800), silence(2100), tone(500), silence(1500)])
    reply = np.concatenate([silence(1650), tone(1000, level=3000), silence(1560), tone(400)])
    start = pd.Timestamp(T0, unit="us", tz="UTC")
    audio = SessionAudio.of(
        {"user": AudioTrack("user", user, RATE, start), "assistant": AudioTrack("assistant", reply, RATE, start)}
    )
    found = acoustic_turns(audio, turns_frame([(100, 1400), (3000, 4000)]))
    assert found["acoustic_latency_ms"].tolist() == pytest.approx([750, 710], abs=5)
    assert found["speech_end"].iloc[0] == start + pd.Timedelta(milliseconds=900)
    # No assistant audio: the latency is unknown, not zero.
    alone = SessionAudio.of({"user": AudioTrack("user", user, RATE, start)})
    assert acoustic_turns(alone, turns_frame([(100, 1400)]))["acoustic_latency_ms"].isna().all()


def test_saved_audio_loads_lazily_and_a_missing_file_is_named(tmp_path: Path) -> None:
    record = SessionRecord()
    record.write_audio("user", tone(300).tobytes(), RATE, T0)
    record.write_audio("assistant", tone(200, rate=48_000).tobytes(), 48_000, us(400))
    folder = record.save(tmp_path / "s")
    assert [p.name for p in record.audio.files] == ["audio_user.flac", "audio_assistant.flac"]
    loaded = SessionRecord.load(folder)
    assert loaded.audio.assistant is not None
    assert loaded.audio.assistant.sample_rate == 48_000
    assert loaded.audio.assistant.start == pd.Timestamp(us(400), unit="us", tz="UTC")
    assert np.array_equal(loaded.audio.assistant.samples, tone(200, rate=48_000))
    record.close_audio()
    assert not record.audio
    (folder / "audio_user.flac").unlink()
    with pytest.raises(SessionLoadError, match=r"audio_user\.flac: missing"):
        SessionRecord.load(folder)
