"""What a case expects of the assistant, each checked against a :class:`~realtime_widget.record.SessionRecord`.

An expectation written after a user step is checked on that step's turn: everything from the moment the user began
it until the next user step began (see :class:`Window`). ``scope="case"`` checks the whole conversation instead;
:class:`NoError` and :class:`CostUnder` do by default. Nothing here needs the network: a judge you pass to
:class:`Said` (an LLM grader, say) is your own function.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from realtime_widget.record import SessionRecord

__all__ = [
    "CostUnder",
    "Expectation",
    "Interrupted",
    "Judge",
    "LatencyWithin",
    "NoError",
    "Said",
    "ToolCalled",
    "Window",
    "expect",
]

Scope = Literal["turn", "case"]
#: A judge of what was said: ``True``/``False``, or ``(passed, reason)`` so a failure can say why.
Judge = Callable[[str], bool | tuple[bool, str]]
ArgumentsPredicate = Callable[[dict[str, Any]], bool]

_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Window:
    """The stretch of a record one expectation looks at: ``start`` inclusive, ``end`` exclusive (``None``: open)."""

    record: SessionRecord
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    #: When the turn before this one began (a barge-in cuts off that turn's reply).
    previous: pd.Timestamp | None = None

    def _within(self, times: pd.Series[Any]) -> pd.Series[bool]:
        keep = pd.Series(True, index=times.index)
        if self.start is not None:
            keep &= times >= self.start
        if self.end is not None:
            keep &= times < self.end
        return keep.fillna(False).astype(bool)

    def transcript(self, role: str | None = None) -> pd.DataFrame:
        """Utterances that started in the window (of one ``role`` if given)."""
        rows = self.record.transcript
        rows = rows[self._within(rows["started"])]
        return rows if role is None else rows[rows["role"] == role]

    def turns(self) -> pd.DataFrame:
        """User turns whose reply was created in the window (typed turns have no speech times, but a reply)."""
        rows = self.record.turns
        when = rows["speech_started"].fillna(rows["response_created"])
        return rows[self._within(when)]

    def function_calls(self) -> list[tuple[str, str]]:
        """``(name, arguments JSON)`` of each function call the model made in the window, in order."""
        events = self.record.events
        calls = events[(events["type"] == "response.function_call_arguments.done") & (events["direction"] == "server")]
        calls = calls[self._within(calls["time"])]
        found = []
        for payload in calls["payload"]:
            body = json.loads(payload)
            found.append((str(body.get("name")), str(body.get("arguments") or "")))
        return found

    def problems(self) -> pd.DataFrame:
        """Problems (error events, failed replies) recorded in the window."""
        rows = self.record.problems
        return rows[self._within(rows["time"])]

    def usage(self) -> pd.DataFrame:
        """Token usage (with cost) recorded in the window."""
        rows = self.record.usage
        return rows[self._within(rows["time"])]

    def excerpt(self) -> str:
        """The window's conversation as text, for failure messages: ``user: ...`` / ``assistant: ...`` lines."""
        rows = self.transcript()
        lines = [f"{role}: {text}" for role, text in zip(rows["role"], rows["text"].fillna(""), strict=True)]
        text = "\n".join(lines) or "(nothing was said)"
        return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 3] + "..."


class Expectation:
    """Base of every expectation: :meth:`check` returns ``None`` when it holds, else a message saying what
    happened instead. ``scope`` is ``"turn"`` (the turn it follows) or ``"case"`` (the whole conversation)."""

    scope: Scope = "turn"

    def check(self, window: Window) -> str | None:
        """``None`` when the expectation holds in ``window``, else what happened instead."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        raise NotImplementedError


def _subset(expected: Any, actual: Any) -> bool:
    """``expected``'s keys (recursively, for dicts) have equal values in ``actual``."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _subset(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


