"""Agents SDK agents in a session (realtime_widget.agents): config, tool calls, handoffs, guardrails — with the real
SDK objects, and the session replaced by hooks that record what the driver does."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import pytest
from agents import GuardrailFunctionOutput, RunContextWrapper, function_tool, output_guardrail
from agents.realtime import RealtimeAgent, realtime_handoff

from realtime_widget import RealtimeWidget, tool
from realtime_widget.agents import DEBOUNCE_TEXT_LENGTH, AgentDriver, AgentHooks, AgentSettings
from realtime_widget.record import SessionRecord

UNUSED_BASE_URL = "http://127.0.0.1:9/v1"  # never contacted


@function_tool
def invoice_total(ctx: RunContextWrapper[dict[str, Any]], customer_id: int) -> str:
    """The total of a customer's invoices.

    Args:
        customer_id: The customer's number.
    """
    return f"customer {customer_id} owes {ctx.context['totals'][customer_id]} euros"


@function_tool
async def plan_of(customer_id: int) -> dict[str, Any]:
    """The customer's plan.

    Args:
        customer_id: The customer's number.
    """
    await asyncio.sleep(0)
    return {"customer_id": customer_id, "plan": "pro"}


def billing_instructions(ctx: RunContextWrapper[dict[str, Any]], agent: RealtimeAgent[Any]) -> str:
    return f'You are {agent.name} for {ctx.context["company"]}. Always end with "Billing desk."'


def agents() -> tuple[RealtimeAgent[Any], RealtimeAgent[Any]]:
    billing: RealtimeAgent[Any] = RealtimeAgent(
        name="Billing",
        instructions=billing_instructions,
        handoff_description="Invoices, payments and refunds.",
        tools=[invoice_total, plan_of],
    )
    triage: RealtimeAgent[Any] = RealtimeAgent(
        name="Triage", instructions="Route the caller.", handoffs=[billing], tools=[plan_of]
    )
    return triage, billing


CONTEXT = {"company": "Acme", "totals": {42: 120}}


class Session:
    """Stands in for the widget: what the driver sent, switched to, interrupted and said."""

    def __init__(self) -> None:
        self.record = SessionRecord()
        self.sent: list[dict[str, Any]] = []
        self.switches: list[AgentSettings] = []
        self.interrupts = 0
        self.notices: list[tuple[str, str]] = []

    def hooks(self) -> AgentHooks:
        def interrupt() -> None:
            self.interrupts += 1

        return AgentHooks(
            record=self.record,
            send=self.sent.append,
            switch=self.switches.append,
            interrupt=interrupt,
            notify=lambda level, text: self.notices.append((level, text)),
        )


def test_an_agent_gives_instructions_resolved_with_the_context_and_tools_as_the_sdk_builds_them() -> None:
    triage, billing = agents()
    driver = AgentDriver(billing, context=CONTEXT)
    assert driver.settings.instructions == 'You are Billing for Acme. Always end with "Billing desk."'
    assert driver.settings.tools[0] == {
        "type": "function",
        "name": "invoice_total",
        "description": invoice_total.description,
        "parameters": invoice_total.params_json_schema,  # the schema the SDK built, untouched
    }
    first = AgentDriver(triage, context=CONTEXT)
    transfer = realtime_handoff(billing)
    assert first.settings.tool_names() == ["plan_of", "transfer_to_billing"]
    assert first.settings.tools[1]["description"] == transfer.tool_description
    assert first.settings.tools[1]["parameters"] == transfer.input_json_schema


async def test_async_dynamic_instructions_resolve_inside_a_running_event_loop() -> None:
    async def instructions(ctx: RunContextWrapper[dict[str, Any]], agent: RealtimeAgent[Any]) -> str:
        await asyncio.sleep(0)
        return f"Speak for {ctx.context['company']}."

    driver = AgentDriver(RealtimeAgent(name="A", instructions=instructions), context=CONTEXT)
    assert driver.settings.instructions == "Speak for Acme."


async def test_function_tools_run_as_the_sdk_runs_them_sync_and_async_with_the_tool_context() -> None:
    _, billing = agents()
    driver = AgentDriver(billing, context=CONTEXT)
    sync = await driver.run("call_1", "invoice_total", '{"customer_id": 42}')
    assert (sync.ok, sync.output) == (True, "customer 42 owes 120 euros")
    asynchronous = await driver.run("call_2", "plan_of", '{"customer_id": 7}')
    assert json.loads(asynchronous.output) == {"customer_id": 7, "plan": "pro"}
    # The SDK's own answer to bad arguments (its default failure_error_function) goes back to the model.
    bad = await driver.run("call_3", "invoice_total", '{"customer_id": "x"}')
    assert "error" in bad.output.lower()
    unknown = await driver.run("call_4", "nope", "{}")
    assert unknown.error_kind == "unknown_tool"


async def test_a_handoff_switches_the_agent_before_its_output_and_answers_as_the_sdk() -> None:
    triage, billing = agents()
    session = Session()
    driver = AgentDriver(triage, context=CONTEXT)
    driver.bind(session.hooks())
    outcome = await driver.run("call_1", "transfer_to_billing", "{}")
    assert outcome.output == realtime_handoff(billing).get_transfer_message(billing)
    assert driver.agent is billing
    [switched] = session.switches
    assert switched.agent == "Billing"
    assert switched.tool_names() == ["invoice_total", "plan_of"]
    assert "Billing desk" in switched.instructions
    assert ("info", "Triage handed off to Billing.") in session.notices
    whats = list(session.record.timeline.what)
    assert whats == ["agent", "handoff"]


def test_responses_are_attributed_to_the_agent_in_charge_when_they_were_created() -> None:
    triage, _ = agents()
    session = Session()
    driver = AgentDriver(triage, context=CONTEXT)
    driver.bind(session.hooks())
    driver.on_server_event({"type": "response.created", "response": {"id": "resp_1"}})
    asyncio.run(driver.run("call_1", "transfer_to_billing", "{}"))
    driver.on_server_event({"type": "response.created", "response": {"id": "resp_2"}})
    assert (driver.agent_of("resp_1"), driver.agent_of("resp_2"), driver.agent_of("other")) == (
        "Triage",
        "Billing",
        None,
    )


def test_a_handoff_seen_before_its_response_was_created_still_credits_the_agent_that_handed_off() -> None:
    # The widget's batches can arrive out of order: the calling response's `response.done` first.
    triage, _ = agents()
    session = Session()
    driver = AgentDriver(triage, context=CONTEXT)
    driver.bind(session.hooks())
    call = {"type": "function_call", "call_id": "call_1", "name": "transfer_to_billing", "arguments": "{}"}
    driver.on_server_event({"type": "response.done", "response": {"id": "resp_1", "output": [call]}})
    asyncio.run(driver.run("call_1", "transfer_to_billing", "{}"))
    driver.on_server_event({"type": "response.created", "response": {"id": "resp_1"}})
    driver.on_server_event({"type": "response.output_audio_transcript.delta", "response_id": "resp_2", "delta": "Hi"})
    driver.on_server_event({"type": "response.created", "response": {"id": "resp_2"}})
    assert (driver.agent_of("resp_1"), driver.agent_of("resp_2")) == ("Triage", "Billing")
    attributed = session.record.timeline.query("what == 'agent_response'").detail.map(json.loads).to_list()
    assert attributed == [{"response_id": "resp_1", "agent": "Triage"}, {"response_id": "resp_2", "agent": "Billing"}]


async def test_output_guardrails_run_at_each_100_characters_and_a_trip_interrupts_once() -> None:
    checked: list[str] = []

    @output_guardrail
    def no_refunds(ctx: RunContextWrapper[Any], agent: Any, text: str) -> GuardrailFunctionOutput:
        checked.append(text)
        return GuardrailFunctionOutput(output_info={"found": "refund"}, tripwire_triggered="refund" in text)

    session = Session()
    driver = AgentDriver(RealtimeAgent(name="Support", output_guardrails=[no_refunds]))
    driver.bind(session.hooks())
    driver.on_server_event({"type": "response.created", "response": {"id": "resp_1"}})

    def delta(text: str) -> None:
        event = {"type": "response.output_audio_transcript.delta", "response_id": "resp_1", "item_id": "i1"}
        driver.on_server_event({**event, "delta": text})

    delta("a" * (DEBOUNCE_TEXT_LENGTH - 1))
    await driver.settled()
    assert checked == []  # not yet: the SDK's debounce
    delta("b")
    delta(" you get a refund " + "c" * 300)  # one delta past several thresholds: one run
    await driver.settled()
    assert len(checked) == 2
    assert session.interrupts == 1
    delta("d" * 200)  # the response was already interrupted: no second trip
    await driver.settled()
    assert session.interrupts == 1
    [trip] = driver.trips
    assert trip.guardrails == ("no_refunds",)
    assert trip.agent == "Support"
    assert session.sent[-2]["item"]["content"][0]["text"] == "guardrail triggered: no_refunds"
    assert session.sent[-1] == {"type": "response.create"}
    [row] = session.record.timeline[session.record.timeline.what == "guardrail_tripped"].itertuples()
    assert json.loads(row.detail)["output_info"] == [{"found": "refund"}]
    assert session.notices[-1][0] == "error"


def test_tools_that_are_not_function_tools_are_refused_and_names_must_not_clash() -> None:
    from agents import WebSearchTool

    with pytest.raises(TypeError, match="must be a function tool"):
        AgentDriver(RealtimeAgent(name="A", tools=[WebSearchTool()]))

    @tool
    def plan_of(customer_id: int) -> str:
        """Ours."""
        return ""

    triage, _ = agents()
    with pytest.raises(ValueError, match="plan_of"):
        RealtimeWidget(tools=[plan_of], agent=triage, base_url=UNUSED_BASE_URL, api_key="sk-" + "t" * 24)
    w = RealtimeWidget(agent=triage, base_url=UNUSED_BASE_URL, api_key="sk-" + "t" * 24)
    try:
        with pytest.raises(ValueError, match="plan_of"):
            w.add_tool(plan_of)
        assert "plan_of" not in w.tools
    finally:
        w.close()


def test_a_context_without_an_agent_is_refused() -> None:
    with pytest.raises(TypeError, match="pass agent= too"):
        RealtimeWidget(context={}, base_url=UNUSED_BASE_URL, api_key="sk-" + "t" * 24)


def test_without_the_sdk_agent_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    triage, _ = agents()
    monkeypatch.setitem(sys.modules, "agents", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'realtime-widget\[agents\]'"):
        RealtimeWidget(agent=triage, base_url=UNUSED_BASE_URL, api_key="sk-" + "t" * 24)


def test_the_widget_mixes_our_tools_and_the_agents_and_records_who_spoke() -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    triage, _ = agents()
    triage.voice = "cedar"  # type: ignore[attr-defined]  # the Python SDK's RealtimeAgent has no voice field
    w = RealtimeWidget(tools=[add], agent=triage, context=CONTEXT, base_url=UNUSED_BASE_URL, api_key="sk-" + "t" * 24)
    try:
        session = w.config.to_session()
        assert session["instructions"] == "Route the caller."
        assert session["audio"]["output"]["voice"] == "cedar"
        assert [t["name"] for t in session["tools"]] == ["add", "plan_of", "transfer_to_billing"]
        assert w.agent is triage
    finally:
        w.close()


def test_the_agent_columns_survive_save_and_load(tmp_path: Any) -> None:
    record = SessionRecord()
    now = time.time() * 1000
    done = {
        "type": "response.output_audio_transcript.done",
        "event_id": "e1",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "transcript": "Billing desk.",
    }
    record.add_items([{"k": "event", "t": now, "dir": "server", "event": done}])
    record.add_kernel_timeline("agent_response", {"response_id": "resp_1", "agent": "Billing"})
    assert list(record.transcript.agent) == ["Billing"]
    loaded = SessionRecord.load(record.save(tmp_path / "saved"))
    assert list(loaded.transcript.agent) == ["Billing"]


def test_an_agents_prompt_goes_into_the_session() -> None:
    agent: RealtimeAgent[Any] = RealtimeAgent(name="A", prompt={"id": "pmpt_123", "variables": {"city": "Oslo"}})
    w = RealtimeWidget(agent=agent, base_url=UNUSED_BASE_URL, api_key="sk-" + "t" * 24)
    try:
        assert w.config.to_session()["prompt"] == {"id": "pmpt_123", "variables": {"city": "Oslo"}}
    finally:
        w.close()
