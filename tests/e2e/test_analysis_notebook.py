"""notebooks/analyse_a_session.ipynb as a person uses it: record a live scripted session, then analyse it."""

from __future__ import annotations

import pytest

from .harness import JupyterLab
from .lab_page import LabPage, click_connect, error_outputs, open_widget_notebook, run_from_cell

pytestmark = pytest.mark.e2e

RECORD_CELL = 4  # `record = widget.record if ... else sample_session(...)`


def test_live_session_is_analysed(lab_page: LabPage, lab: JupyterLab) -> None:
    kernel = open_widget_notebook(lab_page, "analyse_a_session.ipynb")
    try:
        assert error_outputs(lab_page) == []  # headless first run: the synthetic session
        click_connect(lab_page, kernel)
        # Scripted by the notebook: a greeting, a tool call and its spoken result, one turn per spoken phrase.
        kernel.wait_until(
            "len(widget.record.tool_calls) >= 1 and (widget.record.transcript.role == 'assistant').sum() >= 2",
            timeout=60,
        )
        kernel.run("widget.disconnect()")
        kernel.wait_until("widget.status == 'closed'", timeout=15)

        run_from_cell(lab_page, RECORD_CELL)
        lab_page.wait_kernel_idle()
        kernel.wait_until("'usage' in globals() and record is widget.record", timeout=60)
        assert error_outputs(lab_page) == []
        assert kernel.value("len(turns)") >= 2
        assert kernel.value("list(record.tool_calls.name)") == ["order_status"]
        assert kernel.value("bool(turns.latency_ms.notna().any())")
    finally:
        kernel.close()
