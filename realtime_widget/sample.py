"""A synthetic but protocol-true session, for examples, tests and benchmarks.

:func:`synthetic_items` produces the wire items (``docs/wire.md``) a browser would report for a WebRTC session with
the GA Realtime API: a connect sequence, ``turns`` user turns with server VAD, input transcription, spoken replies, one
tool call, one barge-in interruption, one recoverable ``error``, a dropped connection with a reconnect, ``getStats``
samples once a second and voice-to-voice latencies. Every event validates against ``openai.types.realtime`` (the tests
check this), so analysis code written against the sample works on real sessions.

:func:`sample_session` loads those items into a :class:`~realtime_widget.record.SessionRecord`, with the kernel's side
(key minting and the tool run) added as the widget would.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from realtime_widget.record import SessionRecord

__all__ = ["SAMPLE_START", "batches", "sample_session", "synthetic_items"]

#: When the sample session starts (fixed, so samples are reproducible).
SAMPLE_START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)

_USER_LINES = [
    "What's the weather like in Paris today",
    "Can you summarise the sales numbers for last quarter",
    "Tell me a short joke about databases",
    "How many rows does the orders table have",
    "What time is it in Tokyo",
    "Thanks that's all for now",
    "Explain what jitter means in a voice call",
    "Which region had the highest revenue",
]
_ASSISTANT_LINES = [
    "It's sunny in Paris today, around eighteen degrees, with a light breeze from the west.",
    "Sales grew eight percent last quarter, led by the north region, while returns stayed flat.",
    "Why did the database administrator leave the party early? Too many open connections.",
    "The orders table has about one point two million rows, most of them from this year.",
    "It's a quarter past six in the evening in Tokyo right now.",
    "You're welcome. Talk to you soon.",
    "Jitter is the variation in packet arrival times; a jitter buffer smooths it out before playback.",
    "The north region had the highest revenue, a little over four million dollars.",
]
_TOOL_NAME = "query_table"
_TOOL_ARGUMENTS = {"table": "orders", "question": "row count"}


@dataclass
class _Clock:
    ms: float

    def advance(self, ms: float) -> float:
        self.ms += ms
        return self.ms


@dataclass
class _Builder:
    rng: random.Random
    clock: _Clock
    model: str
    items: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0
    audio_ms: int = 0

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter:06d}{self.rng.randrange(16**8):08x}"

    def server(self, event: dict[str, Any], gap_ms: float = 1.0) -> None:
        t = self.clock.advance(gap_ms)
        self.items.append({"k": "event", "t": t, "dir": "server", "event": {"event_id": self.new_id("event"), **event}})

    def client(self, event: dict[str, Any], gap_ms: float = 1.0) -> None:
        t = self.clock.advance(gap_ms)
        self.items.append({"k": "event", "t": t, "dir": "client", "event": {"event_id": self.new_id("evt"), **event}})

    def timeline(self, what: str, attempt: int, gap_ms: float, **detail: Any) -> None:
        t = self.clock.advance(gap_ms)
        self.items.append({"k": "timeline", "t": t, "what": what, "attempt": attempt, "detail": detail})


def _session(model: str, session_id: str) -> dict[str, Any]:
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "You are a helpful data assistant.",
        "tools": [{"type": "function", "name": _TOOL_NAME, "description": "Query a table", "parameters": {}}],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-mini-transcribe"},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1.0},
        },
    }


def _connect(b: _Builder, attempt: int, session_id: str, first: bool) -> None:
    b.timeline("connect_requested" if first else "reconnect_scheduled", attempt, 5)
    b.timeline("mint_start", attempt, 2)
    b.timeline("mint_end", attempt, b.rng.uniform(180, 320))
    if first:
        b.timeline("mic_start", attempt, 1)
        b.timeline("mic_ready", attempt, b.rng.uniform(40, 120))
    b.timeline("offer_created", attempt, 4)
    b.timeline("answer_received", attempt, b.rng.uniform(250, 450), call_id=b.new_id("rtc"))
    b.timeline("ice_state", attempt, 3, state="checking")
    b.timeline("connection_state", attempt, 1, state="connecting")
    b.timeline("ice_state", attempt, b.rng.uniform(30, 90), state="connected")
    b.timeline("connection_state", attempt, 20, state="connected")
    b.timeline("dc_open", attempt, 8)
    b.server({"type": "session.created", "session": _session(b.model, session_id)}, 3)
    b.client({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}, 2)
    b.timeline("session_update_sent", attempt, 0.2)
    b.server({"type": "session.updated", "session": _session(b.model, session_id)}, b.rng.uniform(40, 90))
    b.timeline("session_updated", attempt, 0.2)
    b.timeline("connected", attempt, 0.1)
    if first:
        offset = b.rng.uniform(-40, 40)
        b.timeline("clock_offset", attempt, 15, offset_ms=round(offset, 3), rtt_ms=round(b.rng.uniform(1, 4), 3))


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def _usage(rng: random.Random, n_words: int, turn: int, audio: bool) -> dict[str, Any]:
    text_in = 120 + 40 * turn
    audio_in = 60 + 30 * turn
    cached = min(text_in + audio_in - 64, 64 * turn)
    cached_text = min(cached, text_in)
    out_text = n_words * 2 if audio else n_words + 12
    out_audio = n_words * 6 if audio else 0
    return {
        "total_tokens": text_in + audio_in + out_text + out_audio,
        "input_tokens": text_in + audio_in,
        "output_tokens": out_text + out_audio,
        "input_token_details": {
            "text_tokens": text_in,
            "audio_tokens": audio_in,
            "image_tokens": 0,
            "cached_tokens": cached,
            "cached_tokens_details": {
                "text_tokens": cached_text,
                "audio_tokens": cached - cached_text,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
    }


def _user_speech(b: _Builder, line: str) -> tuple[str, float]:
    """speech_started → speech_stopped → committed → item added → transcription. Returns (item id, speech end t)."""
    item_id = b.new_id("item")
    speech_ms = 250 * len(line.split(" ")) + b.rng.uniform(0, 400)
    b.server(
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": b.audio_ms, "item_id": item_id},
        b.rng.uniform(800, 3000),
    )
    user_end_t = b.clock.ms + speech_ms
    b.audio_ms += int(speech_ms + 500)
    # server VAD reports the stop after the silence duration (500 ms) has passed.
    b.server(
        {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": b.audio_ms, "item_id": item_id}, speech_ms + 500
    )
    b.server({"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None}, 4)
    user_item = {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    }
    b.server({"type": "conversation.item.added", "item": user_item}, 2)
    b.server({"type": "conversation.item.done", "item": user_item}, 1)
    return item_id, user_end_t


def _transcribe(b: _Builder, item_id: str, line: str) -> None:
    for word in _words(line):
        b.server(
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": item_id,
                "content_index": 0,
                "delta": word,
            },
            b.rng.uniform(5, 20),
        )
    b.server(
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": item_id,
            "content_index": 0,
            "transcript": line,
            "usage": {"type": "duration", "seconds": 2.0},
        },
        5,
    )


def _response_created(b: _Builder, gap_ms: float) -> str:
    response_id = b.new_id("resp")
    response = {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []}
    b.server({"type": "response.created", "response": response}, gap_ms)
    return response_id


def _response_done(b: _Builder, response_id: str, status: str, reason: str | None, usage: dict[str, Any]) -> None:
    response: dict[str, Any] = {"id": response_id, "object": "realtime.response", "status": status, "usage": usage}
    if reason is not None:
        response["status_details"] = {"type": status, "reason": reason}
    b.server({"type": "response.done", "response": response}, 3)


def _tool_call(b: _Builder, turn: int) -> str:
    """A response that only calls the tool; returns the call id. The kernel answers (see _tool_output)."""
    response_id = _response_created(b, b.rng.uniform(15, 40))
    item_id, call_id = b.new_id("item"), b.new_id("call")
    fc = {"id": item_id, "type": "function_call", "call_id": call_id, "name": _TOOL_NAME, "arguments": ""}
    b.server({"type": "response.output_item.added", "response_id": response_id, "output_index": 0, "item": fc}, 200)
    arguments = json.dumps(_TOOL_ARGUMENTS)
    for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
        b.server(
            {
                "type": "response.function_call_arguments.delta",
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "call_id": call_id,
                "delta": piece,
            },
            15,
        )
    b.server(
        {
            "type": "response.function_call_arguments.done",
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "call_id": call_id,
            "name": _TOOL_NAME,
            "arguments": arguments,
        },
        5,
    )
    done_item = {**fc, "arguments": arguments, "status": "completed"}
    b.server({"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": done_item})
    _response_done(b, response_id, "completed", None, _usage(b.rng, 8, turn, audio=False))
    return call_id


def _tool_output(b: _Builder, call_id: str, run_ms: float) -> None:
    output = json.dumps({"rows": 1_204_311})
    item = {"type": "function_call_output", "call_id": call_id, "output": output}
    b.client({"type": "conversation.item.create", "item": item}, run_ms)
    b.client({"type": "response.create"}, 1)
    b.server(
        {
            "type": "conversation.item.added",
            "item": {"id": b.new_id("item"), "object": "realtime.item", "status": "completed", **item},
        },
        30,
    )


#: How long the assistant takes to say a word (about 180 words a minute), for playback times.
_SPOKEN_MS_PER_WORD = 330


def _spoken_reply(
    b: _Builder, turn: int, line: str, first_gap_ms: float, cut_after_words: int | None
) -> tuple[str, float]:
    """An audio response as the real API sends it: generated faster than it is spoken, so ``response.done`` comes
    while the audio still plays. With ``cut_after_words`` the user barges in after that many words have been heard:
    the server clears the output buffer and truncates the item. Returns (response id, audio start t)."""
    response_id = _response_created(b, first_gap_ms)
    item_id = b.new_id("item")
    item: dict[str, Any] = {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant",
                            "status": "in_progress", "content": []}  # fmt: skip
    b.server({"type": "response.output_item.added", "response_id": response_id, "output_index": 0, "item": item}, 2)
    b.server({"type": "conversation.item.added", "item": item}, 1)
    part = {"type": "audio", "transcript": ""}
    where = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
    b.server({"type": "response.content_part.added", **where, "part": part}, 1)
    b.server({"type": "output_audio_buffer.started", "response_id": response_id}, b.rng.uniform(250, 600))
    audio_start = b.clock.ms
    words = _words(line)
    transcript = _generate(b, where, words)
    b.server({"type": "response.content_part.done", **where, "part": {**part, "transcript": transcript}}, 1)
    done_item = {**item, "status": "completed", "content": [{"type": "output_audio", "transcript": transcript}]}
    b.server({"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": done_item})
    b.server({"type": "conversation.item.done", "item": done_item}, 1)
    _response_done(b, response_id, "completed", None, _usage(b.rng, len(words), turn, audio=True))
    if cut_after_words is None:
        _play_until(b, audio_start + _SPOKEN_MS_PER_WORD * len(words) + 200)
        b.server({"type": "output_audio_buffer.stopped", "response_id": response_id}, 0)
    else:
        _barge_in(b, response_id, item_id, audio_start, _SPOKEN_MS_PER_WORD * cut_after_words)
    return response_id, audio_start


def _generate(b: _Builder, where: dict[str, Any], words: list[str]) -> str:
    """The reply's transcript deltas, at generation speed (a few tens of ms a word); returns the transcript."""
    for word in words:
        b.server({"type": "response.output_audio_transcript.delta", **where, "delta": word}, b.rng.uniform(10, 30))
    transcript = "".join(words)
    b.server({"type": "response.output_audio.done", **where}, 2)
    b.server({"type": "response.output_audio_transcript.done", **where, "transcript": transcript}, 1)
    return transcript


