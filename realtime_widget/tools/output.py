"""Turning what a tool returned into the text the model reads, within a size budget.

The model gets a string. Strings pass through; numbers, booleans, ``None``, dicts, lists, dataclasses and pydantic
models become JSON; pandas DataFrames and Series become CSV headed by their shape; anything else its ``repr``.
Output longer than the budget is cut, and a note says how much was cut and what the whole was, so the model can ask
for less (fewer rows, a filter) instead of guessing.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
import pydantic_core
from pydantic import BaseModel

__all__ = ["DEFAULT_MAX_CHARS", "describe_shape", "format_error", "format_result"]

DEFAULT_MAX_CHARS = 8000
"""About 2,000 tokens: enough for a useful table, small enough not to crowd the model's context."""

# Room kept for the truncation note, so the result including its note stays within the budget.
_NOTE_ROOM = 200


def format_result(value: Any, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text the model reads for ``value``, at most ``max_chars`` characters long (truncation note included)."""
    if max_chars < _NOTE_ROOM + 50:
        raise ValueError(f"max_chars must be at least {_NOTE_ROOM + 50}")
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if isinstance(value, pd.DataFrame):
        return _format_frame(value, max_chars)
    text = _render(value)
    if len(text) <= max_chars:
        return text
    kept = max_chars - _NOTE_ROOM
    note = (
        f"\n…[truncated: {len(text) - kept:,} of {len(text):,} characters not shown; "
        f"the full result is {describe_shape(value)}]"
    )
    return text[:kept] + note


def format_error(message: str) -> str:
    """The output the model reads when a tool failed: ``{"error": "..."}``, which it can react to."""
    return json.dumps({"error": message}, ensure_ascii=False)


def describe_shape(value: Any) -> str:
    """A few words on the size of ``value``: ``"a DataFrame of 1,000 rows x 5 columns"``, ``"a list of 30 items"``."""
    if isinstance(value, pd.DataFrame):
        rows, cols = value.shape
        return f"a DataFrame of {_count(rows, 'row')} x {_count(cols, 'column')}"
    if isinstance(value, pd.Series):
        return f"a Series of {len(value):,} values"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, str):
        return f"a string of {len(value):,} characters"
    if isinstance(value, dict):
        return f"a dict of {len(value):,} keys"
    if isinstance(value, list | tuple | set | frozenset):
        return f"a {type(value).__name__} of {len(value):,} items"
    return f"a {type(value).__name__}"


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    jsonable = (
        value is None
        or isinstance(value, bool | int | float | dict | list | tuple | set | frozenset | np.ndarray | np.generic)
        or (dataclasses.is_dataclass(value) and not isinstance(value, type))
    )
    if not jsonable:
        return repr(value)
    # NaN and infinity are not JSON; null is what a JSON reader expects in their place.
    return pydantic_core.to_json(value, fallback=_json_fallback, inf_nan_mode="null").decode()


def _json_fallback(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return value.to_dict()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return repr(value)


def _frame_csv(frame: pd.DataFrame) -> str:
    # A default 0..n-1 index says nothing; a named or non-range index (dates, ids) is data.
    show_index = not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None
    return frame.to_csv(index=show_index, float_format="%.6g")


def _format_frame(frame: pd.DataFrame, max_chars: int) -> str:
    rows, cols = frame.shape
    header = f"DataFrame: {_count(rows, 'row')} x {_count(cols, 'column')}\n"
    full = header + _frame_csv(frame) if rows <= 2000 else ""
    if full and len(full) <= max_chars:
        return full.rstrip("\n")
    budget = max_chars - len(header) - _NOTE_ROOM
    # Estimate rows that fit from a sample, then cut whole lines: half a row would mislead the model.
    sample = _frame_csv(frame.head(50)).splitlines()
    per_row = max(1.0, sum(map(len, sample[1:])) / max(1, len(sample) - 1) + 1)
    lines = _frame_csv(frame.head(max(1, int(budget / per_row) + 1))).splitlines()
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    shown_rows = max(0, len(kept) - 1)
    if not kept:
        # Even the column names do not fit (a very wide frame): cut the header line itself.
        kept, shown_rows = [lines[0][: max(0, budget)]], 0
    note = (
        f"\n…[truncated: showing {shown_rows:,} of {_count(rows, 'row')} x {_count(cols, 'column')}; "
        "ask for fewer rows or columns, or a summary, to see more]"
    )
    return header + "\n".join(kept) + note


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
