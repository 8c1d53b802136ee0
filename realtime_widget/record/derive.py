"""The views computed from the event stream: transcript, turns and usage.

Each function reads only the events it needs (found by type code, so a long stream of audio-transcript deltas is
never parsed) and returns a DataFrame through :func:`~realtime_widget.record.schema.frame`. Server events only: the
client's copies (``conversation.item.create``) are intentions, the server's are what happened.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from realtime_widget.problems import problem_of
from realtime_widget.record import schema
from realtime_widget.record.pricing import ModelPrices, cost_usd
from realtime_widget.record.store import SERVER, EventStore

__all__ = ["problems", "transcript", "turns", "usage", "utterance"]

_INTERRUPT_REASONS = frozenset({"turn_detected", "client_cancelled"})
#: Speaking rate used to place a cut in a reply's text when the session has no fully heard reply to measure it
#: from: about 150 words a minute, an ordinary speaking rate (the API sends no word timings).
DEFAULT_CHARS_PER_S = 14.0


def _server_events(store: EventStore, *types: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(time in µs, parsed event) for each server event of the given types, in time order (stable, so events that
    arrived in resent batches take their place by their own time)."""
    positions = store.positions_of(*types)
    order = np.argsort(store.times()[positions], kind="stable")
    for pos in positions[order].tolist():
        if store.direction[pos] != SERVER:
            continue
        event = store.event(pos)
        if event is not None:
            yield store.time_us[pos], event


def _first_time_by_id(store: EventStore, id_column: str, *types: str) -> dict[int, int]:
    """Earliest time per id code (item or response) among server events of ``types``, without parsing them.

    The earliest by time, not by position: resent batches can put a later event first in the stream."""
    first: dict[int, int] = {}
    positions = store.positions_of(*types)
    if len(positions) == 0:
        return first
    codes = store.codes(id_column)[positions].tolist()
    for pos, code in zip(positions.tolist(), codes, strict=True):
        if code >= 0 and store.direction[pos] == SERVER:
            t = store.time_us[pos]
            if t < first.get(code, t + 1):
                first[code] = t
    return first


def _id(store: EventStore, text: object) -> int:
    return store.ids.lookup(text) if isinstance(text, str) else -1


def _user_text(item: Mapping[str, Any]) -> str | None:
    if item.get("type") != "message" or item.get("role") != "user":
        return None
    parts = [p.get("text") for p in item.get("content") or [] if isinstance(p, dict) and p.get("type") == "input_text"]
    texts = [p for p in parts if isinstance(p, str)]
    return " ".join(texts) if texts else None


