"""Runs the model's function calls in the kernel and answers them on the data channel.

A call is started when ``response.function_call_arguments.done`` arrives, or when ``response.done`` lists it
(whichever the kernel gets first). Its output goes back as a ``function_call_output`` item as soon as it is ready;
the follow-up ``response.create`` is sent once the response that made the calls is done and every one of its calls
has an output, so parallel calls give one answer.

The browser's batches can reach the kernel out of order (``docs/wire.md``), so a ``response.done`` may come before
the arguments of its calls: it names all of them (``response.output``), which is why it can start them itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from realtime_widget.background import BackgroundTasks
from realtime_widget.record import SessionRecord

from .define import Tool
from .registry import ToolOutcome

log = logging.getLogger(__name__)

SendEvent = Callable[[dict[str, Any]], None]
SendCommand = Callable[[dict[str, Any]], None]


class ToolSource(Protocol):
    """What the runner needs of its tools: a :class:`~.registry.ToolRegistry`, or one that also holds an agent's."""

    def get(self, name: str) -> Tool | None: ...

    async def run(self, call_id: str, name: str, arguments_json: str) -> ToolOutcome: ...


@dataclass
class _ResponseCalls:
    pending: set[str] = field(default_factory=set)
    done: bool = False
    answered: bool = False


class ToolRunner:
    """Dispatches function calls to the :class:`ToolRegistry` (or another :class:`ToolSource`) and sends their
    outputs."""

    def __init__(self, tools: ToolSource, *, send: SendEvent, notify: SendCommand, record: SessionRecord) -> None:
        self._tools = tools
        self._send = send
        self._notify = notify
        self._record = record
        self._seen_calls: set[str] = set()
        self._responses: dict[str, _ResponseCalls] = {}

    def on_server_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "response.function_call_arguments.done":
            self._start(event)
        elif kind == "response.done":
            response = event.get("response") or {}
            response_id = str(response.get("id", ""))
            for item in _function_calls(response):
                self._start({**item, "response_id": response_id})
            calls = self._responses.get(response_id)
            if calls is not None:
                calls.done = True
                self._maybe_respond(response_id)

    def _start(self, event: dict[str, Any]) -> None:
        """Starts a call named by ``call_id``, ``name``, ``arguments`` and ``response_id`` (the arguments' done event,
        or a function call item of ``response.done`` with its response's id); a call already started is left be."""
        call_id = str(event.get("call_id", ""))
        if not call_id or call_id in self._seen_calls:
            return  # a resent batch, a redrawn view or the other event of the same call must not run it twice
        self._seen_calls.add(call_id)
        response_id = str(event.get("response_id", ""))
        self._responses.setdefault(response_id, _ResponseCalls()).pending.add(call_id)
        name = str(event.get("name", ""))
        arguments = str(event.get("arguments", ""))
        self._notify(
            {"name": "tool_status", "call_id": call_id, "state": "running", "tool": name, "arguments": arguments}
        )
        self._record.add_kernel_timeline("tool_started", {"call_id": call_id, "name": name})
        _spawn(self._run(response_id, call_id, name, arguments))

    async def _run(self, response_id: str, call_id: str, name: str, arguments: str) -> None:
        running = asyncio.ensure_future(self._tools.run(call_id, name, arguments))
        chosen = self._tools.get(name)
        if chosen is not None and chosen.progress_message and chosen.progress_after_s:
            done, _ = await asyncio.wait({running}, timeout=chosen.progress_after_s)
            if not done:
                self._say_progress(call_id, name, chosen.progress_message)
        outcome: ToolOutcome = await running
        self._record.add_tool_call(outcome.to_record())
        self._record.add_kernel_timeline(
            "tool_finished", {"call_id": call_id, "name": name, "error": outcome.error, "ms": outcome.duration_ms}
        )
        self._send(
            {
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": call_id, "output": outcome.output},
            }
        )
        status: dict[str, Any] = {"name": "tool_status", "call_id": call_id, "tool": name, "arguments": arguments}
        if outcome.error is None:
            status.update(state="done", output=outcome.output)
        else:
            status.update(state="error", error=outcome.error)
        self._notify(status)
        calls = self._responses[response_id]
        calls.pending.discard(call_id)
        self._maybe_respond(response_id)

    def _say_progress(self, call_id: str, name: str, message: str) -> None:
        """A slow tool's "working on it": shown in the widget, and said by the assistant in an out-of-band response
        (``conversation: "none"``), which neither enters the conversation nor waits for the one in progress."""
        self._record.add_kernel_timeline("tool_progress", {"call_id": call_id, "name": name, "message": message})
        self._notify({"name": "notice", "level": "info", "text": f"{name} is still running: {message}"})
        instructions = f'Always reply with "{message}" and nothing else.'
        response = {
            "conversation": "none",
            "input": [],
            "instructions": instructions,
            "metadata": {"progress": call_id},
        }
        self._send({"type": "response.create", "response": response})

    def _maybe_respond(self, response_id: str) -> None:
        calls = self._responses.get(response_id)
        if calls is None or calls.answered or not calls.done or calls.pending:
            return
        calls.answered = True
        self._send({"type": "response.create"})


def _function_calls(response: Any) -> list[dict[str, Any]]:
    """The finished function calls a ``response.done`` lists; one cut off (``status: "incomplete"``) has no
    arguments to run with."""
    output = response.get("output") if isinstance(response, dict) else None
    return [
        item
        for item in output or []
        if isinstance(item, dict) and item.get("type") == "function_call" and item.get("status") in (None, "completed")
    ]


def _spawn(coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs ``coroutine`` on the kernel's event loop, or on a thread of its own when there is none."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        threading.Thread(target=asyncio.run, args=(coroutine,), daemon=True).start()
        return
    _background.spawn(coroutine)


#: Tool calls run as tasks of the kernel's event loop, shared by every widget of the kernel.
_background = BackgroundTasks("tool runner", log)
