"""The results of a run: one row per variant x case x repeat, the turns' latencies, the failures, and the saved
sessions; :func:`load` reads a run back from its folder."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from realtime_widget.evals.cases import Failure
from realtime_widget.evals.compare import compare
from realtime_widget.evals.expectations import Window, turn_latencies
from realtime_widget.record import SessionRecord, schema

if TYPE_CHECKING:
    from realtime_widget.record.persist import SessionSet

__all__ = ["RUN_COLUMNS", "Results", "Verdict", "load", "run_row"]

#: The columns of :attr:`Results.table` and their dtypes.
RUN_COLUMNS: dict[str, str] = {
    "variant": "str",
    "case": "str",
    "repeat": "int64",
    "passed": "bool",
    "failures": "object",
    "latency_ms": "float64",
    "interrupted": "bool",
    "tool_calls": "int64",
    "cost_usd": "float64",
    "session_id": "str",
}
TURN_COLUMNS: dict[str, str] = {
    "variant": "str",
    "case": "str",
    "repeat": "int64",
    "session_id": "str",
    "turn": "int64",
    "latency_ms": "float64",
}
FAILURE_COLUMNS: dict[str, str] = {
    "variant": "str",
    "case": "str",
    "repeat": "int64",
    "session_id": "str",
    "step": "int64",
    "expected": "str",
    "message": "str",
    "excerpt": "str",
}


def run_row(
    variant: str,
    case: str,
    repeat: int,
    record: SessionRecord,
    failures: Sequence[Failure],
    *,
    since: pd.Timestamp | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The table row, the turn rows and the failure rows of one run of one case; ``since`` keeps to the part of
    the record made from then on (a case played into a widget's longer session)."""
    window = Window(record, since)
    turns = window.turns()
    latencies = turn_latencies(turns)
    measured = [v for v in latencies if not math.isnan(v)]
    cost = window.usage()["cost_usd"]
    events = record.events if since is None else record.events[record.events["time"] >= since]
    key = {"variant": variant, "case": case, "repeat": repeat}
    row = {
        **key,
        "passed": not failures,
        "failures": [str(f) for f in failures],
        "latency_ms": float(pd.Series(measured).median()) if measured else math.nan,
        "interrupted": bool(turns["interrupted"].any()),
        "tool_calls": int((events["type"] == "response.function_call_arguments.done").sum()),
        "cost_usd": float(cost.sum()) if not cost.isna().any() else math.nan,
        "session_id": record.session_id,
    }
    turn_rows = [
        {**key, "session_id": record.session_id, "turn": int(n), "latency_ms": value}
        for n, value in zip(turns["turn"], latencies, strict=True)
    ]
    failure_rows = [{**key, "session_id": record.session_id, **f.as_dict()} for f in failures]
    return row, turn_rows, failure_rows


class Verdict:
    """Whether a run passed: true when every run of every case passed. Its repr lists each failure with the
    transcript excerpt it looked at, so ``assert results.passed`` in pytest says what went wrong."""

    def __init__(self, failures: pd.DataFrame, runs: int) -> None:
        self.failures = failures
        self.runs = runs

    def __bool__(self) -> bool:
        return self.failures.empty and self.runs > 0

    def __repr__(self) -> str:
        if self.runs == 0:
            return "<nothing ran>"
        if self.failures.empty:
            return f"<all {self.runs} runs passed>"
        failed = self.failures.groupby(["variant", "case", "repeat"]).ngroups
        lines = [f"<{failed} of {self.runs} runs failed:"]
        for row in self.failures.itertuples(index=False):
            lines.append(
                f"  {row.variant} / {row.case} / repeat {row.repeat}, step {row.step} ({row.expected}): {row.message}"
            )
            lines.extend(f"      | {line}" for line in str(row.excerpt).splitlines() if row.excerpt)
        return "\n".join(lines) + ">"

    __str__ = __repr__


