"""What a benchmark returns to the runner (``python -m benchmarks``): a titled table with notes, as Markdown.

Cells are text, so each benchmark decides how its numbers read ("12 / 15 / 40" for min / median / max, "0.74x" for
a ratio). ``spread`` and ``ratio`` format the two kinds every benchmark needs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """One result table: ``title`` (a heading), ``command`` (how to run this benchmark alone), ``columns``,
    ``rows`` (cells as text), ``notes`` (one paragraph each: what was measured, what it means)."""

    title: str
    command: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", f"`{self.command}`", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|")
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        for note in self.notes:
            lines.extend(["", note])
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "command": self.command,
            "columns": self.columns,
            "rows": self.rows,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        return cls(
            data["title"], data["command"], list(data["columns"]), [list(r) for r in data["rows"]], list(data["notes"])
        )


def spread(values: Sequence[float], digits: int = 0) -> str:
    """``min / median / max``, or ``-`` without values."""
    if not values:
        return "-"
    f = f"{{:,.{digits}f}}"
    return " / ".join(f.format(v) for v in (min(values), statistics.median(values), max(values)))


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(value: float | None, reference: float | None) -> str:
    """``value / reference`` as ``0.74x``, or ``-`` when either is missing."""
    if value is None or reference is None or reference == 0:
        return "-"
    return f"{value / reference:.2f}x"
