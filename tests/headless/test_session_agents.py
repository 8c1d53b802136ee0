"""``Session(agent=...)``: an Agents SDK agent in a headless session against the local server (WebSocket), as in the
widget: a handoff whose session.update the server confirms, the new agent's function tool, the guardrail."""

from __future__ import annotations

import json
from typing import Any

from agents import GuardrailFunctionOutput, RunContextWrapper, function_tool, output_guardrail
from agents.realtime import RealtimeAgent

from realtime_widget import Session


@function_tool
def invoice_total(ctx: RunContextWrapper[dict[str, Any]], customer_id: int) -> dict[str, Any]:
    """The total of a customer's invoices.

    Args:
        customer_id: The customer's number.
    """
    return {"customer": customer_id, "total": ctx.context["totals"][customer_id]}


def _agents() -> RealtimeAgent[Any]:
    billing: RealtimeAgent[Any] = RealtimeAgent(
        name="Billing",
        instructions=lambda ctx, agent: f'Billing for {ctx.context["company"]}. Always end with "Billing desk."',
        tools=[invoice_total],
    )
    return RealtimeAgent(name="Triage", instructions="Route the caller.", handoffs=[billing])


async def test_a_headless_session_hands_off_and_the_new_agent_answers_with_its_tool() -> None:
    context = {"company": "Acme", "totals": {42: 120.5}}
    async with Session(agent=_agents(), context=context, turn_detection=None) as session:
        assert session.agent.name == "Triage"
        await session.send_text("I have a billing question: the invoice total of customer 42")
        reply = await session.wait_for_reply(timeout=60)
        assert session.agent.name == "Billing"
    assert reply.text.endswith("Billing desk.")
    assert "120.5" in reply.text
    record = session.record
    assert list(record.tool_calls.name) == ["transfer_to_billing", "invoice_total"]
    updated = [json.loads(p)["session"] for p in record.events.query("type == 'session.updated'").payload]
    billing = [s for s in updated if "Billing desk" in (s.get("instructions") or "")]
    assert [t["name"] for t in billing[0]["tools"]] == ["invoice_total"]
    assert record.turns.agent.iloc[-1] == "Billing"
    assert record.transcript.query("role == 'assistant'").agent.iloc[-1] == "Billing"
    assert len(record.validate()) == 0


async def test_a_headless_guardrail_trip_cancels_and_is_recorded() -> None:
    @output_guardrail
    def policy_check(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered="refund" in text)

    support: RealtimeAgent[Any] = RealtimeAgent(name="Support", instructions="Help.", output_guardrails=[policy_check])
    async with Session(agent=support, turn_detection=None) as session:
        # Early in the reply: the SDK checks the transcript at each 100 characters, not what comes after the last.
        session.local_server.script([{"say": "I will refund the whole amount today. " + "Of course. " * 12}])
        await session.send_text("Can I have my money back?")
        # The SDK tells the model that the guardrail tripped, as a user message.
        told = await session.wait_for(
            lambda e: e.get("type") == "conversation.item.added" and "guardrail triggered" in json.dumps(e),
            timeout=60,
        )
    assert "policy_check" in json.dumps(told)
    trips = session.record.timeline.query("what == 'guardrail_tripped'")
    detail = json.loads(trips.detail.iloc[0])
    assert detail["guardrails"] == ["policy_check"]
    assert len(detail["text"]) >= 100
    cancelled = session.record.events.query("direction == 'client' and type == 'response.cancel'")
    stopped = session.record.events.query("type == 'conversation.item.truncate' or type == 'response.done'")
    assert len(cancelled) + len(stopped) > 0