@dataclass
class Results:
    """What :func:`~realtime_widget.evals.run` returns and :func:`load` reads back.

    ``table``: one row per variant x case x repeat — ``variant``, ``case``, ``repeat``, ``passed``, ``failures``
    (a list of messages), ``latency_ms`` (the median of the run's turns: voice to voice where measured, else by
    events), ``interrupted``, ``tool_calls``, ``cost_usd``, ``session_id``. ``turns``: every turn's latency.
    ``failures``: one row per failed expectation, with the transcript excerpt it looked at. ``folder``: where the
    run and its sessions are saved (``sessions/<session_id>/``, readable with ``load_sessions`` or DuckDB).
    """

    table: pd.DataFrame
    turns: pd.DataFrame
    failures: pd.DataFrame
    folder: Path | None = None
    records: dict[str, SessionRecord] = field(default_factory=dict, repr=False)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[dict[str, Any]],
        turn_rows: Sequence[dict[str, Any]],
        failure_rows: Sequence[dict[str, Any]],
        **kwargs: Any,
    ) -> Results:
        """Results from the rows :func:`run_row` makes."""
        table = _frame(RUN_COLUMNS, rows)
        return cls(table, _frame(TURN_COLUMNS, turn_rows), _frame(FAILURE_COLUMNS, failure_rows), **kwargs)

    @property
    def passed(self) -> Verdict:
        """True when every run passed; ``assert results.passed`` lists the failures when not."""
        return Verdict(self.failures, len(self.table))

    def compare(self, *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
        """One row per variant: pass rate, latency p50/p90 and cost with bootstrap confidence intervals, and a note
        in plain words (see :func:`realtime_widget.evals.compare.compare`)."""
        return compare(self.table, self.turns, confidence=confidence, resamples=resamples, seed=seed)

    def plot(self, **kwargs: Any) -> Any:
        """Latency distributions and pass rates per variant, as a matplotlib figure (needs the analysis extra)."""
        from realtime_widget.evals.plot import plot_results  # noqa: PLC0415  # loads matplotlib, only when asked

        return plot_results(self, **kwargs)

    @property
    def sessions(self) -> SessionSet:
        """Every saved session of the run, as one :class:`~realtime_widget.record.persist.SessionSet`."""
        from realtime_widget.record.persist import SessionSet, load_sessions  # noqa: PLC0415  # as record/session.py

        if self.records:
            return SessionSet(dict(self.records))
        if self.folder is None:
            raise ValueError("these results were not saved, and hold no sessions")
        return load_sessions(self.folder / "sessions")

    def save(self, folder: str | Path) -> Path:
        """Write the tables (``results.parquet``, ``turns.parquet``, ``failures.parquet``) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        table = self.table.copy()
        table["failures"] = [json.dumps(list(f)) for f in table["failures"]]
        _write(table, folder / "results.parquet")
        _write(self.turns, folder / "turns.parquet")
        _write(self.failures, folder / "failures.parquet")
        self.folder = folder
        return folder

    def __repr__(self) -> str:
        where = f", saved in {self.folder}" if self.folder else ""
        return f"<Results: {len(self.table)} runs, {self.passed!r}{where}>"

    def _repr_html_(self) -> str:
        return f"<p>{len(self.table)} runs; {self.passed!r}</p>".replace("<<", "&lt;").replace(">>", "&gt;") + str(
            self.compare().to_html(index=False)
        )


def _frame(columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    data = {name: [row.get(name) for row in rows] for name in columns}
    plain = {name: dtype for name, dtype in columns.items() if dtype != "object"}
    out = schema.frame(plain, data)
    if "failures" in columns:
        out.insert(list(columns).index("failures"), "failures", pd.Series(data["failures"], dtype="object"))
    return out


def _write(frame: pd.DataFrame, path: Path) -> None:
    staging = path.with_name(path.name + ".tmp")
    frame.to_parquet(staging, index=False)
    staging.replace(path)


def load(folder: str | Path) -> Results:
    """A saved run read back: its tables, and its sessions through :attr:`Results.sessions`."""
    folder = Path(folder)
    path = folder / "results.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{folder} holds no eval run (no results.parquet)")
    rows = _records(pd.read_parquet(path))
    for row in rows:
        row["failures"] = json.loads(row["failures"])
    turns = _records(pd.read_parquet(folder / "turns.parquet"))
    failures = _records(pd.read_parquet(folder / "failures.parquet"))
    return Results.from_rows(rows, turns, failures, folder=folder)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
