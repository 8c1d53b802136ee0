"""A short human summary of a session: as text (``summary()``, ``repr``) and as HTML (the notebook's display)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from realtime_widget.record.session import SessionRecord

__all__ = ["SessionFacts", "facts", "summarize", "summary_html"]


@dataclass(frozen=True)
class SessionFacts:
    duration_s: float
    events: int
    turns: int
    interrupted: int
    median_latency_ms: float
    median_voice_to_voice_ms: float
    total_tokens: int
    cost_usd: float
    errors: int
    malformed: int
    tool_calls: int
    attempts: int


def facts(record: SessionRecord) -> SessionFacts:
    events = record.events
    turns = record.turns
    usage = record.usage
    timeline = record.timeline
    times = pd.concat([events["time"], timeline["time"]]).dropna()
    duration = (times.max() - times.min()).total_seconds() if len(times) > 1 else 0.0
    attempts = timeline["attempt"].dropna()
    return SessionFacts(
        duration_s=duration,
        events=len(events),
        turns=len(turns),
        interrupted=int(turns["interrupted"].sum()),
        median_latency_ms=float(turns["latency_ms"].median()) if len(turns) else math.nan,
        median_voice_to_voice_ms=float(turns["voice_to_voice_ms"].median()) if len(turns) else math.nan,
        total_tokens=int(usage["total_tokens"].sum()),
        cost_usd=float(usage["cost_usd"].sum(min_count=1)) if len(usage) else 0.0,
        errors=int((events["type"] == "error").sum()),
        malformed=int(events["raw"].notna().sum()),
        tool_calls=len(record.tool_calls),
        attempts=int(attempts.max()) if len(attempts) else 0,
    )


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f} ms"


def _lines(f: SessionFacts) -> list[tuple[str, str]]:
    minutes, seconds = divmod(round(f.duration_s), 60)
    cost = "n/a (no prices for the model)" if math.isnan(f.cost_usd) else f"${f.cost_usd:.4f}"
    return [
        ("Duration", f"{minutes} min {seconds:02d} s, {f.events} events, {f.attempts} connect attempt(s)"),
        ("Turns", f"{f.turns} ({f.interrupted} interrupted), {f.tool_calls} tool call(s)"),
        ("Median latency", f"{_ms(f.median_latency_ms)} by events, {_ms(f.median_voice_to_voice_ms)} voice-to-voice"),
        ("Tokens", f"{f.total_tokens:,}, cost {cost}"),
        ("Errors", f"{f.errors} error event(s), {f.malformed} malformed message(s)"),
    ]


def _audio_line(record: SessionRecord) -> list[tuple[str, str]]:
    """The recorded audio, said plainly (people should know what was recorded of them, and where it is kept)."""
    audio = record.audio
    if not audio:
        return []
    sides = ", ".join(
        f"{side} {track.duration_s:.1f} s at {track.sample_rate} Hz"
        for side, track in (("user", audio.user), ("assistant", audio.assistant))
        if track is not None
    )
    saved = ", ".join(str(path) for path in audio.files) if audio.files else "not saved yet"
    return [("Audio recorded", f"{sides}; files: {saved}")]


def summarize(record: SessionRecord) -> str:
    """Five lines: duration, turns, median latency, tokens and cost, errors; a sixth names the recorded audio and
    its files when there is some."""
    return "\n".join(f"{name}: {value}" for name, value in _lines(facts(record)) + _audio_line(record))


def summary_html(record: SessionRecord) -> str:
    cell = "style='text-align:left'"
    rows = "".join(
        f"<tr><th {cell}>{html.escape(name)}</th><td {cell}>{html.escape(value)}</td></tr>"
        for name, value in _lines(facts(record)) + _audio_line(record)
    )
    title = html.escape(f"SessionRecord {record.session_id}")
    return f"<div><strong>{title}</strong><table>{rows}</table></div>"
