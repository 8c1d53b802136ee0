"""Small helpers for looking at a session: a latency table and three plots.

They take the DataFrame views of a :class:`~realtime_widget.record.SessionRecord` (or of a ``SessionSet``) and only
present them; every measurement is made by the record. Matplotlib is imported when a plot is asked for, so this
module costs nothing without it (``pip install "realtime-widget[analysis]"``). Each plot draws on ``ax`` when given
(else a new figure) and returns the Axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["describe_latency", "plot_latency", "plot_network", "plot_timeline"]

_LATENCIES = ("latency_ms", "voice_to_voice_ms", "response_duration_ms")
_QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95}


def describe_latency(turns: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Latency statistics of the ``turns`` view, one row per measure (and per group of ``by``, e.g. "session_id").

    Columns: ``count`` (Int64: turns with a value), ``mean``, ``min``, ``p50``, ``p90``, ``p95``, ``max`` (float64,
    ms). Rows: ``latency_ms`` (speech stopped → first audio, by events), ``voice_to_voice_ms`` (as heard in the
    browser), ``response_duration_ms``. Interrupted turns are included; filter ``turns`` first to leave them out.
    """
    if by is not None:
        parts = {key: describe_latency(group) for key, group in turns.groupby(by, sort=True)}
        if not parts:
            return _empty_description()
        return pd.concat(parts, names=[by, "measure"])
    rows: dict[str, dict[str, Any]] = {}
    for measure in _LATENCIES:
        values = turns[measure].dropna()
        row: dict[str, Any] = {"count": len(values), "mean": values.mean(), "min": values.min()}
        row.update({name: values.quantile(q) for name, q in _QUANTILES.items()})
        row["max"] = values.max()
        rows[measure] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "measure"
    return table.astype({"count": "Int64", **dict.fromkeys(["mean", "min", *_QUANTILES, "max"], "float64")})


def _empty_description() -> pd.DataFrame:
    columns = {"count": "Int64", "mean": "float64", "min": "float64", **dict.fromkeys(_QUANTILES, "float64")}
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in {**columns, "max": "float64"}.items()})


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # noqa: PLC0415  # optional dependency, imported only to draw

    _, new_ax = plt.subplots(figsize=size)
    return new_ax


def plot_latency(turns: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Latency per turn: by events (``latency_ms``) and as heard (``voice_to_voice_ms``); interrupted turns marked."""
    ax = _axes(ax, (8, 3.5))
    ax.plot(turns["turn"], turns["latency_ms"], marker="o", label="speech stopped → audio started (events)")
    ax.plot(turns["turn"], turns["voice_to_voice_ms"], marker="s", label="voice to voice (heard in the browser)")
    cut = turns[turns["interrupted"]]
    if len(cut):
        ax.scatter(cut["turn"], cut["latency_ms"], s=140, facecolors="none", edgecolors="red", label="interrupted")
    ax.set_xlabel("turn")
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    ax.set_title("Latency per turn")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_network(stats: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Round-trip time and jitter over time, from the ``stats`` view."""
    ax = _axes(ax, (8, 3.5))
    ax.plot(stats["time"], stats["rtt_ms"], label="round-trip time")
    ax.plot(stats["time"], stats["jitter_ms"], label="jitter")
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    ax.set_title("Network over time")
    ax.legend(loc="best", fontsize="small")
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def plot_timeline(timeline: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The connection timeline: one row per kind of entry, browser and kernel entries in their own colours, and
    each connect attempt shaded from its first entry to its last."""
    ax = _axes(ax, (9, 4.5))
    kinds = list(dict.fromkeys(timeline["what"]))
    row = {what: n for n, what in enumerate(kinds)}
    for n, (_, entries) in enumerate(timeline.dropna(subset=["attempt"]).groupby("attempt")):
        ax.axvspan(entries["time"].min(), entries["time"].max(), alpha=0.08, color=f"C{n % 10}")
    for n, (source, entries) in enumerate(timeline.groupby("source", sort=True)):
        ax.scatter(entries["time"], entries["what"].map(row), label=str(source), marker="o" if n == 0 else "D")
    ax.set_yticks(range(len(kinds)), kinds, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("time (UTC)")
    ax.set_title("Connection timeline (shaded: connect attempts)")
    ax.legend(loc="best", fontsize="small")
    ax.tick_params(axis="x", labelrotation=30)
    return ax
