"""Python functions the model can call.

Decorate a function with :func:`tool` (or pass a plain function; the widget wraps it the same way)::

    @tool
    def top_customers(n: int = 5, region: Literal["EU", "US"] | None = None) -> pd.DataFrame:
        \"\"\"The customers with the highest revenue.

        Args:
            n: How many customers to return.
            region: Only customers in this region.
        \"\"\"
        frame = sales if region is None else sales[sales.region == region]
        return frame.nlargest(n, "revenue")

The schema the model sees comes from the type hints and the docstring. Data the function works on (a DataFrame)
belongs in the function's closure or a ``functools.partial``, not in its parameters: the model only sends JSON.

When the model calls a tool, :meth:`ToolRegistry.run` checks the arguments, runs the function (a plain function on
a worker thread, so the notebook stays responsive; an ``async def`` on the event loop), and turns the result into
text for the model. It never raises: a failure becomes a :class:`ToolOutcome` whose ``output`` tells the model
what went wrong, so it can correct itself or tell the user.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, TypeAlias, overload

from pydantic import BaseModel

from realtime_widget.arguments import check_seconds

from .schema import ToolSignature, clean_schema, signature_of

__all__ = ["DEFAULT_TIMEOUT_S", "Tool", "ToolLike", "tool"]

DEFAULT_TIMEOUT_S = 30.0
#: How long a tool with a ``progress_message`` may run before the assistant says it.
DEFAULT_PROGRESS_AFTER_S = 1.5
"""How long a tool may run before the model is told it timed out; per tool with ``@tool(timeout_s=...)``."""

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what the API accepts as a function name


class Tool:
    """A Python function with the name, description and JSON Schema the model sees.

    A ``Tool`` is still callable like the function it wraps, so a decorated function keeps working in the notebook.

    Attributes:
        fn: The wrapped function.
        name: The name the model calls it by (default: the function's name).
        description: What it does, for the model (default: the docstring's first paragraph).
        parameters: The JSON Schema of its arguments.
        timeout_s: Its own time limit in seconds, or ``None`` for the registry's default.
        progress_message: What the assistant says (and the widget shows) when the tool is still running after
            ``progress_after_s`` seconds, e.g. ``"One moment, I'm looking that up."``; ``None`` says nothing.
        progress_after_s: How long a call may run before that (default 1.5 s when a message is given).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = None,
        progress_message: str | None = None,
        progress_after_s: float | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"a tool must be a function; got {type(fn).__name__}")
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            # The model gets one answer per call: what a generator yields would be lost, or sent as "<generator>".
            raise TypeError(f"a tool must return its result, not yield it: make {_function_name(fn)} return a list")
        tool_name: str = name or _function_name(fn)
        if not _NAME.match(tool_name):
            raise ValueError(
                f"tool name {tool_name!r} is not usable: use 1 to 64 letters, digits, '_' or '-' "
                "(for a lambda or partial, pass name=...)"
            )
        for argument, value in (("name", name), ("description", description), ("progress_message", progress_message)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{argument} must be a string; got {type(value).__name__}")
        check_seconds("timeout_s", timeout_s, optional=True)
        check_seconds("progress_after_s", progress_after_s, optional=True)
        self.fn = fn
        self.name = tool_name
        self.timeout_s = timeout_s
        self.progress_message = progress_message or None
        self.progress_after_s = (progress_after_s or DEFAULT_PROGRESS_AFTER_S) if self.progress_message else None
        self._signature: ToolSignature = signature_of(fn, tool_name)
        self.description = (description if description is not None else self._signature.docstring.summary).strip()
        self.parameters: dict[str, Any] = clean_schema(self._signature.model.model_json_schema())
        # So help(), inspect.signature() and IPython's `?` show the function, not this class.
        self.__wrapped__ = fn
        self.__doc__ = fn.__doc__

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = None,
        progress_message: str | None = None,
        progress_after_s: float | None = None,
    ) -> Tool:
        """The tool for ``fn``; a ``Tool`` given as ``fn`` comes back as it is unless something is overridden."""
        if isinstance(fn, Tool):
            overrides = (name, description, timeout_s, progress_message, progress_after_s)
            if all(value is None for value in overrides):
                return fn
            return cls(
                fn.fn,
                name=name or fn.name,
                description=description if description is not None else fn.description,
                timeout_s=timeout_s if timeout_s is not None else fn.timeout_s,
                progress_message=progress_message if progress_message is not None else fn.progress_message,
                progress_after_s=progress_after_s if progress_after_s is not None else fn.progress_after_s,
            )
        return cls(
            fn,
            name=name,
            description=description,
            timeout_s=timeout_s,
            progress_message=progress_message,
            progress_after_s=progress_after_s,
        )

    @property
    def arguments_model(self) -> type[BaseModel]:
        """The pydantic model the arguments are validated with."""
        return self._signature.model

    @property
    def is_async(self) -> bool:
        """True for an ``async def`` function, which runs on the event loop instead of a worker thread."""
        fn = self.fn
        # A callable object with an `async def __call__` counts too.
        return inspect.iscoroutinefunction(fn) or (
            not inspect.isroutine(fn) and inspect.iscoroutinefunction(type(fn).__call__)
        )

    def definition(self) -> dict[str, Any]:
        """The GA function tool for ``session.tools``: ``{"type": "function", "name", "description", "parameters"}``."""
        return {"type": "function", "name": self.name, "description": self.description, "parameters": self.parameters}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        params = ", ".join(self.parameters.get("properties", {}))
        limit = f", timeout_s={self.timeout_s:g}" if self.timeout_s is not None else ""
        return f"Tool({self.name}({params}){limit})"


def _function_name(fn: Callable[..., Any]) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return str(getattr(fn, "__name__", ""))


ToolLike: TypeAlias = Tool | Callable[..., Any]
"""A :class:`Tool`, or any function (it is wrapped with :meth:`Tool.from_function`)."""


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float | None = None,
    progress_message: str | None = None,
    progress_after_s: float | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float | None = None,
    progress_message: str | None = None,
    progress_after_s: float | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a function callable by the model; use it bare (``@tool``) or with options.

    Args:
        name: The name the model sees (default: the function's name).
        description: What the tool does (default: the docstring's first paragraph).
        timeout_s: How long it may run (default: 30 s, the registry's default).
        progress_message: Said by the assistant, and shown, when a call is still running after
            ``progress_after_s`` (default 1.5 s): ``@tool(progress_message="One moment, I'm checking.")``.

    Example:
        >>> @tool(timeout_s=5)
        ... def add(a: int, b: int) -> int:
        ...     "Add two whole numbers."
        ...     return a + b
        >>> add(2, 3)
        5
    """
    options: dict[str, Any] = {
        "name": name,
        "description": description,
        "timeout_s": timeout_s,
        "progress_message": progress_message,
        "progress_after_s": progress_after_s,
    }
    if fn is not None:
        return Tool.from_function(fn, **options)

    def decorate(function: Callable[..., Any]) -> Tool:
        return Tool.from_function(function, **options)

    return decorate
