"""The replay view's kernel side: peaks per pixel column, the marks taken from a record, and the commands the
browser calls (overview, peaks, audio), over a synthetic session with synthetic tracks."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from realtime_widget.record import SessionRecord
from realtime_widget.record.audio_track import AudioTrack
from realtime_widget.replay import ReplayView
from realtime_widget.replay.peaks import ABSENT, BLOCK, PeakIndex
from realtime_widget.sample import sample_session

RATE = 24_000
RecordAndAudio = tuple[SessionRecord, dict[str, AudioTrack]]


def naive_peaks(samples: npt.NDArray[np.int16], first: float, per_column: float, columns: int) -> list[tuple[int, int]]:
    """Column k covers samples [floor(first + k*per), max(floor(first + (k+1)*per), that + 1)), clipped."""
    out = []
    for k in range(columns):
        lo = int(np.floor(first + k * per_column))
        hi = max(int(np.floor(first + (k + 1) * per_column)), lo + 1)
        if hi <= 0 or lo >= len(samples):
            out.append(ABSENT)
            continue
        part = samples[max(lo, 0) : min(hi, len(samples))]
        out.append((int(part.min()), int(part.max())))
    return out


@pytest.fixture(scope="module")
def noise() -> npt.NDArray[np.int16]:
    return np.random.default_rng(7).integers(-32768, 32767, size=50_000, dtype=np.int16)


@pytest.mark.parametrize(
    ("first", "per_column", "columns"),
    [
        (0, 100, 500),  # the whole track, columns touching end to end
        (-1000.5, 37.3, 400),  # starts before the track, fractional columns
        (49_000, 13, 200),  # runs past the end
        (100, 0.25, 40),  # zoomed in past one sample per column
        (60_000, 10, 5),  # wholly after the track
        (-500, 10, 5),  # wholly before it
        (0, 1, 50_000),  # one sample per column
    ],
)
def test_peaks_are_the_min_and_max_under_each_column(
    noise: npt.NDArray[np.int16], first: float, per_column: float, columns: int
) -> None:
    got = PeakIndex(noise).peaks(first, per_column, columns)
    assert got.dtype == np.int16
    assert got.shape == (columns, 2)
    assert [tuple(map(int, row)) for row in got] == naive_peaks(noise, first, per_column, columns)


def test_zoomed_out_peaks_come_from_blocks_and_bound_the_exact_ones(noise: npt.NDArray[np.int16]) -> None:
    index = PeakIndex(noise)
    per_column = 4 * BLOCK + 0.5
    got = index.peaks(300, per_column, 12)
    exact = naive_peaks(noise, 300, per_column, 12)
    for (low, high), (exact_low, exact_high) in zip(got.tolist(), exact, strict=True):
        assert low <= exact_low
        assert high >= exact_high
    # Block-aligned columns are exact.
    aligned = index.peaks(0, 8 * BLOCK, 6)
    assert [tuple(row) for row in aligned.tolist()] == naive_peaks(noise, 0, 8 * BLOCK, 6)


def test_peaks_of_nothing_are_absent() -> None:
    assert PeakIndex(np.zeros(0, dtype=np.int16)).peaks(0, 10, 3).tolist() == [list(ABSENT)] * 3
    assert PeakIndex(np.ones(10, dtype=np.int16)).peaks(0, 10, 0).shape == (0, 2)


def tone_track(side: str, start: pd.Timestamp, seconds: float, amplitude: int) -> AudioTrack:
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    return AudioTrack(side, samples, RATE, start)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def record_and_audio() -> RecordAndAudio:
    record = sample_session()
    start = record.events["time"].min()
    audio = {
        "user": tone_track("user", start + pd.Timedelta(seconds=1), 10, 8000),
        "assistant": tone_track("assistant", start + pd.Timedelta(seconds=5), 4, 16000),
    }
    return record, audio


def test_marks_match_the_records_turns_tools_interruptions_and_errors() -> None:
    record = sample_session()
    view = record.replay()
    overview, buffers = view.overview({}, [])
    assert buffers == []
    assert overview["sides"] == []  # the sample has no audio
    marks = overview["marks"]
    assert [m["start"] for m in marks] == sorted(m["start"] for m in marks)
    origin = record.events["time"].min()

    def seconds(value: pd.Timestamp) -> float:
        return (value - origin).total_seconds()

    turns = [m for m in marks if m["kind"] == "turn"]
    assert [m["turn"] for m in turns] == record.turns["turn"].tolist()
    assert [m["start"] for m in turns] == pytest.approx([seconds(t) for t in record.turns["speech_stopped"]])
    assert [m["end"] for m in turns] == pytest.approx([seconds(t) for t in record.turns["first_audio"]])
    assert [m["latency_ms"] for m in turns] == pytest.approx(record.turns["latency_ms"].tolist())
    assert [m["interrupted"] for m in turns] == record.turns["interrupted"].tolist()

    utterances = [m for m in marks if m["kind"] == "utterance"]
    assert [(m["side"], m["text"]) for m in utterances] == list(
        zip(record.transcript["role"], record.transcript["text"], strict=True)
    )
    tools = [m for m in marks if m["kind"] == "tool"]
    assert [m["text"] for m in tools] == record.tool_calls["name"].tolist()
    assert len([m for m in marks if m["kind"] == "interruption"]) == int(record.transcript["interrupted"].sum())
    errors = [m for m in marks if m["kind"] == "error"]
    assert len(errors) == len(record.problems)
    assert all(record.problems["message"].iloc[i] in m["text"] for i, m in enumerate(errors))


def test_the_axis_spans_events_and_audio(record_and_audio: RecordAndAudio) -> None:
    record, audio = record_and_audio
    start = record.events["time"].min()
    late = tone_track("assistant", record.events["time"].max() + pd.Timedelta(seconds=2), 1, 100)
    overview, _ = ReplayView(record, {"user": audio["user"], "assistant": late}).overview({}, [])
    assert overview["origin_ms"] == pytest.approx(start.timestamp() * 1000)
    assert overview["duration"] == pytest.approx((late.end - start).total_seconds())
    assert overview["sides"][0] == {"side": "user", "sample_rate": RATE, "start": pytest.approx(1.0), "duration": 10.0}


def test_peaks_command_answers_one_binary_buffer_per_side(
    record_and_audio: RecordAndAudio,
) -> None:
    record, audio = record_and_audio
    view = ReplayView(record, audio)
    reply, buffers = view.peaks({"start": 0.0, "end": 20.0, "columns": 200, "request": 3}, [])
    assert reply == {"request": 3, "columns": 200, "sides": ["user", "assistant"]}
    user, assistant = (np.frombuffer(b, dtype="<i2").reshape(-1, 2) for b in buffers)
    assert len(buffers[0]) == 200 * 2 * 2  # int16 min and max per column
    # 0.1 s per column: the user's tone fills columns 10-109, the assistant's 50-89; the rest has no audio.
    assert user[:10].tolist() == [list(ABSENT)] * 10
    assert user[10:110, 1].min() > 7000
    assert user[110:].tolist() == [list(ABSENT)] * 90
    assert assistant[50:90, 1].min() > 15000
    assert assistant[90:].tolist() == [list(ABSENT)] * 110


def test_audio_command_answers_the_samples_of_the_window(record_and_audio: RecordAndAudio) -> None:
    record, audio = record_and_audio
    view = ReplayView(record, audio)
    reply, buffers = view.audio({"start": 4.0, "duration": 2.0}, [])
    assert [c["side"] for c in reply["clips"]] == ["user", "assistant"]
    user_clip, assistant_clip = reply["clips"]
    assert user_clip["start"] == pytest.approx(4.0)
    assert assistant_clip["start"] == pytest.approx(5.0)  # the assistant's track begins inside the window
    user = np.frombuffer(buffers[0], dtype="<i2")
    assert len(user) == 2 * RATE
    np.testing.assert_array_equal(user, audio["user"].samples[3 * RATE : 5 * RATE])
    assert len(np.frombuffer(buffers[1], dtype="<i2")) == RATE
    # Past every track: nothing; and no request returns more than 30 s.
    assert view.audio({"start": 500.0, "duration": 5.0}, [])[0]["clips"] == []
    assert view.audio({"start": 0.0, "duration": 3600.0}, [])[0]["duration"] == 30.0


def test_bad_requests_and_arguments_fail_clearly(record_and_audio: RecordAndAudio) -> None:
    record, audio = record_and_audio
    view = ReplayView(record, audio)
    with pytest.raises(ValueError, match="'start' must be a finite number"):
        view.peaks({"start": "soon", "end": 1, "columns": 10}, [])
    with pytest.raises(ValueError, match="'user' or 'assistant'"):
        ReplayView(record, {"microphone": audio["user"]})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an AudioTrack"):
        ReplayView(record, {"user": np.zeros(3)})  # type: ignore[arg-type, dict-item]


def test_replay_reads_the_records_own_audio_when_none_is_given(
    record_and_audio: RecordAndAudio,
) -> None:
    _, audio = record_and_audio
    user = audio["user"]
    # Recorded as a session records it (the user's side only, on the record's clock), in a record of its own: the
    # module's record is shared by the other tests.
    record = SessionRecord()
    record.write_audio("user", user.samples.tobytes(), user.sample_rate, user.start.value // 1000)
    view = record.replay(title="Support call")
    assert list(view.tracks) == ["user"]
    assert view.title == "Support call"
    assert "user 10.0 s" in repr(view)