def _play_until(b: _Builder, t: float) -> None:
    b.clock.ms = max(b.clock.ms, t)


def _barge_in(b: _Builder, response_id: str, item_id: str, audio_start: float, heard_ms: int) -> None:
    """The user speaks over the reply: server VAD sees speech, clears the WebRTC output buffer and truncates the
    item at what was heard (the server does it over WebRTC; the client does not ask)."""
    _play_until(b, audio_start + heard_ms)
    b.server(
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": b.audio_ms, "item_id": b.new_id("item")}, 40
    )
    b.items[-1]["_barge_in"] = True
    b.server({"type": "output_audio_buffer.cleared", "response_id": response_id}, 20)
    truncated = {"item_id": item_id, "content_index": 0, "audio_end_ms": heard_ms}
    b.server({"type": "conversation.item.truncated", **truncated}, 2)


def _stats(rng: random.Random, start_ms: float, end_ms: float, every_ms: float) -> Iterator[dict[str, Any]]:
    t, n = start_ms, 0
    while t < end_ms:
        n += 1
        spike = 1.0 if rng.random() > 0.03 else rng.uniform(3, 6)
        yield {
            "k": "stats",
            "t": t,
            "rtt_ms": round(rng.gauss(38, 4) * spike, 2),
            "jitter_ms": round(abs(rng.gauss(4, 1.2)) * spike, 2),
            "packets_received": 50 * n,
            "packets_lost": n // 120,
            "bytes_received": 4200 * n,
            "bytes_sent": 4000 * n,
            "bitrate_in_kbps": round(rng.gauss(32, 2), 2),
            "bitrate_out_kbps": round(rng.gauss(30, 2), 2),
            "audio_level_in": round(rng.uniform(0, 0.3), 4),
            "audio_level_out": round(rng.uniform(0, 0.4), 4),
            "codec": "opus",
        }
        t += every_ms


