"""What the replay view marks on its time axis, from a record's views: utterances with their text, turns with
their latency, tool calls, interruptions and errors. Times are seconds from the replay's origin."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from realtime_widget.record.audio_track import AudioTrack

if TYPE_CHECKING:
    from realtime_widget.record import SessionRecord

__all__ = ["Timespan", "replay_marks", "timespan"]


class Timespan:
    """The replay's time axis: ``origin`` (a UTC timestamp on the record's clock) is second 0, and it lasts
    ``duration_s``; it spans every event and every sample."""

    def __init__(self, origin: pd.Timestamp, duration_s: float) -> None:
        self.origin = origin
        self.duration_s = duration_s

    def seconds(self, value: object) -> float | None:
        """``value`` (a timestamp) as seconds from the origin; ``None`` when missing."""
        if value is None or pd.isna(value):  # type: ignore[call-overload]
            return None
        try:
            stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return float((stamp - self.origin).total_seconds())


def timespan(record: SessionRecord, tracks: Iterable[AudioTrack]) -> Timespan:
    """From the earliest event or sample to the latest."""
    starts: list[pd.Timestamp] = []
    ends: list[pd.Timestamp] = []
    times = record.events["time"].dropna()
    if len(times):
        starts.append(times.min())
        ends.append(times.max())
    for track in tracks:
        starts.append(track.start)
        ends.append(track.end)
    if not starts:
        return Timespan(pd.Timestamp(0, tz="UTC"), 0.0)
    origin = min(starts)
    return Timespan(origin, float((max(ends) - origin).total_seconds()))


def _number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def replay_marks(record: SessionRecord, span: Timespan) -> list[dict[str, Any]]:
    """Every mark, as plain JSON-ready dicts with a ``kind`` and ``start`` (seconds), sorted by ``start``:

    - ``utterance``: ``side`` (user/assistant), ``end``, ``text`` (what was said, or heard of a cut reply),
      ``interrupted``;
    - ``turn``: ``turn`` (its number), ``end`` (its reply's first audio, where known), ``latency_ms`` (by events),
      ``voice_to_voice_ms`` and ``acoustic_latency_ms`` (where the record has them), ``interrupted``;
    - ``tool``: ``text`` (the tool's name), ``end``, ``error``;
    - ``interruption``: ``text`` (how much of the reply was heard);
    - ``error``: ``text`` (code and message).
    """
    marks: list[dict[str, Any]] = []
    for row in record.transcript.to_dict("records"):
        start = span.seconds(row["started"])
        if start is None:
            continue
        end = span.seconds(row["ended"])
        marks.append(
            {
                "kind": "utterance",
                "side": "user" if row["role"] == "user" else "assistant",
                "start": start,
                "end": end if end is not None else start,
                "text": _text(row["text"]),
                "interrupted": bool(row["interrupted"]),
            }
        )
        if row["interrupted"] and row["role"] == "assistant":
            heard = _number(row["audio_end_ms"])
            text = f"Interrupted after {heard / 1000:.1f} s of the reply" if heard is not None else "Interrupted"
            marks.append({"kind": "interruption", "start": end if end is not None else start, "text": text})
    marks.extend(_turn_marks(record.turns, span))
    for row in record.tool_calls.to_dict("records"):
        start = span.seconds(row["started"])
        if start is None:
            continue
        duration = _number(row["duration_ms"])
        marks.append(
            {
                "kind": "tool",
                "start": start,
                "end": start + duration / 1000 if duration is not None else start,
                "text": _text(row["name"]),
                "error": _text(row["error"]),
            }
        )
    for row in record.problems.to_dict("records"):
        start = span.seconds(row["time"])
        if start is None:
            continue
        code, message = _text(row["code"]), _text(row["message"])
        marks.append({"kind": "error", "start": start, "text": f"{code}: {message}" if code else message})
    marks.sort(key=lambda mark: mark["start"])
    return marks


def _turn_marks(turns: pd.DataFrame, span: Timespan) -> list[dict[str, Any]]:
    marks: list[dict[str, Any]] = []
    for row in turns.to_dict("records"):
        start = span.seconds(row["speech_stopped"])
        if start is None:
            start = span.seconds(row["speech_started"])
        if start is None:
            start = span.seconds(row["response_created"])
        if start is None:
            continue
        first_audio = span.seconds(row["first_audio"])
        mark: dict[str, Any] = {
            "kind": "turn",
            "turn": int(row["turn"]),
            "start": start,
            "end": first_audio if first_audio is not None and first_audio >= start else start,
            "interrupted": bool(row["interrupted"]),
        }
        mark.update(_latencies(row))
        marks.append(mark)
    return marks


def _latencies(row: Mapping[Any, Any]) -> dict[str, float]:
    """The turn's latencies the record has (``acoustic_latency_ms`` only where recorded audio measured it)."""
    found: dict[str, float] = {}
    for name in ("latency_ms", "voice_to_voice_ms", "acoustic_latency_ms"):
        value = _number(row.get(name))
        if value is not None:
            found[name] = value
    return found
