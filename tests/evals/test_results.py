"""Results tables, the verdict pytest shows, comparisons with bootstrap intervals, saving and loading a run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from realtime_widget.evals import Case, Say, Typed, assert_passed, check, expect, load
from realtime_widget.evals.compare import COMPARE_COLUMNS, bootstrap_interval
from realtime_widget.evals.results import RUN_COLUMNS, Results, run_row
from realtime_widget.sample import sample_session

PASSING = Case("weather", [Say("weather"), expect.said("sunny"), Typed("more")])
FAILING = Case("weather", [Say("weather"), expect.said("raining"), Typed("more")])


def _results(cases: dict[str, Case], repeats: int = 2) -> Results:
    rows, turns, failures = [], [], []
    for variant, case in cases.items():
        for repeat in range(repeats):
            record = sample_session(4, seed=repeat)
            row, turn_rows, failure_rows = run_row(variant, case.name, repeat, record, check(case, record))
            rows.append(row)
            turns += turn_rows
            failures += failure_rows
    return Results.from_rows(rows, turns, failures)


def test_the_table_has_one_row_per_run_with_the_documented_columns() -> None:
    results = _results({"a": PASSING, "b": FAILING})
    table = results.table
    assert list(table.columns) == list(RUN_COLUMNS)
    assert [str(t) for t in table.dtypes] == [
        "str", "str", "int64", "bool", "object", "float64", "bool", "int64", "float64", "str"
    ]  # fmt: skip
    assert table["passed"].tolist() == [True, True, False, False]
    assert table["failures"].iloc[2] == ["step 2 (assistant said /raining/): the assistant did not match: "
                                         "\"It's sunny in Paris today, around eighteen degrees, with a light breeze "
                                         "from the west.\""]  # fmt: skip
    assert table["tool_calls"].tolist() == [1, 1, 1, 1]
    assert (table["latency_ms"] > 0).all()
    assert (table["cost_usd"] > 0).all()
    assert len(results.turns) == 16


def test_the_verdict_is_what_pytest_shows() -> None:
    assert _results({"a": PASSING}).passed
    assert repr(_results({"a": PASSING}).passed) == "<all 2 runs passed>"
    verdict = _results({"a": PASSING, "b": FAILING}).passed
    assert not verdict
    text = repr(verdict)
    assert text.startswith("<2 of 4 runs failed:\n  b / weather / repeat 0, step 2 (assistant said /raining/)")
    assert "      | user: What's the weather like in Paris today" in text
    with pytest.raises(AssertionError, match="2 of 4 runs failed"):
        assert_passed(_results({"a": PASSING, "b": FAILING}))
    assert not Results.from_rows([], [], []).passed


def test_compare_gives_intervals_and_says_when_variants_cannot_be_told_apart() -> None:
    summary = _results({"a": PASSING, "b": PASSING}, repeats=3).compare()
    assert list(summary.columns) == list(COMPARE_COLUMNS)
    assert summary["variant"].tolist() == ["a", "b"]
    a = summary.iloc[0]
    assert a["pass_rate"] == 1.0
    assert a["latency_p50_ms_low"] <= a["latency_p50_ms"] <= a["latency_p50_ms_high"]
    assert a["latency_p50_ms"] <= a["latency_p90_ms"]
    assert summary["note"].iloc[1].startswith("not distinguishable from a with these runs")


def test_compare_says_how_a_variant_differs() -> None:
    summary = _results({"good": PASSING, "bad": FAILING}, repeats=4).compare()
    note = summary["note"].iloc[1]
    assert note.startswith("differs from good: pass rate -100 points (95% CI -100 points to -100 points)")
    assert summary["pass_rate"].tolist() == [1.0, 0.0]


def test_compare_is_reproducible_and_checks_its_arguments() -> None:
    results = _results({"a": PASSING, "b": FAILING})
    pd.testing.assert_frame_equal(results.compare(), results.compare())
    with pytest.raises(ValueError, match="confidence is between 0 and 1"):
        results.compare(confidence=95)


def test_bootstrap_interval_covers_the_mean_of_a_known_sample() -> None:
    values = np.random.default_rng(1).normal(100.0, 10.0, size=400)
    low, high = bootstrap_interval(values, np.mean, confidence=0.95, resamples=2000, rng=np.random.default_rng(2))
    assert low < 100.0 < high
    assert high - low < 4.0  # about 2 x 1.96 x 10 / √400
    assert all(math.isnan(v) for v in bootstrap_interval(
        np.array([]), np.mean, confidence=0.95, resamples=10, rng=np.random.default_rng(0)))  # fmt: skip


def test_a_saved_run_loads_back_the_same(tmp_path: Path) -> None:
    results = _results({"a": PASSING, "b": FAILING})
    results.save(tmp_path / "run")
    loaded = load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.table, results.table)
    pd.testing.assert_frame_equal(loaded.turns, results.turns)
    pd.testing.assert_frame_equal(loaded.failures, results.failures)
    assert loaded.folder == tmp_path / "run"
    with pytest.raises(FileNotFoundError, match="holds no eval run"):
        load(tmp_path)


def test_plot_draws_latency_and_pass_rate_per_variant() -> None:
    figure = _results({"a": PASSING, "b": FAILING}).plot()
    latency, rate = figure.axes
    assert latency.get_title() == "Turn latency per variant"
    assert [t.get_text() for t in latency.get_xticklabels()] == ["a", "b"]
    assert rate.get_title().startswith("Pass rate")
