"""One Agents SDK ``RealtimeAgent`` (and the agents it hands off to) driving a realtime session from the kernel.

Transport-agnostic: the driver reads server events and answers through :class:`AgentHooks`, so the widget and a
headless session can both host it. What it copies from the SDK, with the file each behaviour comes from:

- the session config of an agent (``agents/realtime/session.py``, ``_get_updated_model_settings_from_agent``):
  instructions from ``agent.get_system_prompt(context)`` (a string, or the SDK's dynamic form called with the
  context and the agent, sync or async), tools from ``agent.get_all_tools(context)`` (``is_enabled`` honoured),
  handoffs from ``collect_enabled_handoffs`` (``agents/realtime/handoffs.py``), the agent's ``prompt``;
- the tool definitions (``agents/realtime/openai_realtime.py``, ``_tools_to_session_tools``): a ``FunctionTool`` as
  ``{"type": "function", name, description, parameters: params_json_schema}``, each handoff as its transfer tool
  (``tool_name``, ``tool_description``, ``input_json_schema``); any other kind of tool is refused;
- a function call (``agents/realtime/session.py``, ``_handle_tool_call``): a ``ToolContext.from_agent_context`` for
  the call, run with ``agents.tool.invoke_function_tool`` (which calls ``FunctionTool.on_invoke_tool``, sync or async
  functions alike, with the SDK's timeout and error handling);
- a handoff (same function): ``handoff.on_invoke_handoff(context, arguments)`` gives the next agent, the session
  update goes out *before* the tool output, and the output is ``handoff.get_transfer_message(agent)``;
- output guardrails (:mod:`.guardrails`).

The voice: the Python SDK's ``RealtimeAgent`` has no voice field (the JS SDK's ``RealtimeAgent`` has one); an agent
given a ``voice`` attribute (``agent.voice = "cedar"``) has it applied. The API refuses a voice change once the
assistant has spoken (``cannot_update_voice``; ``agents/realtime/agent.py`` says the same), so a handoff's voice is
sent in a ``session.update`` of its own right after the handoff's: a refusal is shown and leaves the handoff in place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from realtime_widget.background import BackgroundTasks
from realtime_widget.record import SessionRecord
from realtime_widget.tools.output import DEFAULT_MAX_CHARS, format_error, format_result
from realtime_widget.tools.registry import ToolOutcome

from .guardrails import (
    DEBOUNCE_TEXT_LENGTH,
    TRANSCRIPT_DELTAS,
    GuardrailTrip,
    TranscriptGuardrails,
    run_output_guardrails,
)
from .sdk import agents_sdk, check_realtime_agent

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["AgentDriver", "AgentHooks", "AgentSettings"]


@dataclass(frozen=True)
class AgentSettings:
    """What one agent contributes to the session config.

    Attributes:
        agent: The agent's name.
        instructions: Its instructions, resolved with the context ("" when it has none).
        tools: GA function tool definitions: its function tools, then one transfer tool per handoff.
        voice: Its voice, when it has one (see the module docstring), else ``None``.
        prompt: Its ``prompt`` (``{"id", "version", "variables"}``), else ``None``.
    """

    agent: str
    instructions: str
    tools: list[dict[str, Any]]
    voice: str | None = None
    prompt: dict[str, Any] | None = None

    def tool_names(self) -> list[str]:
        return [str(t["name"]) for t in self.tools]


@dataclass
class AgentHooks:
    """How the driver acts on its session; the widget and a headless session each give their own.

    Attributes:
        record: The session record (the driver adds timeline rows: agent, handoff, guardrail_tripped).
        send: Sends a client event to the API.
        switch: Applies a handoff's settings with one ``session.update`` (and the voice after it, if it changed).
        interrupt: Cancels the response in progress and clears the audio already on its way.
        notify: Shows a message to the person (level ``"info"``, ``"warning"`` or ``"error"``, text).
        attributed: Told ``(response_id, agent name)`` as each response is attributed (the widget labels its
            transcript with it); optional.
    """

    record: SessionRecord
    send: Callable[[dict[str, Any]], None]
    switch: Callable[[AgentSettings], None]
    interrupt: Callable[[], None]
    notify: Callable[[str, str], None]
    attributed: Callable[[str, str], None] | None = None


@dataclass
class _Resolved:
    settings: AgentSettings
    functions: dict[str, Any] = field(default_factory=dict)  # name -> FunctionTool
    handoffs: dict[str, Any] = field(default_factory=dict)  # transfer tool name -> Handoff


class AgentDriver:
    """Drives a session with an Agents SDK ``RealtimeAgent``: its config, its tool calls, handoffs, guardrails.

    Args:
        agent: The starting ``agents.realtime.RealtimeAgent``.
        context: Your context object, given to dynamic instructions, tools (``ToolContext.context``), handoffs
            and guardrails as the SDK gives it (``RunContextWrapper(context)``).
        debounce_text_length: Output guardrails run each time the transcript grows by this many characters
            (the SDK's default, 100).

    Raises:
        ImportError: ``openai-agents`` is not installed (the message says what to install).
        TypeError: ``agent`` is not a ``RealtimeAgent``, or it has a tool the Realtime API cannot call.
    """

    def __init__(self, agent: Any, *, context: Any = None, debounce_text_length: int = DEBOUNCE_TEXT_LENGTH) -> None:
        check_realtime_agent(agent)
        sdk = agents_sdk()
        self._context = sdk.RunContextWrapper(context=context)
        self._guardrails = TranscriptGuardrails(debounce_text_length)
        self._agent = agent
        self._resolved = _blocking(self._resolve(agent))
        self._hooks: AgentHooks | None = None
        self._agent_by_response: dict[str, Any] = {}
        self._background = BackgroundTasks("agent guardrails", log)
        self.trips: list[GuardrailTrip] = []

    # ---- what the session is configured with --------------------------------------------------------------------

    @property
    def agent(self) -> Any:
        """The agent in charge now (the starting one, or the one the last handoff went to)."""
        return self._agent

    @property
    def context(self) -> Any:
        """The ``RunContextWrapper`` the SDK's functions get; ``.context`` is the object you passed."""
        return self._context

    @property
    def settings(self) -> AgentSettings:
        """The current agent's instructions, tools, voice and prompt."""
        return self._resolved.settings

    def handles(self, name: str) -> bool:
        """Whether ``name`` is one of the current agent's function tools or transfer tools."""
        return name in self._resolved.functions or name in self._resolved.handoffs

    def reachable_tool_names(self) -> list[str]:
        """The names of the function and transfer tools of this agent and of every agent its handoffs reach (as
        far as they can be seen without invoking them: a ``Handoff`` object names its tool, not its agent)."""
        realtime = __import__("agents.realtime", fromlist=["RealtimeAgent"])
        names: list[str] = []
        seen: set[int] = set()
        waiting = [self._agent]
        while waiting:
            agent = waiting.pop()
            if id(agent) in seen:
                continue
            seen.add(id(agent))
            names.extend(str(getattr(tool, "name", "")) for tool in agent.tools)
            for handoff in agent.handoffs:
                if isinstance(handoff, realtime.RealtimeAgent):
                    names.append(str(agents_sdk().Handoff.default_tool_name(handoff)))
                    waiting.append(handoff)
                else:
                    names.append(str(handoff.tool_name))
        return list(dict.fromkeys(n for n in names if n))

    def bind(self, hooks: AgentHooks) -> None:
        """Connects the driver to its session; it records the starting agent."""
        self._hooks = hooks
        hooks.record.add_kernel_timeline("agent", {"agent": self.settings.agent})

    def agent_of(self, response_id: str | None) -> str | None:
        """The name of the agent that was in charge when the response was created, if the driver saw it."""
        agent = self._agent_by_response.get(response_id or "")
        return None if agent is None else str(agent.name)

    async def _resolve(self, agent: Any) -> _Resolved:
        # agents/realtime/session.py, _get_updated_model_settings_from_agent
        sdk = agents_sdk()
        handoffs_module = __import__("agents.realtime.handoffs", fromlist=["collect_enabled_handoffs"])
        instructions = await agent.get_system_prompt(self._context)
        tools = await agent.get_all_tools(self._context)
        handoffs = await handoffs_module.collect_enabled_handoffs(agent, self._context)
        definitions: list[dict[str, Any]] = []
        functions: dict[str, Any] = {}
        # agents/realtime/openai_realtime.py, _tools_to_session_tools
        for tool in tools:
            if not isinstance(tool, sdk.FunctionTool):
                raise TypeError(f"agent {agent.name!r}: tool {tool.name!r} is unsupported; it must be a function tool")
            functions[tool.name] = tool
            definitions.append(_definition(tool.name, tool.description, tool.params_json_schema))
        by_name: dict[str, Any] = {}
        for handoff in handoffs:
            by_name[handoff.tool_name] = handoff
            definitions.append(_definition(handoff.tool_name, handoff.tool_description, handoff.input_json_schema))
        names = [d["name"] for d in definitions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"agent {agent.name!r} offers two tools named {', '.join(map(repr, duplicates))}")
        voice = getattr(agent, "voice", None)
        prompt = agent.prompt
        return _Resolved(
            AgentSettings(
                agent=str(agent.name),
                instructions=instructions or "",
                tools=definitions,
                voice=voice if isinstance(voice, str) else None,
                prompt=dict(prompt) if prompt else None,
            ),
            functions,
            by_name,
        )

    # ---- the model's calls --------------------------------------------------------------------------------------

    async def run(self, call_id: str, name: str, arguments: str) -> ToolOutcome:
        """Runs the current agent's function tool or handoff that the model called; never raises."""
        started = datetime.now(UTC)
        clock = time.perf_counter()
        arguments_json = arguments or "{}"

        def outcome(output: str, result: Any = None, error: str | None = None, kind: str | None = None) -> ToolOutcome:
            return ToolOutcome(
                call_id,
                name,
                _parsed(arguments_json),
                arguments,
                output=output,
                result=result,
                error=error,
                error_kind=kind,
                started=started,
                duration_ms=(time.perf_counter() - clock) * 1000,
            )

        try:
            if name in self._resolved.handoffs:
                output = await self._hand_off(call_id, self._resolved.handoffs[name], arguments_json)
                return outcome(output, result=self._agent)
            if name not in self._resolved.functions:
                missing = f"Tool {name} not found"  # the SDK's words (agents/realtime/session.py)
                return outcome(format_error(missing), error=missing, kind="unknown_tool")
            result = await self._invoke(call_id, self._resolved.functions[name], arguments_json)
            return outcome(_serialized(result), result=result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            message = f"{name} raised {type(exc).__name__}: {str(exc).strip() or 'no message'}"[:500]
            return outcome(format_error(message), error=message, kind="raised")

    async def _invoke(self, call_id: str, tool: Any, arguments: str) -> Any:
        # agents/realtime/session.py, _handle_tool_call: a ToolContext per call, then invoke_function_tool.
        tool_module = __import__("agents.tool", fromlist=["invoke_function_tool"])
        context_module = __import__("agents.tool_context", fromlist=["ToolContext"])
        tool_context = context_module.ToolContext.from_agent_context(
            self._context, call_id, agent=self._agent, tool_name=tool.name, tool_arguments=arguments
        )
        return await tool_module.invoke_function_tool(function_tool=tool, context=tool_context, arguments=arguments)

    async def _hand_off(self, call_id: str, handoff: Any, arguments: str) -> str:
        # agents/realtime/session.py, _handle_tool_call: the next agent, its settings, the update before the output.
        realtime = __import__("agents.realtime", fromlist=["RealtimeAgent"])
        target = await handoff.on_invoke_handoff(self._context, arguments)
        if not isinstance(target, realtime.RealtimeAgent):
            raise TypeError(f"handoff {handoff.tool_name} returned {type(target).__name__}, not a RealtimeAgent")
        previous = self._resolved.settings.agent
        self._resolved = await self._resolve(target)
        self._agent = target
        hooks = self._hooks
        if hooks is not None:
            hooks.record.add_kernel_timeline(
                "handoff", {"from": previous, "to": self.settings.agent, "call_id": call_id}
            )
            hooks.switch(self.settings)
            hooks.notify("info", f"{previous} handed off to {self.settings.agent}.")
        return str(handoff.get_transfer_message(target))

    # ---- server events -------------------------------------------------------------------------------------------

    def on_server_event(self, event: dict[str, Any]) -> None:
        """Follows the session: which agent each response belongs to, and the transcript for the guardrails."""
        kind = event.get("type")
        # A response belongs to the agent in charge when the driver first sees any event of it. Usually that is
        # `response.created`, but the widget's batches can arrive out of order, and a handoff is started by the
        # calling response's `response.done` or arguments (the driver sees each event before the tool runner acts
        # on it), so the response that handed off is never credited to the agent it handed to.
        response_id = _response_id(event)
        if response_id and response_id not in self._agent_by_response:
            self._agent_by_response[response_id] = self._agent
            if self._hooks is not None:
                detail = {"response_id": response_id, "agent": str(self._agent.name)}
                self._hooks.record.add_kernel_timeline("agent_response", detail)
                if self._hooks.attributed is not None:
                    self._hooks.attributed(response_id, str(self._agent.name))
        if kind in TRANSCRIPT_DELTAS:
            item_id = str(event.get("item_id") or "")
            response_id = str(event.get("response_id") or "")
            text = self._guardrails.add_delta(item_id, str(event.get("delta") or ""))
            if text is not None and response_id not in self._guardrails.interrupted:
                agent = self._agent_by_response.get(response_id, self._agent)
                _spawn(self._background, self._check_output(agent, response_id, item_id, text))
        elif kind in ("response.output_audio_transcript.done", "response.output_text.done"):
            self._guardrails.forget(str(event.get("item_id") or ""))

    async def _check_output(self, agent: Any, response_id: str, item_id: str, text: str) -> None:
        # agents/realtime/session.py, _run_output_guardrails: the agent's guardrails on the transcript so far.
        names, infos = await run_output_guardrails(list(agent.output_guardrails), self._context, agent, text)
        if not names or response_id in self._guardrails.interrupted:
            return
        self._guardrails.interrupted.add(response_id)  # once per response, before anything is awaited
        trip = GuardrailTrip(response_id, item_id, str(agent.name), tuple(names), text, tuple(infos))
        self.trips.append(trip)
        hooks = self._hooks
        if hooks is None:
            return
        hooks.interrupt()
        hooks.record.add_kernel_timeline(
            "guardrail_tripped",
            {
                "response_id": response_id,
                "item_id": item_id,
                "agent": trip.agent,
                "guardrails": list(trip.guardrails),
                "text": text,
                "output_info": [_plain(info) for info in infos],
            },
        )
        hooks.notify("error", f"Output guardrail {trip.names} tripped: the response of {trip.agent} was stopped.")
        # The SDK then tells the model, as user input, and asks for a response (RealtimeModelSendUserInput).
        words = {"type": "input_text", "text": f"guardrail triggered: {trip.names}"}
        message = {"type": "message", "role": "user", "content": [words]}
        hooks.send({"type": "conversation.item.create", "item": message})
        hooks.send({"type": "response.create"})

    async def settled(self) -> None:
        """Waits until the guardrail checks started so far have finished (tests, and a session that ends)."""
        await self._background.drain()

    async def aclose(self) -> None:
        """Stops guardrail checks still running."""
        await self._background.cancel_all()


def _response_id(event: dict[str, Any]) -> str:
    """The id of the response a server event belongs to ("" for events of no response)."""
    if str(event.get("type") or "").startswith("response."):
        response = event.get("response")
        if isinstance(response, dict):
            return str(response.get("id") or "")
        return str(event.get("response_id") or "")
    return ""


def _definition(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "name": name, "description": description, "parameters": parameters}


def _parsed(arguments: str) -> dict[str, Any] | None:
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _serialized(result: Any) -> str:
    """A tool's result as the model reads it: a string as it is (as the SDK sends it), anything else as our tools'
    results are (JSON; a DataFrame as CSV headed by its shape; cut to a budget with a note)."""
    return result if isinstance(result, str) else format_result(result, DEFAULT_MAX_CHARS)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value if isinstance(value, str | int | float | bool | dict | list | type(None)) else repr(value)


def _blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs ``coroutine`` to the end from sync code, also inside a notebook whose event loop is running (on a thread
    of its own with its own loop): dynamic instructions and ``is_enabled`` may be async."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, name="agent settings", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def _spawn(background: BackgroundTasks, coroutine: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        threading.Thread(target=asyncio.run, args=(coroutine,), daemon=True).start()
        return
    background.spawn(coroutine)
