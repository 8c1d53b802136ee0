"""Whole conversations in JupyterLab: speech from the fake microphone, scripted answers from the local server,
Python tools run by the kernel, and the session record checked from the kernel afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab
from .lab_page import WIDGET, LabPage, click_connect, open_widget_notebook
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e


def test_spoken_two_turn_conversation_is_recorded(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    name = write_notebook(
        lab.root_dir,
        "conversation.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(instructions='Be brief.')\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        click_connect(lab_page, kernel)
        call_id = kernel.value("widget.call_id")
        answers = ["Sales look good this month.", "The north region leads."]
        local_server.script([{"say": text} for text in answers], call_id=call_id)

        # The microphone speaks a phrase every ten seconds; each is a turn the local server answers.
        kernel.wait_until("(widget.record.transcript.role == 'assistant').sum() >= 2", timeout=60)
        said = kernel.value("list(widget.record.transcript.query('role == \"assistant\"').text)")
        assert said[:2] == answers
        heard = kernel.value("list(widget.record.transcript.query('role == \"user\"').text)")
        assert heard, "the user's speech was not transcribed"
        lab_page.page.wait_for_selector(f"{WIDGET} [data-testid=transcript] >> text={answers[1]}")
        lab_page.page.locator(WIDGET).first.screenshot(path=str(artifacts / "conversation.png"))

        # The second answer's transcript comes before its response.done (and may come before its audio started):
        # wait for the events the turns and usage below are built from, which can come in a later batch.
        kernel.wait_until(
            "len(widget.record.usage) >= 2 and bool(widget.record.turns.head(2)[['first_audio', 'response_done']]"
            ".notna().to_numpy().all())"
        )
        turns = kernel.value(
            "widget.record.turns[['latency_ms', 'response_duration_ms', 'status']].head(2).to_dict('records')"
        )
        assert len(turns) == 2
        for turn in turns:
            assert turn["latency_ms"] > 0, turns
            assert turn["status"] == "completed", turns
        assert kernel.value("len(widget.record.stats)") > 0
        assert kernel.value("len(widget.record.validate())") == 0
        assert kernel.value("len(widget.transcript)") >= 3  # the kernel-side trait follows the batches
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()


def test_model_calls_a_python_tool_over_a_dataframe(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    name = write_notebook(
        lab.root_dir,
        "tools.ipynb",
        "import pandas as pd\n"
        "from realtime_widget import RealtimeWidget, tool\n"
        "sales = pd.DataFrame({'region': ['north', 'north', 'south'], 'amount': [1200.0, 34.0, 99.0]})\n",
        "@tool\n"
        "def total_sales(region: str) -> float:\n"
        '    """Total sales in a region, in dollars."""\n'
        "    return float(sales.loc[sales.region == region, 'amount'].sum())\n",
        "widget = RealtimeWidget(tools=[total_sales], turn_detection=None)\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        click_connect(lab_page, kernel)
        call_id = kernel.value("widget.call_id")
        local_server.script([{"call_tool": {"name": "total_sales", "arguments": {"region": "north"}}}], call_id=call_id)
        kernel.run("widget.send_text('What are the total sales in the north?')")

        kernel.wait_until("len(widget.record.tool_calls) == 1", timeout=30)
        call = kernel.value("widget.record.tool_calls[['name', 'arguments', 'output', 'error']].iloc[0].to_dict()")
        assert call["name"] == "total_sales"
        assert '"north"' in call["arguments"]
        assert "1234" in call["output"]
        assert call["error"] is None or call["error"] != call["error"]  # None or NaN: no error

        # The kernel's result goes back to the model, which speaks it.
        kernel.wait_until("widget.record.transcript.text.str.contains('1234').any()", timeout=30)
        lab_page.page.wait_for_selector(f"{WIDGET} [data-testid=transcript] >> text=total_sales")

        # Tools can change while connected: the kernel sends a session.update with the new list.
        kernel.run("def region_count() -> int:\n    return 2\n\nwidget.add_tool(region_count)")
        updates = "widget.record.events.query('type == \"session.update\"').payload"
        kernel.wait_until(f"{updates}.str.contains('region_count').any()", timeout=15)
        kernel.run("widget.remove_tool('region_count')")
        kernel.wait_until(f"not {updates}.iloc[-1].count('region_count')", timeout=15)
        assert kernel.value("len(widget.record.validate())") == 0
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()


def test_python_connects_and_awaits_the_state(lab_page: LabPage, lab: JupyterLab) -> None:
    # connect() from Python mints the key in the kernel and sends it along: the browser connects even while the
    # kernel is busy running the cell that asked, and a later cell can await the state.
    name = write_notebook(
        lab.root_dir, "await.ipynb", "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget()\nwidget"
    )
    # The cell that connects stays busy until the page shows the connection (or a minute has passed: it fails).
    released = lab.root_dir / "await.released"
    busy_cell = (
        "import pathlib, time\n"
        "widget.connect()\n"
        f"released, give_up = pathlib.Path({str(released)!r}), time.monotonic() + 60\n"
        "while not released.exists():  # a busy kernel: it cannot answer the browser\n"
        "    if time.monotonic() > give_up:\n"
        "        raise TimeoutError('the test never saw the connection')\n"
        "    time.sleep(0.1)"
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        released.unlink(missing_ok=True)
        busy = kernel.start(busy_cell)
        try:
            connected = lab_page.page.locator(f"{WIDGET} [data-testid=status][data-status=connected]")
            connected.wait_for(timeout=30_000)
            assert connected.count() == 1
        finally:
            released.touch()  # the cell ends whatever happened
        kernel.finish(busy, timeout=30)
        kernel.run("reached = await widget.wait_for('connected', timeout=30)", timeout=60)
        assert kernel.value("reached") == "connected"
        kernel.run("widget.disconnect()\nreached = await widget.wait_for('closed', timeout=30)", timeout=60)
        assert kernel.value("reached") == "closed"
        # And in one cell, as a person writes it:
        kernel.run("widget.connect()\nreached = await widget.wait_for('connected', timeout=30)", timeout=60)
        assert kernel.value("reached") == "connected"
        kernel.run("widget.disconnect()\nreached = await widget.wait_for('closed', timeout=30)", timeout=60)
        assert kernel.value("reached") == "closed"
        minted = kernel.value("list(widget.record.timeline.query('what == \"mint_start\"').source)")
        assert minted.count("kernel") == 2, "one key per connect() from Python; the browser never had to ask"
    finally:
        kernel.close()
