"""Comparing variants: pass rate, latency percentiles and cost, each with a bootstrap confidence interval, and a
plain-words note saying whether a variant is distinguishable from the first one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COMPARE_COLUMNS", "bootstrap_interval", "compare"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Statistic = Callable[[FloatArray], float]

#: Each measure has its value and the low and high ends of its confidence interval.
MEASURES = ("pass_rate", "latency_p50_ms", "latency_p90_ms", "cost_usd")
COMPARE_COLUMNS = ("variant", "runs", *(f"{m}{end}" for m in MEASURES for end in ("", "_low", "_high")), "note")


def _mean(values: FloatArray) -> float:
    return float(np.mean(values))


def _p50(values: FloatArray) -> float:
    return float(np.percentile(values, 50))


def _p90(values: FloatArray) -> float:
    return float(np.percentile(values, 90))


def _resampled(values: FloatArray, statistic: Statistic, resamples: int, rng: np.random.Generator) -> FloatArray:
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    return np.array([statistic(values[row]) for row in picks], dtype=np.float64)


def bootstrap_interval(
    values: FloatArray, statistic: Statistic, *, confidence: float, resamples: int, rng: np.random.Generator
) -> tuple[float, float]:
    """The percentile bootstrap interval of ``statistic`` over ``values`` (NaN, NaN when there are none)."""
    if len(values) == 0:
        return float("nan"), float("nan")
    stats = _resampled(values, statistic, resamples, rng)
    tail = (1 - confidence) / 2 * 100
    return float(np.percentile(stats, tail)), float(np.percentile(stats, 100 - tail))


def _difference_interval(
    a: FloatArray, b: FloatArray, statistic: Statistic, *, confidence: float, resamples: int, rng: np.random.Generator
) -> tuple[float, float, float]:
    """``statistic(b) - statistic(a)`` and its bootstrap interval (each side resampled on its own)."""
    diffs = _resampled(b, statistic, resamples, rng) - _resampled(a, statistic, resamples, rng)
    tail = (1 - confidence) / 2 * 100
    return (
        statistic(b) - statistic(a),
        float(np.percentile(diffs, tail)),
        float(np.percentile(diffs, 100 - tail)),
    )


def _values(frame: pd.DataFrame, column: str) -> FloatArray:
    return np.asarray(frame[column].astype("float64").dropna(), dtype=np.float64)


def _note(
    baseline: str,
    name: str,
    samples: dict[str, dict[str, FloatArray]],
    *,
    confidence: float,
    resamples: int,
    rng: np.random.Generator,
) -> str:
    """In plain words, how ``name`` differs from ``baseline``, or that these runs cannot tell them apart."""
    a, b = samples[baseline], samples[name]
    level = f"{confidence:.0%}"
    said: list[str] = []
    undecided: list[str] = []
    checks: list[tuple[str, Statistic, str, Callable[[float], str]]] = [
        ("passed", _mean, "pass rate", lambda d: f"{d * 100:+.0f} points"),
        ("latency", _p50, "median latency", lambda d: f"{d:+.0f} ms"),
        ("cost", _mean, "cost per run", lambda d: f"{d:+.4f} USD"),
    ]
    for key, statistic, label, show in checks:
        if len(a[key]) < 2 or len(b[key]) < 2:
            continue
        diff, low, high = _difference_interval(
            a[key], b[key], statistic, confidence=confidence, resamples=resamples, rng=rng
        )
        if low <= 0 <= high:
            undecided.append(label)
        else:
            said.append(f"{label} {show(diff)} ({level} CI {show(low)} to {show(high)})")
    if not said and not undecided:
        return f"too few runs to compare with {baseline} (need 2 or more of each)"
    if not said:
        return (
            f"not distinguishable from {baseline} with these runs ({', '.join(undecided)}: the {level} intervals "
            "of the difference include zero); run more repeats to tell them apart"
        )
    text = f"differs from {baseline}: " + "; ".join(said)
    return text + (f"; {', '.join(undecided)} not distinguishable" if undecided else "")


def compare(
    table: pd.DataFrame,
    turns: pd.DataFrame,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per variant (in the order they first appear in ``table``): ``runs``; ``pass_rate`` (share of runs
    that passed); ``latency_p50_ms`` and ``latency_p90_ms`` over every measured turn; ``cost_usd`` (mean per run);
    each with ``_low``/``_high``, the ``confidence`` bootstrap interval; and ``note``, in plain words, how the
    variant compares with the first one (or that these runs cannot tell them apart). Seeded: the same runs give
    the same intervals."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is between 0 and 1, not {confidence!r}")
    rng = np.random.default_rng(seed)
    names = list(dict.fromkeys(table["variant"]))
    rows: list[dict[str, Any]] = []
    samples: dict[str, dict[str, FloatArray]] = {}
    for name in names:
        runs = table[table["variant"] == name]
        latency = _values(turns[turns["variant"] == name], "latency_ms")
        samples[name] = {
            "passed": runs["passed"].astype("float64").to_numpy(dtype=np.float64),
            "latency": latency,
            "cost": _values(runs, "cost_usd"),
        }
        row: dict[str, Any] = {"variant": name, "runs": len(runs)}
        for measure, key, statistic in (
            ("pass_rate", "passed", _mean),
            ("latency_p50_ms", "latency", _p50),
            ("latency_p90_ms", "latency", _p90),
            ("cost_usd", "cost", _mean),
        ):
            values = samples[name][key]
            row[measure] = statistic(values) if len(values) else float("nan")
            row[f"{measure}_low"], row[f"{measure}_high"] = bootstrap_interval(
                values, statistic, confidence=confidence, resamples=resamples, rng=rng
            )
        rows.append(row)
    for row in rows[1:]:
        row["note"] = _note(names[0], row["variant"], samples, confidence=confidence, resamples=resamples, rng=rng)
    if rows:
        rows[0]["note"] = "the baseline the others are compared with" if len(rows) > 1 else ""
    dtypes = {"variant": "str", "runs": "int64", "note": "str"}
    frame = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    return frame.astype({c: dtypes.get(c, "float64") for c in COMPARE_COLUMNS})
