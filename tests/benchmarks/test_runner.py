"""The benchmark runner's own logic (``python -m benchmarks``): what it reads from a benchmark's source, how long it
lets it run, and what it makes of the child process's output. The benchmarks themselves are not run here."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable

import pytest

from benchmarks import __main__ as runner
from benchmarks import needs
from benchmarks.needs import UnavailableError
from benchmarks.table import Table


def test_a_module_with_run_quick_is_runnable_and_keeps_the_default_budget() -> None:
    found = runner.read_benchmark("x", "def run(quick: bool):\n    return None\n")
    assert found == runner.Benchmark("x", runnable=True, budget_s=runner.DEFAULT_BUDGET_S)


def test_a_run_with_other_arguments_or_not_at_top_level_does_not_count() -> None:
    assert not runner.read_benchmark("x", "def run(quick, repeats): ...\n").runnable
    assert not runner.read_benchmark("x", "def main():\n    def run(quick): ...\n").runnable
    assert not runner.read_benchmark("x", "async def main(): ...\n").runnable


def test_the_budget_is_read_from_a_top_level_number() -> None:
    assert runner.read_benchmark("x", "BUDGET_S = 90\ndef run(quick): ...\n").budget_s == 90.0
    assert runner.read_benchmark("x", "BUDGET_S: float = 12.5\n").budget_s == 12.5


def test_a_budget_that_is_not_a_plain_number_is_ignored() -> None:
    source = "BUDGET_S = 60 * 2\ndef f():\n    BUDGET_S = 5\n"
    assert runner.read_benchmark("x", source).budget_s == runner.DEFAULT_BUDGET_S


def test_every_module_in_benchmarks_is_read_without_importing_it() -> None:
    found = runner.discover()
    assert "wire_throughput" in found
    assert found["wire_throughput"].runnable
    assert not set(found) & runner.NOT_BENCHMARKS


def test_a_benchmark_gets_its_budget_but_never_more_than_is_left() -> None:
    assert runner.time_allowed(120, 500) == 120
    assert runner.time_allowed(120, 30) == 30
    assert runner.time_allowed(120, -4) == 0


def test_tables_after_the_result_mark_become_markdown() -> None:
    table = Table("Title", "python benchmarks/x.py", ["a", "b"], [["1", "2"]], ["a note"])
    lines = ["progress", runner.RESULT_MARK + json.dumps([table.to_json()])]
    outcome = runner.read_outcome(0, lines, 3.0, 60)
    assert outcome.problem is None
    assert outcome.tables == [table.markdown()]
    assert "| 1 | 2 |" in outcome.tables[0]


def test_an_overrun_a_crash_and_a_missing_result_each_say_why() -> None:
    assert runner.read_outcome(None, [], 61.0, 60).problem == "did not finish within its 60 s"
    assert runner.read_outcome(1, ["Traceback"], 1.0, 60).problem == "failed (exit status 1); its output is above"
    assert runner.read_outcome(0, ["only progress"], 1.0, 60).problem == "failed (exit status 0); its output is above"


def test_a_skip_gives_its_reason_and_no_tables() -> None:
    outcome = runner.read_outcome(0, [runner.SKIP_MARK + "needs Chromium at /usr/bin/chromium"], 0.5, 60)
    assert outcome.tables == []
    assert outcome.problem == "skipped: needs Chromium at /usr/bin/chromium"


def test_summary_rows_show_seconds_against_the_budget() -> None:
    benchmark = runner.Benchmark("x", runnable=True, budget_s=90)
    assert runner.summary_row(benchmark, runner.Outcome([], None, 41.6)) == "| `x` | 42 | 90 | ok |"
    assert runner.summary_row(benchmark, None, "not run: why") == "| `x` | | 90 | not run: why |"


def _child_output(module_body: Callable[[bool], object], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Runs ``run_child`` on a stand-in benchmark module whose ``run`` is ``module_body``; its stdout lines."""
    module = types.ModuleType("benchmarks.stand_in")
    module.run = module_body  # type: ignore[attr-defined]
    sys.modules["benchmarks.stand_in"] = module
    try:
        runner.run_child("stand_in", quick=True)
    finally:
        del sys.modules["benchmarks.stand_in"]
    return capsys.readouterr().out.splitlines()


def test_a_benchmark_missing_an_outside_module_is_skipped_with_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    def run(quick: bool) -> Table:
        raise ModuleNotFoundError("No module named 'marimo'", name="marimo")

    outcome = runner.read_outcome(0, _child_output(run, capsys), 1.0, 60)
    assert outcome.problem == "skipped: needs the Python module `marimo`, which is not installed"


def test_a_broken_import_of_our_own_is_a_failure_not_a_skip(capsys: pytest.CaptureFixture[str]) -> None:
    def run(quick: bool) -> Table:
        raise ModuleNotFoundError("No module named 'realtime_widget.gone'", name="realtime_widget.gone")

    with pytest.raises(ModuleNotFoundError):
        _child_output(run, capsys)


def test_a_benchmark_that_lacks_something_says_what(capsys: pytest.CaptureFixture[str]) -> None:
    def run(quick: bool) -> Table:
        raise UnavailableError("needs Chromium at /usr/bin/chromium")

    outcome = runner.read_outcome(0, _child_output(run, capsys), 1.0, 60)
    assert outcome.problem == "skipped: needs Chromium at /usr/bin/chromium"


def test_a_run_that_returns_tables_gives_them_to_the_runner(capsys: pytest.CaptureFixture[str]) -> None:
    tables = [Table("One", "x", ["a"], [["1"]]), Table("Two", "x", ["b"], [["2"]])]
    outcome = runner.read_outcome(0, _child_output(lambda quick: tables, capsys), 1.0, 60)
    assert outcome.tables == [t.markdown() for t in tables]


def test_missing_speech_packages_are_named_with_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(needs.importlib.util, "find_spec", lambda name: None if name == "pocketsphinx" else object())
    with pytest.raises(UnavailableError, match=r"pocketsphinx not installed: pip install 'realtime-widget\[speech\]'"):
        needs.speech()


def test_the_shortest_budgets_run_first_so_an_overrun_loses_the_longest() -> None:
    found = {
        "slow": runner.Benchmark("slow", runnable=True, budget_s=240),
        "b_quick": runner.Benchmark("b_quick", runnable=True, budget_s=60),
        "a_quick": runner.Benchmark("a_quick", runnable=True, budget_s=60),
        "middle": runner.Benchmark("middle", runnable=True, budget_s=150),
    }
    assert runner.in_running_order(list(found), found) == ["a_quick", "b_quick", "middle", "slow"]