@dataclass(frozen=True)
class ToolCalled(Expectation):
    """The model called tool ``name``; with ``arguments``, with these arguments: ``match="exact"`` (equal),
    ``"subset"`` (these keys with these values, others allowed), or a predicate ``arguments(args) -> bool``."""

    name: str
    arguments: Mapping[str, Any] | ArgumentsPredicate | None = None
    match: Literal["exact", "subset"] = "exact"
    scope: Scope = "turn"

    def __post_init__(self) -> None:
        if self.match not in ("exact", "subset"):
            raise ValueError(f"match is 'exact' or 'subset', not {self.match!r}")

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        if self.arguments is None:
            return f"tool {self.name} called"
        if callable(self.arguments):
            return f"tool {self.name} called with arguments passing {getattr(self.arguments, '__name__', 'a check')}"
        shown = json.dumps(dict(self.arguments), default=str)
        return f"tool {self.name} called with {'at least ' if self.match == 'subset' else ''}{shown}"

    def check(self, window: Window) -> str | None:
        """``None`` when a call of the tool (with matching arguments) is in the window."""
        calls = window.function_calls()
        mine = [arguments for name, arguments in calls if name == self.name]
        if not mine:
            others = ", ".join(sorted({name for name, _ in calls}))
            return f"{self.name} was not called" + (f" (called: {others})" if others else " (no tool was called)")
        if self.arguments is None:
            return None
        for text in mine:
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if self._arguments_match(parsed):
                return None
        return f"{self.name} was called with {' and with '.join(mine)}"

    def _arguments_match(self, actual: Any) -> bool:
        if callable(self.arguments):
            return isinstance(actual, dict) and bool(self.arguments(actual))
        expected = dict(self.arguments or {})
        return _subset(expected, actual) if self.match == "subset" else expected == actual


@dataclass(frozen=True)
class Said(Expectation):
    """The assistant's reply (what was heard, when cut off) matches ``pattern``: a regular expression searched
    case-insensitively, or a judge ``pattern(text) -> bool | (bool, reason)`` of your own (an LLM grader, say).
    ``negate=True`` expects it *not* to match. ``role="user"`` checks what the user was heard to say instead."""

    pattern: str | Judge
    negate: bool = False
    role: Literal["assistant", "user"] = "assistant"
    scope: Scope = "turn"

    def __post_init__(self) -> None:
        if isinstance(self.pattern, str):
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"{self.pattern!r} is not a regular expression: {exc}") from exc

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        what = f"/{self.pattern}/" if isinstance(self.pattern, str) else getattr(self.pattern, "__name__", "a judge")
        return f"{self.role} {'did not say' if self.negate else 'said'} {what}"

    def check(self, window: Window) -> str | None:
        """``None`` when the role's words in the window match (or, with ``negate``, do not)."""
        rows = window.transcript(self.role)
        text = " ".join(t for t in rows["text"].fillna("") if t)
        if not text and not self.negate:
            return f"the {self.role} said nothing"
        passed, reason = self._judge(text)
        if passed != self.negate:
            return None
        verdict = "said" if self.negate else "did not match"
        return f"the {self.role} {verdict}: {text!r}" + (f" ({reason})" if reason else "")

    def _judge(self, text: str) -> tuple[bool, str]:
        if isinstance(self.pattern, str):
            return re.search(self.pattern, text, re.IGNORECASE) is not None, ""
        verdict = self.pattern(text)
        if isinstance(verdict, tuple):
            return bool(verdict[0]), str(verdict[1])
        return bool(verdict), ""


@dataclass(frozen=True)
class LatencyWithin(Expectation):
    """Every reply in the turn started within ``max_ms`` of the end of the user's speech: voice to voice as
    heard where measured (from the audio itself), else by the events (``speech_stopped`` to first audio)."""

    max_ms: float
    scope: Scope = "turn"

    def __post_init__(self) -> None:
        if not self.max_ms > 0:
            raise ValueError(f"a latency budget is a number of ms > 0, not {self.max_ms!r}")

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return f"latency within {self.max_ms:g} ms"

    def check(self, window: Window) -> str | None:
        """``None`` when every measured latency in the window is within the budget."""
        latencies = [value for value in turn_latencies(window.turns()) if not math.isnan(value)]
        if not latencies:
            return "no reply latency was measured (no spoken turn was answered with audio)"
        worst = max(latencies)
        return None if worst <= self.max_ms else f"latency was {worst:.0f} ms (budget {self.max_ms:g} ms)"


def turn_latencies(turns: pd.DataFrame) -> list[float]:
    """Each turn's latency in ms: voice to voice where measured, else by events; NaN when neither was."""
    v2v = turns["voice_to_voice_ms"].astype("float64")
    events = turns["latency_ms"].astype("float64")
    return [float(v) for v in v2v.fillna(events)]


