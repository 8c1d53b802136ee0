"""An Agents SDK agent in the widget, in JupyterLab, against the local server: its function tool called and
answered, a handoff that changes instructions and tools (seen in ``session.updated``) with the next answer from
the new agent, an output guardrail that trips, and a voice change on handoff refused after the first audio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab
from .lab_page import WIDGET, LabPage, click_connect, error_outputs, opened_widget
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

AGENTS = '''
import pandas as pd
from agents import GuardrailFunctionOutput, RunContextWrapper, function_tool, output_guardrail
from agents.realtime import RealtimeAgent
from realtime_widget import RealtimeWidget

invoices = pd.DataFrame({"customer_id": [42, 42, 7], "amount": [100.0, 20.5, 9.0]})

@function_tool
def invoice_total(ctx: RunContextWrapper[dict], customer_id: int) -> dict:
    """The total of a customer's invoices.

    Args:
        customer_id: The customer's number.
    """
    frame = ctx.context["invoices"]
    return {"customer": customer_id, "total": float(frame[frame.customer_id == customer_id].amount.sum())}

def billing_instructions(ctx, agent):
    return f'You are the billing desk of {ctx.context["company"]}. Always end with "Billing desk."'

billing = RealtimeAgent(name="Billing", instructions=billing_instructions, tools=[invoice_total],
                        handoff_description="Invoices and payments.")
triage = RealtimeAgent(name="Triage", instructions="Route the caller to the right desk.", handoffs=[billing])
'''


def test_an_agent_hands_off_and_the_new_agent_calls_its_function_tool(
    lab_page: LabPage, lab: JupyterLab, artifacts: Path
) -> None:
    name = write_notebook(
        lab.root_dir,
        "agents_handoff.ipynb",
        AGENTS,
        "widget = RealtimeWidget(agent=triage, context={'company': 'Acme', 'invoices': invoices}, "
        "turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        # The kernel and the local server run this checkout.
        assert kernel.value("__import__('realtime_widget').__file__").startswith(str(Path(__file__).parents[2]))
        click_connect(lab_page, kernel)
        kernel.run("widget.send_text('I have a billing question: the invoice total of customer 42')")

        kernel.wait_until("widget.record.transcript.text.str.contains('Billing desk').any()", timeout=60)
        calls = kernel.value("widget.record.tool_calls[['name', 'arguments', 'output']].to_dict('records')")
        assert [c["name"] for c in calls] == ["transfer_to_billing", "invoice_total"]
        assert json.loads(calls[0]["output"]) == {"assistant": "Billing"}  # the SDK's transfer message
        assert json.loads(calls[1]["arguments"]) == {"customer_id": 42}
        assert json.loads(calls[1]["output"]) == {"customer": 42, "total": 120.5}

        # One session.update switched instructions and tools; the server confirmed both.
        payloads = kernel.value("list(widget.record.events.query('type == \"session.updated\"').payload)")
        sessions = [json.loads(p)["session"] for p in payloads]
        [updated] = [s for s in sessions if "Billing desk" in (s.get("instructions") or "")]
        assert updated["instructions"].startswith("You are the billing desk of Acme.")
        assert [t["name"] for t in updated["tools"]] == ["invoice_total"]

        # The answer after the handoff comes from Billing, and says the tool's result.
        rows = kernel.value(
            "widget.record.transcript.query('role == \"assistant\"')[['text', 'agent']].to_dict('records')"
        )
        assert rows[-1]["agent"] == "Billing"
        assert "120.5" in rows[-1]["text"]
        assert kernel.value("widget.record.turns.agent.iloc[-1]") == "Billing"
        assert kernel.value("widget.transcript[-1]['agent']") == "Billing"
        whats = kernel.value("list(widget.record.timeline.query('source == \"kernel\"').what)")
        assert whats.index("agent") < whats.index("handoff")
        assert kernel.value("widget.agent.name") == "Billing"
        notice = lab_page.page.locator(f"{WIDGET} [data-testid=notice]").get_by_text("Triage handed off to Billing.")
        notice.first.wait_for(timeout=30_000)
        # The widget's transcript names the agent that answered.
        speaker = lab_page.page.locator(f"{WIDGET} [data-testid=transcript] .rtw-turn-who")
        speaker.get_by_text("Billing", exact=True).first.wait_for(timeout=30_000)
        widget = lab_page.page.locator(WIDGET).first
        widget.screenshot(path=str(artifacts / "agents_handoff-light.png"))
        lab_page.set_theme("JupyterLab Dark")
        lab_page.page.locator("#jupyterlab-splash").wait_for(state="detached")  # the theme change's splash is gone
        widget.screenshot(path=str(artifacts / "agents_handoff-dark.png"), animations="disabled")
        lab_page.set_theme("JupyterLab Light")
        assert kernel.value("len(widget.record.validate())") == 0


def test_an_output_guardrail_trips_cancels_and_clears_the_audio_and_says_why(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    name = write_notebook(
        lab.root_dir,
        "agents_guardrail.ipynb",
        AGENTS,
        "@output_guardrail\n"
        "def policy_check(ctx, agent, text):\n"
        "    return GuardrailFunctionOutput(output_info={'said': 'refund'}, tripwire_triggered='refund' in text)\n"
        "support = RealtimeAgent(name='Support', instructions='Help.', output_guardrails=[policy_check])\n"
        "widget = RealtimeWidget(agent=support, turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        # Early in the reply: the SDK checks the transcript at each 100 characters, not what comes after the last.
        long_answer = "I will refund the whole amount to your card today, no questions asked. " + "Of course. " * 12
        local_server.script([{"say": long_answer}], call_id=kernel.value("widget.call_id"))
        kernel.run("widget.send_text('Can I have my money back?')")

        kernel.wait_until("(widget.record.timeline.what == 'guardrail_tripped').any()", timeout=60)
        detail = json.loads(
            kernel.value("widget.record.timeline.query('what == \"guardrail_tripped\"').detail.iloc[0]")
        )
        assert detail["guardrails"] == ["policy_check"]
        assert detail["agent"] == "Support"
        assert detail["output_info"] == [{"said": "refund"}]
        assert len(detail["text"]) >= 100  # checked at the SDK's debounce length, not before
        # The audio on its way was cleared, and the model was told, as the SDK tells it.
        kernel.wait_until("(widget.record.events.type == 'output_audio_buffer.cleared').any()", timeout=30)
        kernel.wait_until(
            "widget.record.transcript.text.str.contains('guardrail triggered: policy_check').any()", timeout=30
        )
        notice = lab_page.page.locator(f"{WIDGET} [data-testid=notice][data-level=error]")
        notice.get_by_text("Output guardrail policy_check tripped").first.wait_for(timeout=30_000)
        lab_page.page.locator(WIDGET).first.screenshot(path=str(artifacts / "agents_guardrail.png"))
        assert kernel.value("widget.status") == "connected"
        assert kernel.value("len(widget.record.validate())") == 0


def test_a_voice_change_on_handoff_after_the_first_audio_is_refused_and_shown(
    lab_page: LabPage, lab: JupyterLab
) -> None:
    name = write_notebook(
        lab.root_dir,
        "agents_voice.ipynb",
        AGENTS,
        "billing.voice = 'cedar'  # the Python SDK's RealtimeAgent has no voice field; the widget reads one\n"
        "widget = RealtimeWidget(agent=triage, context={'company': 'Acme', 'invoices': invoices}, voice='marin', "
        "turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        kernel.run("widget.send_text('Hello!')")
        kernel.wait_until("(widget.record.events.type == 'output_audio_buffer.started').any()", timeout=30)
        kernel.run("widget.send_text('Put me through to billing please')")

        # The API's error, shown; the voice stays, and the handoff itself went through.
        notice = lab_page.page.locator(f"{WIDGET} [data-testid=notice][data-code=cannot_update_voice]")
        notice.wait_for(timeout=60_000)
        kernel.wait_until("(widget.record.problems.code == 'cannot_update_voice').any()", timeout=30)
        assert kernel.value("widget.config.voice") == "marin"
        kernel.wait_until("widget.record.transcript.text.str.contains('Billing desk').any()", timeout=60)
        assert kernel.value("widget.record.transcript.agent.dropna().iloc[-1]") == "Billing"
        assert kernel.value("widget.status") == "connected"


def test_the_agents_notebook_runs_offline_from_top_to_bottom(lab_page: LabPage, lab: JupyterLab) -> None:
    lab_page.open_notebook("agents_sdk.ipynb")
    lab_page.run_all_cells()
    lab_page.wait_kernel_idle(timeout_ms=120_000)
    kernel = lab.kernel_client("agents_sdk.ipynb")
    try:
        assert error_outputs(lab_page) == []
        assert kernel.value("widget.agent.name") == "Billing"
        assert kernel.value("list(widget.record.tool_calls.name)") == ["transfer_to_billing", "invoice_total"]
        assert kernel.value("widget.record.turns.agent.iloc[-1]") == "Billing"
        assert kernel.value("widget.record.transcript.text.iloc[-1]").endswith("Billing desk.")
        # Evaluated in two versions: only the one that hands off is answered by Billing.
        passed = kernel.value("results.table.set_index('variant').passed.to_dict()")
        assert passed == {"v1: one agent": False, "v2: triage and billing": True}
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()