def synthetic_items(
    turns: int = 8,
    *,
    seed: int = 0,
    start: datetime = SAMPLE_START,
    model: str = "gpt-realtime",
    tool_turn: int | None = 2,
    interrupt_turn: int | None = 4,
    reconnect_after_turn: int | None = 5,
    error_turn: int | None = 3,
    stats_every_ms: float | None = 1000.0,
    words_scale: int = 1,
) -> list[dict[str, Any]]:
    """The wire items of a synthetic session, ordered by ``t`` (browser ms since the Unix epoch).

    ``turns`` user turns; turn ``tool_turn`` asks something answered with a tool call, the reply in
    ``interrupt_turn`` is cut off by the user (so the next turn starts while it plays), the connection drops after
    ``reconnect_after_turn`` and reconnects, and ``error_turn`` sends a bad ``conversation.item.truncate`` that gets an
    ``error`` back. Pass ``None`` to leave any of these out. ``words_scale`` repeats each reply that many times, to
    make long event streams for benchmarks. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    b = _Builder(rng, _Clock(start.timestamp() * 1000.0), model)
    session_id = b.new_id("sess")
    t0 = b.clock.ms
    attempt = 1
    _connect(b, attempt, session_id, first=True)
    b.server({"type": "conversation.item.added", "item": {"id": b.new_id("item"), "type": "message", "role": "system",
              "content": [{"type": "input_text", "text": "Be brief."}]}}, 2)  # fmt: skip
    barge_in = False
    for turn in range(turns):
        line = _USER_LINES[turn % len(_USER_LINES)]
        reply = " ".join([_ASSISTANT_LINES[turn % len(_ASSISTANT_LINES)]] * words_scale)
        if barge_in:
            # speech_started was already sent during the cut-off reply; pick up from there.
            item_id, user_end_t = _continue_barge_in(b, line)
            barge_in = False
        else:
            item_id, user_end_t = _user_speech(b, line)
        if turn == tool_turn:
            call_id = _tool_call(b, turn)
            _transcribe(b, item_id, line)
            _tool_output(b, call_id, rng.uniform(60, 250))
            first_gap = 20.0
        else:
            first_gap = rng.uniform(10, 40)
        cut = 5 if turn == interrupt_turn and turn + 1 < turns else None
        if turn != tool_turn:
            # transcription runs alongside the response; here its deltas land just before response.created.
            _transcribe(b, item_id, line)
        _, audio_start = _spoken_reply(b, turn, reply, first_gap, cut)
        _voice_latency(b, user_end_t, audio_start)
        if turn == 0:
            b.items.append({"k": "timeline", "t": audio_start, "what": "first_audio", "attempt": attempt, "detail": {}})
        barge_in = cut is not None
        if turn == error_turn:
            _refused_truncate(b)
        if turn == reconnect_after_turn:
            attempt = _drop_and_reconnect(b, attempt)
        _rate_limits(b, turn)
    b.timeline("closed", attempt, 3000)
    items = b.items
    for item in items:
        item.pop("_barge_in", None)
    if stats_every_ms:
        items = items + list(_stats(rng, t0 + 1500, b.clock.ms, stats_every_ms))
    items.sort(key=lambda item: item["t"])
    return items


def _voice_latency(b: _Builder, user_end_t: float, audio_start: float) -> None:
    """What the browser measures from the audio levels: the user's speech ending to the reply becoming audible."""
    b.items.append(
        {
            "k": "voice_latency",
            "t": audio_start + 20,
            "ms": round(audio_start - user_end_t + b.rng.uniform(40, 120), 3),
            "user_speech_end_t": user_end_t,
            "assistant_audio_start_t": audio_start + b.rng.uniform(40, 120),
        }
    )