def utterance(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The finished utterance a single wire item announces, or ``None``: ``{"role", "text", "item_id",
    "response_id"}`` from a server ``...input_audio_transcription.completed``, ``response.output_audio_transcript.done``
    or ``response.output_text.done`` event, or a typed user message (``conversation.item.added``/``.created``).
    Cheap, for updating a live transcript from each new batch; the same rows as :attr:`SessionRecord.transcript`."""
    event = item.get("event")
    if item.get("k") != "event" or item.get("dir") != "server" or not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind == "conversation.item.input_audio_transcription.completed":
        role, text = "user", event.get("transcript")
    elif kind == "response.output_audio_transcript.done":
        role, text = "assistant", event.get("transcript")
    elif kind == "response.output_text.done":
        role, text = "assistant", event.get("text")
    elif kind in ("conversation.item.added", "conversation.item.created") and isinstance(event.get("item"), dict):
        text = _user_text(event["item"])
        if text is None:
            return None
        return {"role": "user", "text": text, "item_id": event["item"].get("id"), "response_id": None}
    else:
        return None
    return {"role": role, "text": text, "item_id": event.get("item_id"), "response_id": event.get("response_id")}


def transcript(store: EventStore, agents: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per finished utterance; see :attr:`SessionRecord.transcript` for the columns. ``agents`` names the
    agent of each response id (an Agents SDK session)."""
    rows: list[dict[str, Any]] = []
    speech_started = _first_time_by_id(store, "item_code", "input_audio_buffer.speech_started")
    speech_stopped = _first_time_by_id(store, "item_code", "input_audio_buffer.speech_stopped")
    first_user_delta = _first_time_by_id(store, "item_code", "conversation.item.input_audio_transcription.delta")
    for t, event in _server_events(store, "conversation.item.input_audio_transcription.completed"):
        code = _id(store, event.get("item_id"))
        rows.append(
            {
                "role": "user",
                "text": event.get("transcript"),
                "item_id": event.get("item_id"),
                "response_id": None,
                "started": speech_started.get(code, first_user_delta.get(code, t)),
                "ended": speech_stopped.get(code, t),
            }
        )
    seen_text_items: set[str] = set()
    for t, event in _server_events(store, "conversation.item.added", "conversation.item.created"):
        item = event.get("item")
        if not isinstance(item, dict):
            continue
        text = _user_text(item)
        item_id = item.get("id")
        if text is None or item_id in seen_text_items:
            continue
        if isinstance(item_id, str):
            seen_text_items.add(item_id)
        rows.append({"role": "user", "text": text, "item_id": item_id, "response_id": None, "started": t, "ended": t})
    rows.extend(_assistant_rows(store))
    for row in rows:
        row.setdefault("interrupted", False)
        row.setdefault("generated_text", row["text"])
        row["agent"] = (agents or {}).get(str(row["response_id"])) if row["response_id"] else None
    rows.sort(key=lambda r: (r["started"], r["ended"]))
    return _frame(schema.TRANSCRIPT, rows, ("started", "ended"))


def _assistant_rows(store: EventStore) -> list[dict[str, Any]]:
    """Each reply's transcript (or text), cut to what was heard when it was truncated."""
    rows: list[dict[str, Any]] = []
    first_delta = _first_time_by_id(
        store, "item_code", "response.output_audio_transcript.delta", "response.output_text.delta"
    )
    cuts = _truncations(store)
    chars_per_ms = _speaking_rate(store)
    for t, event in _server_events(store, "response.output_audio_transcript.done", "response.output_text.done"):
        text = (
            event.get("transcript") if event["type"] == "response.output_audio_transcript.done" else event.get("text")
        )
        item_id = event.get("item_id")
        cut_ms = cuts.get(item_id) if isinstance(text, str) and isinstance(item_id, str) else None
        rows.append(
            {
                "role": "assistant",
                "text": text if cut_ms is None else heard_part(str(text), cut_ms, chars_per_ms),
                "item_id": item_id,
                "response_id": event.get("response_id"),
                "started": first_delta.get(_id(store, item_id), t),
                "ended": t,
                "interrupted": cut_ms is not None,
                "audio_end_ms": cut_ms,
                "generated_text": text,
            }
        )
    return rows


def _truncations(store: EventStore) -> dict[str, int]:
    """``audio_end_ms`` of each truncated assistant item (the last cut, if it was cut twice)."""
    cuts: dict[str, int] = {}
    for _, event in _server_events(store, "conversation.item.truncated"):
        item_id, end = event.get("item_id"), event.get("audio_end_ms")
        if isinstance(item_id, str) and isinstance(end, int):
            cuts[item_id] = end
    return cuts


def _speaking_rate(store: EventStore) -> float:
    """Characters per millisecond of the assistant's speech in this session, from replies heard in full over
    WebRTC (``output_audio_buffer.started`` → ``.stopped`` against their transcripts); a default rate without any."""
    started = _first_time_by_id(store, "response_code", "output_audio_buffer.started")
    stopped = _first_time_by_id(store, "response_code", "output_audio_buffer.stopped")
    chars = 0
    ms = 0.0
    for _, event in _server_events(store, "response.output_audio_transcript.done"):
        code = _id(store, event.get("response_id"))
        transcript_text = event.get("transcript")
        if code in started and code in stopped and isinstance(transcript_text, str):
            chars += len(transcript_text)
            ms += (stopped[code] - started[code]) / 1000.0
    return chars / ms if chars and ms > 0 else DEFAULT_CHARS_PER_S / 1000.0


def heard_part(text: str, audio_end_ms: float, chars_per_ms: float) -> str:
    """The words of ``text`` spoken within ``audio_end_ms`` at ``chars_per_ms``: whole words only, a word counting
    as heard once it began."""
    heard_chars = audio_end_ms * chars_per_ms
    words: list[str] = []
    position = 0
    for word in text.split(" "):
        if word and position >= heard_chars:
            break
        words.append(word)
        position += len(word) + 1
    return " ".join(words).strip()


def _frame(columns: Mapping[str, str], rows: Sequence[Mapping[str, Any]], time_columns: Sequence[str]) -> pd.DataFrame:
    data: dict[str, Any] = {name: [row.get(name) for row in rows] for name in columns}
    for name in time_columns:
        data[name] = schema.times(data[name])
    return schema.frame(columns, data)


@dataclass
class _Response:
    response_id: str
    created: int
    done: int | None = None
    status: str | None = None
    interrupted: bool = False
    first_audio: int | None = None
    speaking_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass
class _Turn:
    start: int
    item_id: str
    responses: list[_Response] = field(default_factory=list)


def _turn_starts(store: EventStore) -> list[_Turn]:
    """The first sign of each user item: speech started, a commit (push-to-talk) or a user message added (text)."""
    starts: dict[str, int] = {}
    types = ("input_audio_buffer.speech_started", "input_audio_buffer.committed")
    for t, event in _server_events(store, *types, "conversation.item.added", "conversation.item.created"):
        if event["type"] in types:
            item_id = event.get("item_id")
        else:
            item = event.get("item")
            is_user = isinstance(item, dict) and item.get("type") == "message" and item.get("role") == "user"
            item_id = item.get("id") if is_user and isinstance(item, dict) else None
        if isinstance(item_id, str) and t < starts.get(item_id, t + 1):
            starts[item_id] = t
    return sorted((_Turn(t, item_id) for item_id, t in starts.items()), key=lambda turn: turn.start)


def _responses(store: EventStore) -> list[_Response]:
    responses: dict[str, _Response] = {}
    for t, event in _server_events(store, "response.created", "response.done"):
        body = event.get("response")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            continue
        response = responses.setdefault(body["id"], _Response(body["id"], t))
        if event["type"] == "response.done":
            response.done = t
            response.status = body.get("status")
            details = body.get("status_details")
            reason = details.get("reason") if isinstance(details, dict) else None
            response.interrupted = response.status == "cancelled" and reason in _INTERRUPT_REASONS
            usage = body.get("usage")
            if isinstance(usage, dict):
                response.input_tokens = usage.get("input_tokens")
                response.output_tokens = usage.get("output_tokens")
    # WebRTC reports audio starting to play; over WebSocket the first audio delta is the closest thing.
    audio = _first_time_by_id(store, "response_code", "output_audio_buffer.started")
    deltas = _first_time_by_id(store, "response_code", "response.output_audio.delta")
    playback_end = _first_time_by_id(
        store, "response_code", "output_audio_buffer.stopped", "output_audio_buffer.cleared"
    )
    cleared = _first_time_by_id(store, "response_code", "output_audio_buffer.cleared")
    truncated = _truncated_by_response(store)
    for response in responses.values():
        code = store.ids.lookup(response.response_id)
        response.first_audio = audio.get(code, deltas.get(code))
        # The real API generates faster than real time: a reply is usually cut off after its response.done, so
        # an interruption shows as a cleared output buffer or a truncated item, not as a cancelled response.
        cut_ms = truncated.get(response.response_id)
        response.interrupted = response.interrupted or code in cleared or cut_ms is not None
        if cut_ms is not None:
            response.speaking_ms = float(cut_ms)
        elif code in audio and code in playback_end:
            response.speaking_ms = _ms(playback_end[code], audio[code])
    return sorted(responses.values(), key=lambda r: r.created)


def _truncated_by_response(store: EventStore) -> dict[str, int]:
    """``audio_end_ms`` of each response whose audio item was truncated, found through the items it output."""
    cuts = _truncations(store)
    if not cuts:
        return {}
    by_response: dict[str, int] = {}
    for _, event in _server_events(store, "response.output_item.added"):
        item = event.get("item")
        item_id = item.get("id") if isinstance(item, dict) else None
        response_id = event.get("response_id")
        if isinstance(response_id, str) and item_id in cuts:
            by_response[response_id] = cuts[item_id]
    return by_response


def _ms(later: int | None, earlier: int | None) -> float | None:
    return None if later is None or earlier is None else (later - earlier) / 1000.0


def _sum_ms(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present)) if present else None


