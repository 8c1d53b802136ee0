"""Running the model's calls of a widget's tools: check the arguments, run the function, turn the result (or the
failure) into text for the model."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from realtime_widget.suggest import closest
from realtime_widget.validation_errors import what, where

from .define import DEFAULT_TIMEOUT_S, Tool, ToolLike
from .output import DEFAULT_MAX_CHARS, format_error, format_result

__all__ = ["ToolOutcome", "ToolRegistry"]


@dataclass
class ToolOutcome:
    """What happened when the model called a tool. ``error`` is ``None`` when it worked.

    Attributes:
        call_id: The API's id of this call (answers go back under it).
        name: The tool the model asked for.
        arguments: The parsed arguments, or ``None`` when they were not a JSON object.
        arguments_json: The arguments exactly as the model sent them.
        output: The text sent back to the model: the formatted result, or ``{"error": "..."}``.
        result: The Python object the function returned (not shown in the repr; may be large).
        error: A short, model-readable reason for a failure, else ``None``.
        error_kind: ``"unknown_tool"``, ``"invalid_json"``, ``"invalid_arguments"``, ``"raised"``, ``"timeout"``
            or ``"unreadable_result"``; ``None`` on success.
        traceback: The full traceback of a failure, for the record.
        started: When the call started (timezone-aware, UTC).
        duration_ms: How long it took, in milliseconds.
    """

    call_id: str
    name: str
    arguments: dict[str, Any] | None
    arguments_json: str
    output: str
    result: Any = field(default=None, repr=False)
    error: str | None = None
    error_kind: str | None = None
    traceback: str | None = field(default=None, repr=False)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the tool ran and returned."""
        return self.error is None

    def to_record(self) -> dict[str, Any]:
        """One row for the session record's ``tool_calls`` table: plain values, ``arguments`` as the JSON text."""
        return {
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments_json,
            "output": self.output,
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "traceback": self.traceback,
            "result_type": None if self.result is None else type(self.result).__name__,
            "started": self.started,
            "duration_ms": self.duration_ms,
        }


