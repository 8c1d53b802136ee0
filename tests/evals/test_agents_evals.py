"""Evals over Agents SDK agents: two versions of an agent compared, handoffs included, with an expectation naming
the agent that must answer (headless sessions against the local server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents import RunContextWrapper, function_tool
from agents.realtime import RealtimeAgent

from realtime_widget.evals import Case, Typed, expect, run
from realtime_widget.server.launcher import LocalServer


@function_tool
def invoice_total(ctx: RunContextWrapper[dict[str, Any]], customer_id: int) -> dict[str, Any]:
    """The total of a customer's invoices.

    Args:
        customer_id: The customer's number.
    """
    return {"customer": customer_id, "total": ctx.context["totals"][customer_id]}


def _triage(*, hands_off: bool) -> RealtimeAgent[Any]:
    """v1 answers billing questions itself; v2 hands them to a billing agent."""
    if not hands_off:
        return RealtimeAgent(name="Triage", instructions="Answer the caller.", tools=[invoice_total])
    billing: RealtimeAgent[Any] = RealtimeAgent(
        name="Billing", instructions='Always end with "Billing desk."', tools=[invoice_total]
    )
    return RealtimeAgent(name="Triage", instructions="Route the caller.", handoffs=[billing])


async def test_two_versions_of_an_agent_are_compared_by_who_answered(offline: LocalServer, tmp_path: Path) -> None:
    case = Case(
        "invoice",
        [
            Typed("I have a billing question: the invoice total of customer 42"),
            expect.answered_by("Billing"),
            expect.tool_called("invoice_total", {"customer_id": 42}),
            expect.said("120.5"),
        ],
    )
    variants = {"v1": {"agent": _triage(hands_off=False)}, "v2": {"agent": _triage(hands_off=True)}}
    context = {"totals": {42: 120.5}}
    results = await run([case], variants, context=context, turn_detection=None, out=tmp_path, progress=False)
    passed = results.table.set_index("variant")["passed"].to_dict()
    assert passed == {"v1": False, "v2": True}
    [failures] = results.table.set_index("variant").loc[["v1"], "failures"]
    assert any("answered by Triage, not Billing" in str(f) for f in failures)
