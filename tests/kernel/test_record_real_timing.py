"""The record under the real API's timing: replies are generated faster than real time, so ``response.done``
usually comes before the user has heard the reply, and an interruption shows as a cleared output buffer and a
truncated item (sent by the server over WebRTC, asked for by the client over WebSocket), not as a cancelled
response. Each test feeds an event order the real API produces."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from realtime_widget.record import SessionRecord
from realtime_widget.record.derive import DEFAULT_CHARS_PER_S, heard_part

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC).timestamp() * 1000.0
REPLY = "one two three four five six seven eight nine ten"


def ev(t: float, event: dict[str, Any], direction: str = "server") -> dict[str, Any]:
    return {"k": "event", "t": T0 + t, "dir": direction, "event": {"event_id": f"e{t}-{event['type']}", **event}}


def user_turn(t: float, item_id: str) -> list[dict[str, Any]]:
    return [
        ev(t, {"type": "input_audio_buffer.speech_started", "audio_start_ms": int(t), "item_id": item_id}),
        ev(t + 800, {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": int(t + 800), "item_id": item_id}),
        ev(t + 805, {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None}),
    ]


def generated_reply(t: float, response_id: str, item_id: str, text: str = REPLY) -> list[dict[str, Any]]:
    """A spoken reply generated in 300 ms: created, its item, the transcript, done; the audio plays on."""
    ids = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
    item = {"id": item_id, "type": "message", "role": "assistant", "content": []}
    return [
        ev(t, {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}}),
        ev(t + 5, {"type": "response.output_item.added", "response_id": response_id, "output_index": 0, "item": item}),
        ev(t + 40, {"type": "response.output_audio_transcript.delta", **ids, "delta": text.split(" ", maxsplit=1)[0]}),
        ev(t + 60, {"type": "output_audio_buffer.started", "response_id": response_id}),
        ev(t + 290, {"type": "response.output_audio_transcript.done", **ids, "transcript": text}),
        ev(t + 300, {"type": "response.done", "response": {"id": response_id, "status": "completed"}}),
    ]


def test_a_barge_in_after_the_reply_was_generated_counts_as_an_interruption_webrtc() -> None:
    record = SessionRecord()
    record.add_items(
        [
            *user_turn(0, "u1"),
            *generated_reply(1000, "r1", "a1"),
            # 1.5 s into the reply (long after response.done) the user speaks: the server clears and truncates.
            ev(2560, {"type": "input_audio_buffer.speech_started", "audio_start_ms": 2560, "item_id": "u2"}),
            ev(2565, {"type": "output_audio_buffer.cleared", "response_id": "r1"}),
            ev(
                2566, {"type": "conversation.item.truncated", "item_id": "a1", "content_index": 0, "audio_end_ms": 1500}
            ),
        ]
    )
    turn = record.turns.iloc[0]
    assert bool(turn["interrupted"])
    assert turn["status"] == "completed"  # the response itself completed: generation had ended
    assert turn["speaking_ms"] == 1500.0  # what was played, from the truncation
    assert turn["response_duration_ms"] == 300.0  # generation time, not speaking time
    row = record.transcript.query("role == 'assistant'").iloc[0]
    assert bool(row["interrupted"])
    assert row["audio_end_ms"] == 1500.0
    assert row["generated_text"] == REPLY
    assert row["text"] == heard_part(REPLY, 1500, DEFAULT_CHARS_PER_S / 1000)
    assert REPLY.startswith(row["text"])
    assert len(row["text"]) < len(REPLY)


def test_the_cut_uses_the_speaking_rate_of_replies_heard_in_full() -> None:
    record = SessionRecord()
    first = "a b c d e f g h i j k l m n o p q r s t"  # 39 characters heard in 1950 ms: 20 characters a second
    record.add_items(
        [
            *user_turn(0, "u1"),
            *generated_reply(1000, "r1", "a1", first),
            ev(3010, {"type": "output_audio_buffer.stopped", "response_id": "r1"}),
            *user_turn(4000, "u2"),
            *generated_reply(5000, "r2", "a2"),
            ev(5560, {"type": "input_audio_buffer.speech_started", "audio_start_ms": 5560, "item_id": "u3"}),
            ev(5565, {"type": "output_audio_buffer.cleared", "response_id": "r2"}),
            ev(5566, {"type": "conversation.item.truncated", "item_id": "a2", "content_index": 0, "audio_end_ms": 500}),
        ]
    )
    turns = record.turns
    assert turns["interrupted"].tolist() == [False, True, False]
    assert turns["speaking_ms"].tolist()[:2] == [1950.0, 500.0]
    assert record.transcript.query("item_id == 'a2'")["text"].iloc[0] == "one two three"  # 10 characters in 500 ms


def test_the_interrupt_button_while_only_playing_clears_and_counts() -> None:
    # The widget's Interrupt sends output_audio_buffer.clear alone when no response is being generated (as the
    # Agents SDK's interrupt() does); the server answers with cleared and no truncation.
    record = SessionRecord()
    record.add_items(
        [
            *user_turn(0, "u1"),
            *generated_reply(1000, "r1", "a1"),
            ev(2000, {"type": "output_audio_buffer.clear"}, direction="client"),
            ev(2010, {"type": "output_audio_buffer.cleared", "response_id": "r1"}),
        ]
    )
    turn = record.turns.iloc[0]
    assert bool(turn["interrupted"])
    assert turn["speaking_ms"] == 950.0  # output_audio_buffer.started → cleared
    row = record.transcript.query("role == 'assistant'").iloc[0]
    assert not bool(row["interrupted"])
    assert row["text"] == REPLY  # nothing says how much of the text was heard


def test_websocket_the_client_truncates_what_it_played() -> None:
    record = SessionRecord()
    reply = [e for e in generated_reply(1000, "r1", "a1") if e["event"]["type"] != "output_audio_buffer.started"]
    record.add_items(
        [
            *user_turn(0, "u1"),
            *reply,
            ev(
                2400,
                {"type": "conversation.item.truncate", "item_id": "a1", "content_index": 0, "audio_end_ms": 1200},
                direction="client",
            ),
            ev(
                2410, {"type": "conversation.item.truncated", "item_id": "a1", "content_index": 0, "audio_end_ms": 1200}
            ),
        ]
    )
    turn = record.turns.iloc[0]
    assert bool(turn["interrupted"])
    assert turn["speaking_ms"] == 1200.0
    assert bool(record.transcript.query("role == 'assistant'")["interrupted"].iloc[0])


def test_a_reply_cancelled_while_generating_still_counts_and_a_full_one_does_not() -> None:
    record = SessionRecord()
    record.add_items(
        [
            *user_turn(0, "u1"),
            *generated_reply(1000, "r1", "a1"),
            ev(4000, {"type": "output_audio_buffer.stopped", "response_id": "r1"}),
            *user_turn(5000, "u2"),
            ev(6000, {"type": "response.created", "response": {"id": "r2", "status": "in_progress"}}),
            ev(6100, {"type": "input_audio_buffer.speech_started", "audio_start_ms": 6100, "item_id": "u3"}),
            ev(
                6120,
                {
                    "type": "response.done",
                    "response": {
                        "id": "r2",
                        "status": "cancelled",
                        "status_details": {"type": "cancelled", "reason": "turn_detected"},
                    },
                },
            ),
        ]
    )
    turns = record.turns
    assert turns["interrupted"].tolist() == [False, True, False]
    assert turns["speaking_ms"].tolist()[0] == 2940.0
    assert math.isnan(turns["speaking_ms"].tolist()[1])  # nothing was played


def test_heard_part_keeps_whole_words_that_had_begun() -> None:
    assert heard_part("one two three", 0, 0.01) == ""
    assert heard_part("one two three", 1, 0.01) == "one"
    assert heard_part("one two three", 400, 0.01) == "one"  # "two" begins just at the cut
    assert heard_part("one two three", 500, 0.01) == "one two"
    assert heard_part("one two three", 10_000, 0.01) == "one two three"


def test_transcription_usage_is_recorded_and_priced_apart_from_responses() -> None:
    session = {"type": "realtime", "model": "gpt-realtime",
               "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}  # fmt: skip
    tokens = {"type": "tokens", "total_tokens": 120, "input_tokens": 100, "output_tokens": 20,
              "input_token_details": {"audio_tokens": 100, "text_tokens": 0}}  # fmt: skip
    record = SessionRecord()
    record.add_items(
        [
            ev(0, {"type": "session.updated", "session": session}),
            *user_turn(100, "u1"),
            ev(
                1000,
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": "u1",
                    "content_index": 0,
                    "transcript": "hello",
                    "usage": tokens,
                },
            ),
            ev(
                2000,
                {
                    "type": "session.updated",
                    "session": {**session, "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
                },
            ),
            ev(
                3000,
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": "u2",
                    "content_index": 0,
                    "transcript": "again",
                    "usage": {"type": "duration", "seconds": 30},
                },
            ),
        ]
    )
    usage = record.usage
    assert usage["source"].tolist() == ["transcription", "transcription"]
    assert usage["model"].tolist() == ["gpt-4o-transcribe", "whisper-1"]
    assert usage["cost_usd"].tolist()[0] == (100 * 6.0 + 20 * 10.0) / 1_000_000
    assert math.isclose(usage["cost_usd"].tolist()[1], 0.003)  # half a minute at $0.006 a minute
    assert usage["audio_seconds"].tolist()[1] == 30.0
