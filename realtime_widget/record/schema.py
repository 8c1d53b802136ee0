"""Column names and dtypes of every DataFrame view, and the one function that makes a frame match them.

Every view is built through :func:`frame`, and every Parquet file is read back through it, so a saved and reloaded
session has exactly the dtypes of a live one. Times are ``datetime64[us, UTC]``: integer microseconds survive
Parquet exactly, and browser clocks are no finer than that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SCHEMAS", "TIME", "frame", "times"]

TIME = "datetime64[us, UTC]"
STR = "str"
INT = "Int64"  # nullable: token counts and attempts are missing on some rows

EVENTS: dict[str, str] = {
    "time": TIME,
    "direction": STR,
    "type": STR,
    "event_id": STR,
    "item_id": STR,
    "response_id": STR,
    "call_id": STR,
    "payload": STR,
    "raw": STR,
}
TRANSCRIPT: dict[str, str] = {
    "role": STR,
    "text": STR,
    "item_id": STR,
    "response_id": STR,
    "started": TIME,
    "ended": TIME,
    "interrupted": "bool",
    "audio_end_ms": "float64",
    "generated_text": STR,
    "agent": STR,
}
TURNS: dict[str, str] = {
    "turn": "int64",
    "user_item_id": STR,
    "speech_started": TIME,
    "speech_stopped": TIME,
    "response_id": STR,
    "response_created": TIME,
    "first_audio": TIME,
    "response_done": TIME,
    "status": STR,
    "interrupted": "bool",
    "latency_ms": "float64",
    "voice_to_voice_ms": "float64",
    "acoustic_latency_ms": "float64",
    "response_duration_ms": "float64",
    "speaking_ms": "float64",
    "responses": "int64",
    "input_tokens": INT,
    "output_tokens": INT,
    "agent": STR,
}
STATS: dict[str, str] = {
    "time": TIME,
    "rtt_ms": "float64",
    "jitter_ms": "float64",
    "packets_received": INT,
    "packets_lost": INT,
    "bytes_received": INT,
    "bytes_sent": INT,
    "bitrate_in_kbps": "float64",
    "bitrate_out_kbps": "float64",
    "audio_level_in": "float64",
    "audio_level_out": "float64",
    "codec": STR,
}
TIMELINE: dict[str, str] = {
    "time": TIME,
    "source": STR,
    "what": STR,
    "attempt": INT,
    "state": STR,
    "detail": STR,
}
USAGE_TOKENS = (
    "total_tokens",
    "input_tokens",
    "output_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "cached_tokens",
    "cached_text_tokens",
    "cached_audio_tokens",
    "cached_image_tokens",
    "output_text_tokens",
    "output_audio_tokens",
)
PROBLEMS: dict[str, str] = {
    "time": TIME,
    "source": STR,
    "level": STR,
    "code": STR,
    "message": STR,
    "hint": STR,
    "response_id": STR,
}
USAGE: dict[str, str] = {
    "time": TIME,
    "response_id": STR,
    "status": STR,
    "model": STR,
    **dict.fromkeys(USAGE_TOKENS, INT),
    "cost_usd": "float64",
    "source": STR,
    "item_id": STR,
    "audio_seconds": "float64",
}
TOOL_CALLS: dict[str, str] = {
    "started": TIME,
    "name": STR,
    "call_id": STR,
    "arguments": STR,
    "output": STR,
    "error": STR,
    "traceback": STR,
    "duration_ms": "float64",
}
VOICE_LATENCY: dict[str, str] = {
    "time": TIME,
    "ms": "float64",
    "user_speech_end": TIME,
    "assistant_audio_start": TIME,
}

SCHEMAS: dict[str, dict[str, str]] = {
    "events": EVENTS,
    "transcript": TRANSCRIPT,
    "turns": TURNS,
    "stats": STATS,
    "timeline": TIMELINE,
    "usage": USAGE,
    "problems": PROBLEMS,
    "tool_calls": TOOL_CALLS,
    "voice_latency": VOICE_LATENCY,
}

_NAT = np.iinfo(np.int64).min  # NaT's integer representation


def times(values: Sequence[int | None] | np.ndarray[Any, Any]) -> pd.Series[Any]:
    """Integer microseconds since the epoch (``None`` for missing) as a UTC datetime Series."""
    if isinstance(values, np.ndarray):
        ints = values.astype(np.int64, copy=False)
    else:
        ints = np.array([_NAT if v is None else v for v in values], dtype=np.int64)
    return pd.Series(ints.view("M8[us]")).dt.tz_localize("UTC")


def frame(schema: Mapping[str, str], columns: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
    """A DataFrame with exactly ``schema``'s columns, in its order and with its dtypes; a fresh RangeIndex.

    Columns missing from ``columns`` are filled with missing values.
    """
    data = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(dict(columns))
    n = len(data)
    out: dict[str, pd.Series[Any]] = {}
    for name, dtype in schema.items():
        present = name in data
        column = pd.Series(data[name]).reset_index(drop=True) if present else pd.Series([None] * n, dtype=object)
        if dtype == TIME and column.dtype != TIME:
            column = pd.to_datetime(column, utc=True).dt.as_unit("us") if n else pd.Series([], dtype=TIME)
        out[name] = column.astype(pd.api.types.pandas_dtype(dtype))
    return pd.DataFrame(out, index=pd.RangeIndex(n))