def _refused_truncate(b: _Builder) -> None:
    """A bad ``conversation.item.truncate`` (no such item) and the server's ``error`` naming it."""
    b.client({"type": "conversation.item.truncate", "item_id": "item_missing", "content_index": 0,
              "audio_end_ms": 1500}, 300)  # fmt: skip
    bad_event_id = b.items[-1]["event"]["event_id"]
    error = {"type": "invalid_request_error", "code": "item_not_found", "param": "item_id",
             "message": "Item with item_id 'item_missing' not found.", "event_id": bad_event_id}  # fmt: skip
    b.server({"type": "error", "error": error}, 45)


def _drop_and_reconnect(b: _Builder, attempt: int) -> int:
    """The connection drops and the widget connects again (a new session); returns the new attempt number."""
    b.timeline("connection_state", attempt, 2000, state="disconnected")
    b.timeline("disconnected", attempt, 5000, code="ice_failed", message="The connection dropped.")
    _connect(b, attempt + 1, b.new_id("sess"), first=False)
    return attempt + 1


def _rate_limits(b: _Builder, turn: int) -> None:
    limits = [{"name": "tokens", "limit": 40000, "remaining": 39000 - 500 * turn, "reset_seconds": 6}]
    b.server({"type": "rate_limits.updated", "rate_limits": limits}, 5)