def _sum(values: Sequence[int | None]) -> int | None:
    present = [v for v in values if isinstance(v, int)]
    return sum(present) if present else None


def turns(
    store: EventStore, voice_latency: Sequence[tuple[int, float, int, int]], agents: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per user turn; see :attr:`SessionRecord.turns` for the columns and how they are measured.
    ``agents`` names the agent of each response id (an Agents SDK session).

    ``voice_latency`` holds (time, ms, user speech end, assistant audio start) with times in µs.
    """
    user_turns = _turn_starts(store)
    starts = [turn.start for turn in user_turns]
    for response in _responses(store):
        index = bisect.bisect_right(starts, response.created) - 1
        if index >= 0:  # a response before any user turn (a greeting) belongs to no turn
            user_turns[index].responses.append(response)
    speech_started = _first_time_by_id(store, "item_code", "input_audio_buffer.speech_started")
    speech_stopped = _first_time_by_id(store, "item_code", "input_audio_buffer.speech_stopped")
    heard = sorted(voice_latency, key=lambda v: v[2])
    heard_ends = [v[2] for v in heard]
    rows: list[dict[str, Any]] = []
    for n, turn in enumerate(user_turns):
        code = store.ids.lookup(turn.item_id)
        stopped = speech_stopped.get(code)
        responses = turn.responses
        first, last = (responses[0], responses[-1]) if responses else (None, None)
        audio_times = [r.first_audio for r in responses if r.first_audio is not None]
        done_times = [r.done for r in responses if r.done is not None]
        first_audio = min(audio_times) if audio_times else None
        response_done = max(done_times) if done_times else None
        window_end = starts[n + 1] if n + 1 < len(starts) else None
        at = bisect.bisect_left(heard_ends, turn.start)
        in_window = at < len(heard) and (window_end is None or heard_ends[at] < window_end)
        rows.append(
            {
                "turn": n,
                "user_item_id": turn.item_id,
                "speech_started": speech_started.get(code),
                "speech_stopped": stopped,
                "response_id": first.response_id if first else None,
                "response_created": first.created if first else None,
                "first_audio": first_audio,
                "response_done": response_done,
                "status": last.status if last else None,
                "interrupted": any(r.interrupted for r in responses),
                "latency_ms": _ms(first_audio, stopped),
                "voice_to_voice_ms": heard[at][1] if in_window else None,
                "response_duration_ms": _ms(response_done, first.created if first else None),
                "speaking_ms": _sum_ms([r.speaking_ms for r in responses]),
                "responses": len(responses),
                "input_tokens": _sum([r.input_tokens for r in responses]),
                "output_tokens": _sum([r.output_tokens for r in responses]),
                "agent": (agents or {}).get(last.response_id) if last else None,
            }
        )
    time_columns = ("speech_started", "speech_stopped", "response_created", "first_audio", "response_done")
    return _frame(schema.TURNS, rows, time_columns)


def _token_columns(usage: Mapping[str, Any]) -> dict[str, Any]:
    def get(mapping: object, key: str) -> Any:
        return mapping.get(key) if isinstance(mapping, dict) else None

    inputs, outputs = usage.get("input_token_details"), usage.get("output_token_details")
    cached = get(inputs, "cached_tokens_details")
    return {
        "total_tokens": usage.get("total_tokens"),
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "input_text_tokens": get(inputs, "text_tokens"),
        "input_audio_tokens": get(inputs, "audio_tokens"),
        "input_image_tokens": get(inputs, "image_tokens"),
        "cached_tokens": get(inputs, "cached_tokens"),
        "cached_text_tokens": get(cached, "text_tokens"),
        "cached_audio_tokens": get(cached, "audio_tokens"),
        "cached_image_tokens": get(cached, "image_tokens"),
        "output_text_tokens": get(outputs, "text_tokens"),
        "output_audio_tokens": get(outputs, "audio_tokens"),
    }


def problems(store: EventStore) -> pd.DataFrame:
    """One row per problem the server reported; see :attr:`SessionRecord.problems`."""
    rows: list[dict[str, Any]] = []
    kinds = ("error", "response.done", "conversation.item.input_audio_transcription.failed")
    for t, event in _server_events(store, *kinds):
        problem = problem_of(event)
        if problem is not None:
            rows.append({"time": t, **problem.to_dict()})
    return _frame(schema.PROBLEMS, rows, ("time",))


_TRANSCRIBED = "conversation.item.input_audio_transcription.completed"


def _transcription_model(session: object) -> str | None:
    if not isinstance(session, dict):
        return None
    transcription = ((session.get("audio") or {}).get("input") or {}).get("transcription")
    model = transcription.get("model") if isinstance(transcription, dict) else None
    return model if isinstance(model, str) else None


def _transcription_usage(
    t: int, event: dict[str, Any], model: str | None, prices: Mapping[str, ModelPrices]
) -> dict[str, Any] | None:
    """A usage row for one transcribed user turn: tokens (``type: "tokens"``) or seconds (``type: "duration"``)."""
    usage = event.get("usage")
    if not isinstance(usage, dict):
        return None
    raw_details = usage.get("input_token_details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    row: dict[str, Any] = {
        "time": t,
        "status": "completed",
        "model": model,
        "source": "transcription",
        "item_id": event.get("item_id"),
        "total_tokens": usage.get("total_tokens"),
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "input_text_tokens": details.get("text_tokens"),
        "input_audio_tokens": details.get("audio_tokens"),
        "output_text_tokens": usage.get("output_tokens"),
        "audio_seconds": usage.get("seconds") if usage.get("type") == "duration" else None,
    }
    row["cost_usd"] = cost_usd(row, prices.get(model) if model else None)
    return row


def usage(store: EventStore, prices: Mapping[str, ModelPrices], model: str | None = None) -> pd.DataFrame:
    """One row per ``response.done``; see :attr:`SessionRecord.usage`. ``model`` overrides the session's model."""
    rows: list[dict[str, Any]] = []
    current_model: str | None = None
    transcriber: str | None = None
    kinds = ("session.created", "session.updated", "response.done", _TRANSCRIBED)
    for t, event in _server_events(store, *kinds):
        if event["type"] == _TRANSCRIBED:
            row = _transcription_usage(t, event, transcriber, prices)
            if row is not None:
                rows.append(row)
            continue
        if event["type"] != "response.done":
            session = event.get("session")
            name = session.get("model") if isinstance(session, dict) else None
            current_model = name if isinstance(name, str) else current_model
            transcriber = _transcription_model(session) or transcriber
            continue
        body = event.get("response")
        body = body if isinstance(body, dict) else {}
        tokens = _token_columns(body.get("usage") or {})
        row_model = model or current_model
        row = {
            "time": t,
            "response_id": body.get("id"),
            "status": body.get("status"),
            "model": row_model,
            **tokens,
            "cost_usd": cost_usd(tokens, prices.get(row_model) if row_model else None),
            "source": "response",
        }
        rows.append(row)
    return _frame(schema.USAGE, rows, ("time",))