@dataclass(frozen=True)
class Interrupted(Expectation):
    """The assistant's reply was cut off (a barge-in) — or, with ``expected=False``, was heard to the end. Looks
    at the replies of this turn and of the turn before it, so write it after the barge-in step."""

    expected: bool = True
    scope: Scope = "turn"

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return "reply interrupted" if self.expected else "reply not interrupted"

    def check(self, window: Window) -> str | None:
        """``None`` when a reply of this turn or the one before was interrupted, as expected: its item truncated
        at what was heard, its output buffer cleared, or its response cancelled by the user's speech."""
        since = Window(window.record, window.previous or window.start, window.end)
        replies = since.transcript("assistant")
        cut = replies[replies["interrupted"].astype(bool)]
        turns = since.turns()
        cut_turns = turns[turns["interrupted"].astype(bool)]
        if self.expected and cut.empty and cut_turns.empty:
            return "no reply was interrupted" if not replies.empty else "there was no reply to interrupt"
        if not self.expected and not (cut.empty and cut_turns.empty):
            if cut.empty:
                return "a reply was cut off by the user's speech"
            return f"a reply was cut off after {cut['audio_end_ms'].iloc[0]:.0f} ms: {cut['text'].iloc[0]!r}"
        return None


@dataclass(frozen=True)
class NoError(Expectation):
    """No ``error`` event, failed reply or other error-level problem (by default in the whole conversation)."""

    scope: Scope = "case"

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return "no error"

    def check(self, window: Window) -> str | None:
        """``None`` when no error-level problem was recorded in the window."""
        problems = window.problems()
        errors = problems[problems["level"] == "error"]
        if errors.empty:
            return None
        first = errors.iloc[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"error {first['code']}: {first['message']}{more}"


@dataclass(frozen=True)
class CostUnder(Expectation):
    """The conversation cost less than ``max_usd`` (tokens priced by ``record.prices``)."""

    max_usd: float
    scope: Scope = "case"

    def __post_init__(self) -> None:
        if not self.max_usd > 0:
            raise ValueError(f"a cost limit is a number of USD > 0, not {self.max_usd!r}")

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return f"cost under ${self.max_usd:g}"

    def check(self, window: Window) -> str | None:
        """``None`` when the priced usage in the window is below the limit."""
        usage = window.usage()
        if usage["cost_usd"].isna().any():
            model = ", ".join(sorted(set(usage.loc[usage["cost_usd"].isna(), "model"].dropna())))
            return f"the cost is unknown: no prices for {model or 'the model'} (add them to record.prices)"
        cost = float(usage["cost_usd"].sum())
        return None if cost < self.max_usd else f"cost ${cost:.4f} (limit ${self.max_usd:g})"


@dataclass(frozen=True)
class AnsweredBy(Expectation):
    """The turn's answer came from the Agents SDK agent called ``agent`` (a session with ``agent=``): the agent of
    the last assistant utterance in the window, handoffs included (``record.transcript.agent``)."""

    agent: str
    scope: Scope = "turn"

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return f"answered by {self.agent}"

    def check(self, window: Window) -> str | None:
        """``None`` when the last assistant utterance in the window is the agent's."""
        rows = window.transcript("assistant")
        if rows.empty:
            return "the assistant said nothing"
        agents = rows["agent"].dropna()
        if agents.empty:
            return "no agent is named for the answer (a session without agent=?)"
        last = str(agents.iloc[-1])
        return None if last == self.agent else f"answered by {last}, not {self.agent}"


@dataclass(frozen=True)
class _Expect:
    """Short constructors: ``expect.tool_called(...)``, ``expect.said(...)``, ``expect.latency_within(...)``,
    ``expect.interrupted()``, ``expect.no_error()``, ``expect.cost_under(...)``, ``expect.answered_by(...)``."""

    tool_called: type[ToolCalled] = field(default=ToolCalled)
    said: type[Said] = field(default=Said)
    latency_within: type[LatencyWithin] = field(default=LatencyWithin)
    interrupted: type[Interrupted] = field(default=Interrupted)
    no_error: type[NoError] = field(default=NoError)
    cost_under: type[CostUnder] = field(default=CostUnder)
    answered_by: type[AnsweredBy] = field(default=AnsweredBy)


expect = _Expect()
