"""Saving sessions to folders, loading them back, and loading many at once.

A saved session is a folder::

    meta.json            session id, creation time, clock offset, prices, format version
    events.jsonl         every event item in wire form (``{"k": "event", "t", "dir", "event"|"raw"}``), one a line
    events.parquet       the views, each with a leading ``session_id`` column
    transcript.parquet
    turns.parquet
    stats.parquet
    timeline.parquet
    usage.parquet
    tool_calls.parquet
    voice_latency.parquet

Loading rebuilds the record from ``events.jsonl`` and the Parquet files of what is not derived from events (stats,
timeline, tool calls, voice latency); transcript, turns and usage are recomputed, so they match the saved ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from realtime_widget.record import schema
from realtime_widget.record.pricing import prices_from_json, prices_to_json
from realtime_widget.record.session import SessionRecord
from realtime_widget.record.summary import SessionFacts, facts

__all__ = ["FORMAT_VERSION", "SessionSet", "load", "load_sessions", "save"]

FORMAT_VERSION = 1
# SessionFacts' annotations are strings (postponed evaluation): map them to dtypes.
_FACT_DTYPES = {"float": "float64", "int": "int64"}
VIEWS = ("events", "transcript", "turns", "stats", "timeline", "usage", "tool_calls", "voice_latency")


def save(record: SessionRecord, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT_VERSION,
        "session_id": record.session_id,
        "created": record.created.isoformat(),
        "clock_offset_ms": record.clock_offset_ms,
        "clock_rtt_ms": record.clock_rtt_ms,
        "model": record.model,
        "prices": prices_to_json(record.prices),
        "events": len(record),
    }
    with (folder / "events.jsonl").open("w", encoding="utf-8") as out:
        for line in record.event_lines():
            out.write(line)
            out.write("\n")
    for name in VIEWS:
        view: pd.DataFrame = getattr(record, name)
        view.insert(0, "session_id", pd.Series([record.session_id] * len(view), dtype="str"))
        view.to_parquet(folder / f"{name}.parquet", index=False)
    # meta.json last: its presence marks a complete save (load_sessions looks for it).
    (folder / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return folder


def _read(folder: Path, name: str) -> pd.DataFrame:
    table = pd.read_parquet(folder / f"{name}.parquet")
    return schema.frame(schema.SCHEMAS[name], table.drop(columns=["session_id"], errors="ignore"))


def _us(column: pd.Series[Any]) -> list[int | None]:
    ints = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)
    nat = np.iinfo(np.int64).min
    return [None if v == nat else int(v) for v in ints.tolist()]


def _values(column: pd.Series[Any]) -> list[Any]:
    """Column values as plain Python, missing values as None."""
    return [None if pd.isna(v) else v for v in column.astype(object).tolist()]


def load(folder: Path) -> SessionRecord:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{folder} was saved in format {meta.get('format')!r}; this version reads {FORMAT_VERSION}")
    with (folder / "events.jsonl").open(encoding="utf-8") as lines:
        events = [json.loads(line) for line in lines if line.strip()]
    stats = _read(folder, "stats")
    columns = [_us(stats["time"])] + [_values(stats[name]) for name in schema.STATS if name != "time"]
    timeline = _read(folder, "timeline")
    timeline_rows = [
        (t or 0, str(source), str(what), attempt, str(detail))
        for t, source, what, attempt, detail in zip(
            _us(timeline["time"]),
            _values(timeline["source"]),
            _values(timeline["what"]),
            _values(timeline["attempt"]),
            _values(timeline["detail"]),
            strict=True,
        )
    ]
    tools = _read(folder, "tool_calls")
    tool_columns = [_us(tools["started"])] + [_values(tools[name]) for name in schema.TOOL_CALLS if name != "started"]
    voice = _read(folder, "voice_latency")
    voice_rows = [
        (t or 0, float(ms), end or 0, start or 0)
        for t, ms, end, start in zip(
            _us(voice["time"]),
            _values(voice["ms"]),
            _us(voice["user_speech_end"]),
            _us(voice["assistant_audio_start"]),
            strict=True,
        )
    ]
    # The offset applied when recording is already in the saved times; the measured value is kept for reference.
    return SessionRecord.restore(
        meta["session_id"],
        events=events,
        stats=[tuple(row) for row in zip(*columns, strict=True)],
        timeline=timeline_rows,
        tool_calls=[tuple(row) for row in zip(*tool_columns, strict=True)],
        voice_latency=voice_rows,
        prices=prices_from_json(meta["prices"]),
        created=datetime.fromisoformat(meta["created"]),
        model=meta.get("model"),
        clock_offset_ms=meta.get("clock_offset_ms") or 0.0,
        clock_rtt_ms=meta.get("clock_rtt_ms"),
    )


class SessionSet:
    """Several saved sessions read as one: the same views as :class:`SessionRecord`, concatenated, with a leading
    ``session_id`` column (str). ``sessions`` maps each id to its record."""

    def __init__(self, sessions: dict[str, SessionRecord]) -> None:
        self.sessions = sessions

    def __len__(self) -> int:
        return len(self.sessions)

    def _concat(self, name: str) -> pd.DataFrame:
        frames = []
        for session_id, record in self.sessions.items():
            view: pd.DataFrame = getattr(record, name)
            view.insert(0, "session_id", pd.Series([session_id] * len(view), dtype="str"))
            frames.append(view)
        if not frames:
            return schema.frame({"session_id": "str", **schema.SCHEMAS[name]}, {})
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def events(self) -> pd.DataFrame:
        """:attr:`SessionRecord.events` of every session."""
        return self._concat("events")

    @cached_property
    def transcript(self) -> pd.DataFrame:
        """:attr:`SessionRecord.transcript` of every session."""
        return self._concat("transcript")

    @cached_property
    def turns(self) -> pd.DataFrame:
        """:attr:`SessionRecord.turns` of every session."""
        return self._concat("turns")

    @cached_property
    def stats(self) -> pd.DataFrame:
        """:attr:`SessionRecord.stats` of every session."""
        return self._concat("stats")

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """:attr:`SessionRecord.timeline` of every session."""
        return self._concat("timeline")

    @cached_property
    def usage(self) -> pd.DataFrame:
        """:attr:`SessionRecord.usage` of every session."""
        return self._concat("usage")

    @cached_property
    def tool_calls(self) -> pd.DataFrame:
        """:attr:`SessionRecord.tool_calls` of every session."""
        return self._concat("tool_calls")

    @cached_property
    def voice_latency(self) -> pd.DataFrame:
        """:attr:`SessionRecord.voice_latency` of every session."""
        return self._concat("voice_latency")

    def summary(self) -> pd.DataFrame:
        """One row per session: ``session_id`` (str), ``duration_s``, ``median_latency_ms``,
        ``median_voice_to_voice_ms``, ``cost_usd`` (float64), and ``events``, ``turns``, ``interrupted``,
        ``total_tokens``, ``errors``, ``malformed``, ``tool_calls``, ``attempts`` (int64); see
        :meth:`SessionRecord.summary`."""
        rows = [{"session_id": sid, **asdict(facts(record))} for sid, record in self.sessions.items()]
        columns = {"session_id": "str", **{f.name: _FACT_DTYPES[str(f.type)] for f in fields(SessionFacts)}}
        return schema.frame(columns, {name: [row[name] for row in rows] for name in columns})

    def __repr__(self) -> str:
        return f"<SessionSet of {len(self)} sessions: {', '.join(self.sessions)}>"


def load_sessions(folder: str | Path) -> SessionSet:
    """Load every saved session directly under ``folder`` (each a subfolder with a ``meta.json``), by name."""
    root = Path(folder)
    records = [load(sub) for sub in sorted(root.iterdir()) if (sub / "meta.json").is_file()]
    return SessionSet({record.session_id: record for record in records})
