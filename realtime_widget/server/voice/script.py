"""Scripted mode: tests queue exactly what the assistant does next, and the voice model follows the queue.

A step is ``{"say": text}``, ``{"call_tool": {"name": ..., "arguments": {...}}}`` or ``{"fail": kind}`` (the
response fails as the real API's do: ``insufficient_quota``, ``rate_limit_exceeded`` or ``server_error``; or
``{"fail": "content_filter", "say": text}``, cut short by the safety filter), or ``{"mcp_call": {"server_label",
"name", "arguments", "output", "needs_approval"}, "say": text}`` (a call of an MCP tool, then what is said).
Steps can be queued for one call (by call id) or for whichever call responds first. ``ScriptedResponder`` pops
one step for each response to a user turn and asks its fallback responder when the queue is empty. After a
scripted tool call, the response that follows the function's output speaks the result through the fallback,
unless a ``say`` step is queued next.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from realtime_widget.server.voice.interfaces import (
    FAILURES,
    FunctionCall,
    McpCall,
    Reply,
    Responder,
    ResponseContext,
)


def step_to_reply(step: Mapping[str, Any]) -> Reply:
    """A script step as a ``Reply``; raises ``ValueError`` for anything else."""
    if "fail" in step:
        failure = next((kind for kind in FAILURES if kind == step["fail"]), None)
        if failure is None:
            raise ValueError(f"'fail' is one of {', '.join(FAILURES)}, not {step['fail']!r}")
        text = step.get("say")
        return Reply(text=text if isinstance(text, str) else None, failure=failure)
    mcp = step.get("mcp_call")
    if isinstance(mcp, Mapping):
        say = step.get("say")
        return Reply(text=say if isinstance(say, str) else None, mcp_call=_mcp_call(mcp))
    if isinstance(step.get("say"), str):
        return Reply(text=step["say"])
    call = step.get("call_tool")
    if isinstance(call, Mapping) and isinstance(call.get("name"), str):
        arguments = call.get("arguments", {})
        if isinstance(arguments, Mapping):
            return Reply(function_call=FunctionCall(call["name"], dict(arguments)))
    raise ValueError(
        f"A script step is {{'say': text}}, {{'call_tool': {{'name', 'arguments'}}}} or {{'fail': kind}}, not {step!r}"
    )


def _mcp_call(step: Mapping[str, Any]) -> McpCall:
    label, name, arguments = step.get("server_label"), step.get("name"), step.get("arguments", {})
    if not isinstance(label, str) or not isinstance(name, str) or not isinstance(arguments, Mapping):
        raise ValueError(f"an 'mcp_call' step needs 'server_label', 'name' and 'arguments'; got {dict(step)!r}")
    output = step.get("output", "")
    return McpCall(label, name, dict(arguments), str(output), bool(step.get("needs_approval", False)))


class Script:
    """A thread-safe queue of scripted replies: one shared queue plus one per call id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shared: deque[Reply] = deque()
        self._by_call: dict[str, deque[Reply]] = {}

    def push(self, *steps: Mapping[str, Any], call_id: str | None = None) -> int:
        """Queue steps (validated first: a bad step queues nothing); returns how many are now queued for them."""
        replies = [step_to_reply(step) for step in steps]
        with self._lock:
            queue = self._shared if call_id is None else self._by_call.setdefault(call_id, deque())
            queue.extend(replies)
            return len(queue)

    def pop(self, call_id: str | None = None, *, only_say: bool = False) -> Reply | None:
        """The next step for ``call_id`` (its own queue first, then the shared one), or ``None``. With
        ``only_say``, a step is taken only if it is not a tool call (a ``say`` or a ``fail``; checked and taken
        atomically)."""
        with self._lock:
            queue = self._queue_for(call_id)
            if not queue or (only_say and queue[0].function_call is not None):
                return None
            return queue.popleft()

    def clear(self, call_id: str | None = None) -> None:
        """Drop the steps queued for ``call_id`` (or the shared ones)."""
        with self._lock:
            (self._shared if call_id is None else self._by_call.pop(call_id, deque())).clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._shared) + sum(len(q) for q in self._by_call.values())

    def _queue_for(self, call_id: str | None) -> deque[Reply]:
        own = self._by_call.get(call_id) if call_id is not None else None
        return own if own else self._shared


class ScriptedResponder:
    """A ``Responder`` that follows a ``Script`` and falls back to another responder when it runs dry.

    ``call_id`` picks which per-call queue to read (plus the shared one); leave it ``None`` for an instance
    shared by every call.
    """

    def __init__(self, script: Script, fallback: Responder, *, call_id: str | None = None) -> None:
        self.script = script
        self.fallback = fallback
        self.call_id = call_id

    def respond(self, context: ResponseContext) -> Reply:
        """The next scripted reply for a user turn, or a queued ``say`` after a function's output; otherwise the
        fallback's reply."""
        if context.pending_function_outputs:
            return self.script.pop(self.call_id, only_say=True) or self.fallback.respond(context)
        return self.script.pop(self.call_id) or self.fallback.respond(context)