def _continue_barge_in(b: _Builder, line: str) -> tuple[str, float]:
    started = next(i for i in reversed(b.items) if i.get("_barge_in"))
    item_id: str = started["event"]["item_id"]
    speech_ms = 250 * len(line.split(" "))
    user_end_t = started["t"] + speech_ms
    b.clock.ms = max(b.clock.ms, started["t"])
    b.audio_ms += int(speech_ms + 500)
    b.server(
        {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": b.audio_ms, "item_id": item_id}, speech_ms + 500
    )
    b.server({"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None}, 4)
    user_item = {"id": item_id, "object": "realtime.item", "type": "message", "role": "user", "status": "completed",
                 "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
    b.server({"type": "conversation.item.added", "item": user_item}, 2)
    return item_id, user_end_t


def batches(items: list[dict[str, Any]], size: int = 200, client: str = "sample-client") -> list[dict[str, Any]]:
    """Split wire items into ``rtw:batch`` messages of at most ``size`` items, seq from 1."""
    return [
        {"type": "rtw:batch", "client": client, "seq": n + 1, "items": items[i : i + size]}
        for n, i in enumerate(range(0, len(items), size))
    ]


def sample_session(turns: int = 8, *, seed: int = 0) -> SessionRecord:
    """A :class:`SessionRecord` of a synthetic ``turns``-turn session (see :func:`synthetic_items`).

    Includes the kernel's side: the ephemeral key minted before each connect attempt and the tool call's run.
    """
    items = synthetic_items(turns, seed=seed)
    record = SessionRecord(session_id=f"sample-{seed}")
    for batch in batches(items, size=50):
        record.add_items(batch["items"])
    for item in items:
        if item["k"] == "timeline" and item["what"] == "mint_start":
            at = _kernel_time(record, item["t"])
            record.add_kernel_timeline("key_minted", {"attempt": item["attempt"]}, at=at + timedelta(milliseconds=150))
    _add_tool_runs(record, items)
    return record


def _kernel_time(record: SessionRecord, browser_ms: float) -> datetime:
    return datetime.fromtimestamp((browser_ms + record.clock_offset_ms) / 1000.0, UTC)


def _add_tool_runs(record: SessionRecord, items: list[dict[str, Any]]) -> None:
    by_call: dict[str, float] = {}
    for item in items:
        event = item.get("event") or {}
        if event.get("type") == "response.function_call_arguments.done":
            by_call[event["call_id"]] = item["t"]
        elif event.get("type") == "conversation.item.create" and event["item"].get("type") == "function_call_output":
            call_id = event["item"]["call_id"]
            started = by_call.get(call_id)
            if started is None:
                continue
            started_at = _kernel_time(record, started + 5)
            duration = item["t"] - started - 10
            record.add_kernel_timeline("tool_started", {"call_id": call_id, "name": _TOOL_NAME}, at=started_at)
            record.add_tool_call(
                {
                    "call_id": call_id,
                    "name": _TOOL_NAME,
                    "arguments": json.dumps(_TOOL_ARGUMENTS),
                    "output": event["item"]["output"],
                    "error": None,
                    "traceback": None,
                    "started": started_at,
                    "duration_ms": duration,
                }
            )
            record.add_kernel_timeline(
                "tool_finished",
                {"call_id": call_id, "ok": True},
                at=started_at + timedelta(milliseconds=duration),
            )
