"""A :class:`Case`: a scripted conversation (user steps and expectations), and checking it against a record."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from realtime_widget.evals.expectations import Expectation, ToolCalled, Window
from realtime_widget.evals.steps import Silence, UserStep
from realtime_widget.record import SessionRecord
from realtime_widget.suggest import did_you_mean

__all__ = ["Case", "Failure", "Step", "check"]

Step = UserStep | Expectation


@dataclass(frozen=True)
class Case:
    """One scripted conversation: ``steps`` in order, user steps (:class:`~realtime_widget.evals.Say`,
    :class:`~realtime_widget.evals.Typed`, :class:`~realtime_widget.evals.Image`,
    :class:`~realtime_widget.evals.Silence`) and expectations (``expect.*``), each expectation checked on the turn
    it follows.

    ``timeout_s`` bounds each step (a reply that never comes fails the case, saying which step). ``script`` is for
    the local server only: replies it gives instead of its deterministic ones, one per response (its scripted mode:
    ``{"say": text}``, ``{"call_tool": {"name", "arguments"}}``, ``{"fail": kind}``); against the real API a
    scripted case is refused.
    """

    name: str
    steps: Sequence[Step]
    timeout_s: float = 30.0
    script: Sequence[Mapping[str, Any]] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a case needs a name")
        if not self.timeout_s > 0:
            raise ValueError(f"case {self.name!r}: timeout_s must be > 0, not {self.timeout_s!r}")
        for n, step in enumerate(self.steps, 1):
            if not isinstance(step, Expectation | UserStep):
                raise TypeError(
                    f"case {self.name!r}, step {n}: {step!r} is neither a user step (Say, Typed, Image, Silence) "
                    "nor an expectation (expect.*)"
                )
        if not self.user_steps:
            raise ValueError(f"case {self.name!r} has no user step: say, type or show something")
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "script", tuple(dict(s) for s in self.script))

    @property
    def user_steps(self) -> list[UserStep]:
        """The steps the user takes, in order."""
        return [step for step in self.steps if not isinstance(step, Expectation)]

    @property
    def expectations(self) -> list[Expectation]:
        """The expectations, in order."""
        return [step for step in self.steps if isinstance(step, Expectation)]

    def check_tools(self, tool_names: Sequence[str]) -> None:
        """Refuse a case that expects a tool the session does not have (a typo would fail every run)."""
        for n, step in enumerate(self.steps, 1):
            if isinstance(step, ToolCalled) and step.name not in tool_names:
                known = f" (the session's tools: {', '.join(tool_names) or 'none'})"
                raise ValueError(
                    f"case {self.name!r}, step {n}: expects tool {step.name!r}, which the session does not have"
                    + did_you_mean(step.name, tool_names, otherwise=known)
                )


@dataclass(frozen=True)
class Failure:
    """One expectation that did not hold: which ``step`` (1-based), what was expected, what happened instead, and
    the ``excerpt`` of the conversation it looked at."""

    step: int
    expected: str
    message: str
    excerpt: str = ""

    def __str__(self) -> str:
        return f"step {self.step} ({self.expected}): {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (saved with a run)."""
        return {"step": self.step, "expected": self.expected, "message": self.message, "excerpt": self.excerpt}


def _marks_from_record(record: SessionRecord, count: int) -> list[pd.Timestamp]:
    """Without the runner's marks, take the user's utterances in order as the starts of the user steps."""
    users = record.transcript
    started = list(users.loc[users["role"] == "user", "started"].dropna())
    return started[:count]


def check(
    case: Case,
    record: SessionRecord,
    marks: Sequence[pd.Timestamp | None] | None = None,
    *,
    start: pd.Timestamp | None = None,
) -> list[Failure]:
    """Check ``case``'s expectations against ``record``; the failures, empty when all hold.

    ``marks`` are when each user step began (the runner records them; ``None`` for a step that never began). Without
    them, the user's utterances in the record, in order, stand for the user steps that are not silences — so a case
    can also be checked against a session you held in the widget. ``start`` bounds the case's own stretch of the
    record (default: all of it).
    """
    turn_steps = [s for s in case.user_steps if not isinstance(s, Silence)]
    if marks is None:
        found = _marks_from_record(record, len(turn_steps))
        user_marks: list[pd.Timestamp | None] = [*found, *([None] * (len(turn_steps) - len(found)))]
    else:
        user_marks = [m for m, s in zip(marks, case.user_steps, strict=False) if not isinstance(s, Silence)]
    failures: list[Failure] = []
    turn = -1
    for n, step in enumerate(case.steps, 1):
        if not isinstance(step, Expectation):
            turn += 0 if isinstance(step, Silence) else 1
            continue
        if step.scope == "case":
            window = Window(record, start, None)
        elif turn < 0:
            window = Window(record, start, user_marks[0] if user_marks else None)
        else:
            begin = user_marks[turn]
            if begin is None:
                failures.append(Failure(n, step.describe(), "not checked: its turn never happened"))
                continue
            later = [m for m in user_marks[turn + 1 :] if m is not None]
            earlier = [m for m in user_marks[:turn] if m is not None]
            window = Window(record, begin, later[0] if later else None, earlier[-1] if earlier else start)
        message = step.check(window)
        if message is not None:
            failures.append(Failure(n, step.describe(), message, window.excerpt()))
    return failures


def failures_json(failures: Sequence[Failure]) -> str:
    """Failures as a JSON list (the form a run saves)."""
    return json.dumps([f.as_dict() for f in failures])


@dataclass
class CaseRun:
    """What one run of one case produced: the record, when each user step began, and what the runner itself saw
    go wrong (a step that timed out, a dropped session), which fails the case even if every expectation held."""

    record: SessionRecord
    marks: list[pd.Timestamp | None] = field(default_factory=list)
    errors: list[Failure] = field(default_factory=list)
