"""SessionRecord: appending wire items and reading the DataFrame views."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from realtime_widget.protocol import validate_client_event, validate_server_event
from realtime_widget.record import DEFAULT_PRICES, ModelPrices, SessionRecord, utterance
from realtime_widget.record.schema import SCHEMAS
from realtime_widget.sample import batches, sample_session, synthetic_items

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC).timestamp() * 1000.0


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return synthetic_items(8, seed=3)


@pytest.fixture(scope="module")
def record(items: list[dict[str, Any]]) -> SessionRecord:
    record = SessionRecord("test")
    for message in batches(items, size=200):
        record.add_items(message["items"])
    return record


def ev(t: float, event: dict[str, Any], direction: str = "server") -> dict[str, Any]:
    return {"k": "event", "t": T0 + t, "dir": direction, "event": {"event_id": f"e{t}", **event}}


def test_the_synthetic_fixture_is_true_to_the_protocol(items: list[dict[str, Any]]) -> None:
    events = [item for item in items if item["k"] == "event"]
    assert len(events) > 200
    for item in events:
        validate = validate_server_event if item["dir"] == "server" else validate_client_event
        validate(item["event"])  # raises if the generator drifted from openai.types.realtime


def test_every_view_has_its_documented_columns_and_dtypes(record: SessionRecord) -> None:
    for name, columns in SCHEMAS.items():
        view = getattr(record, name)
        assert list(view.columns) == list(columns), name
        assert {c: str(view[c].dtype) for c in view} == {
            c: str(pd.Series([], dtype=d).dtype) for c, d in columns.items()
        }


def test_events_view_keeps_every_event_with_its_ids(record: SessionRecord, items: list[dict[str, Any]]) -> None:
    events = record.events
    assert len(events) == sum(item["k"] == "event" for item in items)
    assert set(events["direction"]) == {"client", "server"}
    function_done = events[events["type"] == "response.function_call_arguments.done"].iloc[0]
    assert function_done["call_id"].startswith("call_")
    assert function_done["response_id"].startswith("resp_")
    created_at = int(events.index[events["type"] == "response.created"][0])
    assert str(events.loc[created_at, "response_id"]).startswith("resp_")  # from response.id
    assert (record.event(created_at) or {})["type"] == "response.created"
    assert events["raw"].isna().all()


def test_transcript_has_one_row_per_finished_utterance(record: SessionRecord) -> None:
    transcript = record.transcript
    assert list(transcript["role"]) == ["user", "assistant"] * 8
    assert transcript["text"].iloc[0] == "What's the weather like in Paris today"
    assert (transcript["ended"] >= transcript["started"]).all()
    assert transcript["started"].is_monotonic_increasing
    assert record.transcript_lines()[0] == "user: What's the weather like in Paris today"


def test_turns_measure_latency_tool_follow_ups_and_the_interruption(record: SessionRecord) -> None:
    turns = record.turns
    assert list(turns["turn"]) == list(range(8))
    assert turns.loc[2, "responses"] == 2  # the tool call and the spoken follow-up
    assert list(turns["interrupted"]) == [i == 4 for i in range(8)]
    # As with the real API, the interrupted reply had finished generating: cut off in playback, not cancelled.
    assert turns.loc[4, "status"] == "completed"
    assert turns.loc[4, "speaking_ms"] == 5 * 330  # truncated after five words were heard
    assert (turns["speaking_ms"] > 0).all()
    cut = record.transcript.query("interrupted")
    assert len(cut) == 1
    assert len(cut["text"].iloc[0]) < len(cut["generated_text"].iloc[0])
    expected = (turns["first_audio"] - turns["speech_stopped"]).dt.total_seconds() * 1000
    pd.testing.assert_series_equal(turns["latency_ms"], expected, check_names=False)
    assert turns["voice_to_voice_ms"].notna().all()
    assert (turns["voice_to_voice_ms"] > turns["latency_ms"]).all()  # includes the VAD silence wait
    usage = record.usage
    assert turns["output_tokens"].sum() == usage["output_tokens"].sum()


def test_views_do_not_depend_on_batch_arrival_order(items: list[dict[str, Any]], record: SessionRecord) -> None:
    shuffled = SessionRecord("test")
    messages = batches(items, size=25)
    # Every other batch arrives late, once the connect sequence (with its clock offset) is in.
    head, tail = messages[:2], messages[2:]
    for message in [*head, *tail[1::2], *tail[0::2]]:
        shuffled.add_items(message["items"])
    for name in ("transcript", "turns", "usage", "stats", "timeline", "voice_latency"):
        pd.testing.assert_frame_equal(getattr(shuffled, name), getattr(record, name), obj=name)


def test_turn_maths_on_a_hand_built_stream() -> None:
    record = SessionRecord()
    record.add_items(
        [
            ev(0, {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": "u1"}),
            ev(1500, {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 1500, "item_id": "u1"}),
            ev(1520, {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}}),
            ev(2100, {"type": "output_audio_buffer.started", "response_id": "r1"}),
            ev(
                2600,
                {
                    "type": "response.done",
                    "response": {"id": "r1", "status": "completed", "usage": {"input_tokens": 10, "output_tokens": 20}},
                },
            ),
            {
                "k": "voice_latency",
                "t": T0 + 2200,
                "ms": 950.0,
                "user_speech_end_t": T0 + 1000,
                "assistant_audio_start_t": T0 + 1950,
            },
            ev(3000, {"type": "input_audio_buffer.speech_started", "audio_start_ms": 3000, "item_id": "u2"}),
            ev(3100, {"type": "response.created", "response": {"id": "r2"}}),
            ev(
                3200,
                {
                    "type": "response.done",
                    "response": {
                        "id": "r2",
                        "status": "cancelled",
                        "status_details": {"type": "cancelled", "reason": "client_cancelled"},
                    },
                },
            ),
        ]
    )
    turns = record.turns
    assert turns["latency_ms"].tolist()[0] == 600.0
    assert turns["response_duration_ms"].tolist() == [1080.0, 100.0]
    assert turns["voice_to_voice_ms"].tolist()[0] == 950.0
    assert math.isnan(turns["voice_to_voice_ms"].tolist()[1])
    assert turns["interrupted"].tolist() == [False, True]
    assert turns["input_tokens"].tolist() == [10, pd.NA]
    assert turns["first_audio"].isna().tolist() == [False, True]


def test_typed_messages_and_push_to_talk_commits_start_turns() -> None:
    record = SessionRecord()
    typed = {"id": "u1", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi there"}]}
    record.add_items(
        [
            ev(0, {"type": "conversation.item.create", "item": typed}, direction="client"),
            ev(5, {"type": "conversation.item.added", "item": typed}),
            ev(6, {"type": "response.created", "response": {"id": "r1"}}),
            ev(400, {"type": "response.output_text.done", "response_id": "r1", "item_id": "a1", "output_index": 0,
                     "content_index": 0, "text": "Hello!"}),
            ev(1000, {"type": "input_audio_buffer.committed", "item_id": "u2"}),
            ev(1010, {"type": "response.created", "response": {"id": "r2"}}),
        ]
    )  # fmt: skip
    turns = record.turns
    assert turns["user_item_id"].tolist() == ["u1", "u2"]
    assert turns["response_id"].tolist() == ["r1", "r2"]
    assert turns["speech_started"].isna().all()
    assert record.transcript_lines() == ["user: Hi there", "assistant: Hello!"]


def test_utterance_reads_a_finished_utterance_from_one_item() -> None:
    done = ev(0, {"type": "response.output_audio_transcript.done", "item_id": "a1", "response_id": "r1",
                  "transcript": "Sure."})  # fmt: skip
    assert utterance(done) == {"role": "assistant", "text": "Sure.", "item_id": "a1", "response_id": "r1"}
    assert utterance(ev(0, {"type": "response.created", "response": {"id": "r1"}})) is None
    assert utterance({"k": "stats", "t": 0}) is None
    typed = {"id": "u1", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
    assert utterance(ev(0, {"type": "conversation.item.added", "item": typed}))["text"] == "Hi"  # type: ignore[index]


def test_usage_cost_uses_cached_rates_and_editable_prices() -> None:
    record = SessionRecord()
    usage = {
        "total_tokens": 1_300_000,
        "input_tokens": 1_000_000,
        "output_tokens": 300_000,
        "input_token_details": {
            "text_tokens": 400_000,
            "audio_tokens": 600_000,
            "cached_tokens": 300_000,
            "cached_tokens_details": {"text_tokens": 100_000, "audio_tokens": 200_000},
        },
        "output_token_details": {"text_tokens": 100_000, "audio_tokens": 200_000},
    }
    record.add_items(
        [
            ev(0, {"type": "session.created", "session": {"type": "realtime", "model": "gpt-realtime"}}),
            ev(10, {"type": "response.done", "response": {"id": "r1", "status": "completed", "usage": usage}}),
        ]
    )
    p = DEFAULT_PRICES["gpt-realtime"]
    expected = (
        0.3 * p.text_in + 0.1 * p.text_cached_in + 0.4 * p.audio_in + 0.2 * p.audio_cached_in
        + 0.1 * p.text_out + 0.2 * p.audio_out
    )  # fmt: skip
    assert record.usage["cost_usd"].iloc[0] == pytest.approx(expected)
    assert record.usage["model"].iloc[0] == "gpt-realtime"
    assert record.usage["cached_audio_tokens"].iloc[0] == 200_000
    flat = ModelPrices(1, 1, 1, 1, 1, 1)
    assert record.usage_with_cost(prices={"gpt-realtime": flat})["cost_usd"].iloc[0] == pytest.approx(1.3)
    assert math.isnan(record.usage_with_cost(model="unknown-model")["cost_usd"].iloc[0])
    record.prices["gpt-realtime"] = flat
    assert record.usage["cost_usd"].iloc[0] == pytest.approx(1.3)


def test_views_are_cached_until_the_next_append_and_callers_cannot_corrupt_them() -> None:
    record = SessionRecord()
    record.add_items([ev(0, {"type": "session.created", "session": {"type": "realtime"}})])
    first = record.events
    first.loc[0, "type"] = "changed"
    assert record.events.loc[0, "type"] == "session.created"
    record.add_items([ev(1, {"type": "input_audio_buffer.cleared"})])
    assert len(record.events) == 2


def test_malformed_events_are_kept_and_reported_by_validate() -> None:
    record = SessionRecord()
    record.add_items(
        [
            {"k": "event", "t": T0, "dir": "server", "event": None, "raw": "{not json"},
            ev(1, {"type": "response.not_a_real_event"}),
            ev(2, {"type": "input_audio_buffer.speech_started", "item_id": "u1"}),  # missing audio_start_ms
            ev(3, {"type": "response.create"}, direction="client"),
            {"k": "event", "t": T0 + 4, "dir": "server", "event": [1, 2]},
        ]
    )
    events = record.events
    assert events["raw"].tolist()[0] == "{not json"
    assert pd.isna(events["payload"].iloc[0])
    assert record.event(0) is None
    problems = record.validate()
    assert problems["index"].tolist() == [0, 1, 2, 4]
    assert problems["error"].iloc[0] == "not JSON"
    assert "audio_start_ms" in problems["error"].iloc[2]
    assert "malformed" in record.summary()


def test_clock_offset_shifts_browser_items_onto_the_kernel_clock() -> None:
    record = SessionRecord()
    record.add_items([ev(0, {"type": "input_audio_buffer.cleared"})], clock_offset_ms=250.0)
    record.add_items(
        [
            {
                "k": "timeline",
                "t": T0 + 10,
                "what": "clock_offset",
                "attempt": 1,
                "detail": {"offset_ms": -100.0, "rtt_ms": 3.0},
            },
            ev(20, {"type": "input_audio_buffer.cleared"}),
        ]
    )
    times = record.events["time"]
    assert times.iloc[0] == pd.Timestamp(T0 + 250, unit="ms", tz="UTC")
    assert times.iloc[1] == pd.Timestamp(T0 - 80, unit="ms", tz="UTC")
    assert (record.clock_offset_ms, record.clock_rtt_ms) == (-100.0, 3.0)


def test_kernel_timeline_and_tool_calls() -> None:
    record = SessionRecord()
    at = datetime(2026, 1, 15, 9, 0, 1, tzinfo=UTC)
    record.add_kernel_timeline("key_minted", {"attempt": 1}, at=at)
    record.add_items([{"k": "timeline", "t": T0, "what": "mint_start", "attempt": 1, "detail": {}}])
    record.add_tool_call(
        {
            "call_id": "c1",
            "name": "f",
            "arguments": {"x": 1},
            "output": None,
            "error": "boom",
            "traceback": "tb",
            "started": at,
            "duration_ms": 12,
        }
    )
    timeline = record.timeline
    assert timeline["source"].tolist() == ["browser", "kernel"]
    assert timeline["attempt"].tolist() == [1, pd.NA]
    tools = record.tool_calls
    assert tools["arguments"].iloc[0] == '{"x": 1}'
    assert tools["duration_ms"].iloc[0] == 12.0
    assert pd.isna(tools["output"].iloc[0])
    assert tools["started"].iloc[0] == pd.Timestamp(at)


def test_on_append_listeners_see_each_batch_and_failures_do_not_break_appending() -> None:
    record = SessionRecord()
    seen: list[list[dict[str, Any]]] = []
    remove = record.on_append(seen.append)

    def broken(items: list[dict[str, Any]]) -> None:
        raise RuntimeError("listener bug")

    record.on_append(broken)
    batch = [ev(0, {"type": "input_audio_buffer.cleared"}), {"k": "bogus", "t": 1}]
    assert record.add_items(batch) == 1
    assert len(seen) == 1
    assert seen[0][0]["event"]["type"] == "input_audio_buffer.cleared"
    remove()
    record.add_items(batch)
    assert len(seen) == 1


def test_history_items_keep_recent_events_and_older_transcript_events(record: SessionRecord) -> None:
    history = record.history_items(limit=60)
    events = record.events
    done_types = {"response.output_audio_transcript.done", "conversation.item.input_audio_transcription.completed"}
    assert sum(item["event"]["type"] in done_types for item in history) == int(events["type"].isin(done_types).sum())
    assert len(record.history_items(limit=3)) <= 6  # bounded: at most `limit` older transcript items
    assert history[-1]["event"] == record.event(len(events) - 1)
    expected = [t.timestamp() * 1000 for t in events["time"].iloc[-60:]]
    assert [item["t"] for item in history[-60:]] == pytest.approx(expected, abs=0.001)


def test_summary_and_reprs(record: SessionRecord) -> None:
    text = record.summary()
    assert "Turns: 8 (1 interrupted), 0 tool call(s)" in text
    assert "Median latency:" in text
    assert "1 error event(s)" in text
    assert "<table>" in record._repr_html_()
    assert repr(record).startswith("<SessionRecord test:")


def test_last_stats_is_the_latest_sample(record: SessionRecord) -> None:
    stats = record.stats
    last = record.last_stats
    assert last is not None
    assert last["rtt_ms"] == stats["rtt_ms"].iloc[-1]
    assert SessionRecord().last_stats is None


def test_sample_session_includes_the_kernel_side() -> None:
    record = sample_session(6)
    assert len(record.tool_calls) == 1
    assert {"key_minted", "tool_started", "tool_finished"} <= set(record.timeline["what"])