class _ToolCallError(Exception):
    """A failure on the way to a result, carried to one place that builds the outcome."""

    def __init__(self, kind: str, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.cause = cause


class ToolRegistry:
    """The tools one widget offers the model, by name.

    Args:
        tools: Tools or plain functions. Two with the same name are an error here; :meth:`add` replaces instead.
        default_timeout_s: The time limit for tools that set none (30 s).
        max_output_chars: The longest output sent to the model; longer results are cut with a note (8,000).
    """

    def __init__(
        self,
        tools: Iterable[ToolLike] = (),
        *,
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
        max_output_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        if default_timeout_s <= 0:
            raise ValueError(f"default_timeout_s must be positive; got {default_timeout_s}")
        self.default_timeout_s = default_timeout_s
        self.max_output_chars = max_output_chars
        self._tools: dict[str, Tool] = {}
        for item in tools:
            made = Tool.from_function(item)
            if made.name in self._tools:
                raise ValueError(f"two tools are named {made.name!r}; pass name=... to tell them apart")
            self._tools[made.name] = made

    # ---- the collection ----------------------------------------------------------------------------------------

    def add(self, item: ToolLike) -> Tool:
        """Add a tool (or function); one with the same name is replaced, as when a notebook cell is re-run."""
        made = Tool.from_function(item)
        self._tools[made.name] = made
        return made

    def remove(self, name: str) -> Tool:
        """Remove the tool called ``name`` and return it; ``KeyError`` (with a suggestion) if there is none."""
        if name not in self._tools:
            raise KeyError(self._unknown(name))
        return self._tools.pop(name)

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, or ``None``."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """The tool names, in the order they were added."""
        return list(self._tools)

    def definitions(self) -> list[dict[str, Any]]:
        """The GA function tool definitions for ``SessionConfig(tools=...)``."""
        return [t.definition() for t in self._tools.values()]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolRegistry([{', '.join(map(repr, self._tools.values()))}])"

    def _unknown(self, name: str) -> str:
        match = closest(name, self._tools)
        available = ", ".join(self._tools) or "none"
        guess = f" Did you mean {match!r}?" if match is not None else ""
        return f"There is no tool named {name!r}.{guess} Available tools: {available}."

    # ---- running a call ----------------------------------------------------------------------------------------

    async def run(self, call_id: str, name: str, arguments_json: str, *, timeout_s: float | None = None) -> ToolOutcome:
        """Run the tool the model called and return what happened; never raises (except on cancellation).

        Args:
            call_id: The ``call_id`` of ``response.function_call_arguments.done``.
            name: The tool's name from the same event.
            arguments_json: Its ``arguments``, a JSON object as text (an empty string counts as ``{}``).
            timeout_s: Overrides the tool's and the registry's time limit for this call.
        """
        started = datetime.now(UTC)
        clock = time.perf_counter()
        arguments: dict[str, Any] | None = None
        try:
            chosen = self._tools.get(name)
            if chosen is None:
                raise _ToolCallError("unknown_tool", self._unknown(name))
            arguments = _parse_arguments(arguments_json)
            limit = timeout_s or chosen.timeout_s or self.default_timeout_s
            result = await _call(chosen, _validate(chosen, arguments), limit)
            output = _readable(chosen, result, self.max_output_chars)
        except Exception as exc:
            # Anything unforeseen (a custom pydantic validator raising TypeError, say) is still an answer.
            failure = exc if isinstance(exc, _ToolCallError) else _ToolCallError("raised", _raised(name, exc), exc)
            cause = failure.cause
            trace = "".join(traceback.format_exception(cause)) if cause is not None else None
            return ToolOutcome(
                call_id,
                name,
                arguments,
                arguments_json,
                output=format_error(failure.message),
                error=failure.message,
                error_kind=failure.kind,
                traceback=trace,
                started=started,
                duration_ms=(time.perf_counter() - clock) * 1000,
            )
        return ToolOutcome(
            call_id,
            name,
            arguments,
            arguments_json,
            output=output,
            result=result,
            started=started,
            duration_ms=(time.perf_counter() - clock) * 1000,
        )


def _parse_arguments(arguments_json: str) -> dict[str, Any]:
    if not arguments_json.strip():
        return {}
    try:
        parsed = json.loads(arguments_json)
    except json.JSONDecodeError as exc:
        raise _ToolCallError(
            "invalid_json", f"The arguments were not valid JSON ({exc.msg} at character {exc.pos}).", exc
        ) from exc
    if not isinstance(parsed, dict):
        raise _ToolCallError("invalid_json", f"The arguments must be a JSON object, not {type(parsed).__name__}.")
    return parsed


def _validate(chosen: Tool, arguments: dict[str, Any]) -> BaseModel:
    try:
        return chosen.arguments_model.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(_describe_problem(error) for error in exc.errors())
        raise _ToolCallError("invalid_arguments", f"Invalid arguments for {chosen.name}: {problems}.", exc) from exc


def _describe_problem(error: ErrorDetails) -> str:
    path = where(error) or "arguments"
    if error["type"] == "extra_forbidden":
        return f"{path}: not a parameter of this tool"
    got = "" if error["type"] == "missing" else f" (got {error['input']!r:.60})"
    return f"{path}: {what(error)}{got}"


async def _call(chosen: Tool, validated: BaseModel, limit: float) -> Any:
    args, kwargs = chosen._signature.call_arguments(validated)
    try:
        async with asyncio.timeout(limit):
            if chosen.is_async:
                return await chosen.fn(*args, **kwargs)
            # A thread keeps the kernel's event loop (comm messages, the UI) going while the function runs.
            result = await _in_own_thread(chosen.name, chosen.fn, *args, **kwargs)
            if inspect.isawaitable(result):
                return await result
            return result
    except TimeoutError as exc:
        # A thread cannot be stopped from outside, so a sync function may go on running: say so in the record.
        background = "" if chosen.is_async else " (it may still be running in the background)"
        message = f"{chosen.name} did not finish within {limit:g} s{background}."
        raise _ToolCallError("timeout", message, exc) from exc
    except Exception as exc:
        raise _ToolCallError("raised", _raised(chosen.name, exc), exc) from exc


def _raised(name: str, exc: BaseException) -> str:
    detail = str(exc).strip() or "no message"
    return f"{name} raised {type(exc).__name__}: {detail:.500}"


def _readable(chosen: Tool, result: Any, max_chars: int) -> str:
    try:
        return format_result(result, max_chars)
    except Exception as exc:  # a broken __repr__ or an exotic column type
        message = f"{chosen.name} returned a {type(result).__name__} that could not be turned into text ({exc})."
        raise _ToolCallError("unreadable_result", message, exc) from exc


async def _in_own_thread(name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on a new daemon thread and await its result.

    Not ``asyncio.to_thread``: a function that times out cannot be stopped and would keep a thread of the loop's
    default executor, which the loop also needs for DNS lookups; a few stuck tools could stall all networking.
    A thread of its own costs about a millisecond, nothing next to a model's round trip.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # cancelled by the timeout meanwhile
            outcome()

    def work() -> None:
        error: BaseException | None = None
        result: Any = None
        try:
            result = context.run(fn, *args, **kwargs)
        except Exception as exc:
            error = exc
        except BaseException as exc:
            # sys.exit() or KeyboardInterrupt inside a tool must not reach the kernel's event loop as such.
            error = RuntimeError(f"the tool raised {type(exc).__name__}({exc})")
        if error is not None:
            deliver = functools.partial(settle, functools.partial(future.set_exception, error))
        else:
            deliver = functools.partial(settle, functools.partial(future.set_result, result))
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(deliver)

    threading.Thread(target=work, name=f"tool {name}", daemon=True).start()
    return await future
