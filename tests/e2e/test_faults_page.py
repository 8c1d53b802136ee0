"""The fault matrix's page rows (FAULTS.md), in real JupyterLab and Chromium: the page reloaded while connected,
and two widgets in one notebook at once. Each checks the widget, Python, the status, and that the record still
holds everything from before."""

from __future__ import annotations

import time

import pytest

from realtime_widget.server.launcher import LocalServer

from .faults import assert_record_kept, converse
from .harness import JupyterLab
from .lab_page import (
    WIDGET,
    LabPage,
    click_connect,
    nth_widget,
    open_widget_notebook,
    opened_widget,
    status_selector,
    wait_for_status,
)
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e


def _wait_call_gone(server: LocalServer, call_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while call_id in {call["call_id"] for call in server.calls()}:
        assert time.monotonic() < deadline, f"{call_id} is still open on the server"
        time.sleep(0.1)


def test_page_reloaded_while_connected(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "fault_reload.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        before = converse(lab_page, kernel, local_server, "Answered before the reload.")

        # Saved first, as JupyterLab does on its own every two minutes: the reloaded page shows the widget's output.
        lab_page.save()
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        page.reload()
        lab_page.open_notebook(name)  # the same notebook, its kernel kept: the widget is drawn again
        page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
        # The call ended with the page that held it: the widget says so, Python too, and the server let it go.
        wait_for_status(lab_page, "closed")
        assert "Disconnected" in page.inner_text(f"{WIDGET} [data-testid=status]")
        kernel.wait_until("widget.status == 'closed'")
        _wait_call_gone(local_server, before.call_id)
        assert page.is_hidden(f"{WIDGET} [data-testid=error]")
        # The new page redraws the conversation from the kernel's record (the `history` command).
        assert_record_kept(lab_page, kernel, before)

        # And it connects again, into the same record.
        click_connect(lab_page, kernel)
        assert kernel.value("widget.call_id") != before.call_id
        after = "Answered after the reload."
        local_server.script([{"say": after}], call_id=kernel.value("widget.call_id"))
        kernel.run("widget.send_text('Still there?')")
        kernel.wait_until(f"(widget.record.transcript.text == {after!r}).any()")
        assert_record_kept(lab_page, kernel, before)


def test_two_widgets_in_one_notebook_at_once(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "fault_two_widgets.ipynb",
        "from realtime_widget import RealtimeWidget",
        "first = RealtimeWidget(turn_detection=None, instructions='You are the first.')\nfirst",
        "second = RealtimeWidget(turn_detection=None, instructions='You are the second.')\nsecond",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        page.wait_for_function(f"() => document.querySelectorAll('{WIDGET}').length === 2", timeout=60_000)
        roots = {"first": nth_widget(0), "second": nth_widget(1)}
        calls: dict[str, str] = {}
        for root in roots.values():
            page.click(f"{root} [data-testid=connect]")
        for var, root in roots.items():
            page.wait_for_selector(f"{root} [data-testid=status][data-status=connected]", timeout=60_000)
            calls[var] = kernel.wait_until(f"{var}.status == 'connected' and {var}.call_id")
        assert calls["first"] != calls["second"]
        assert set(calls.values()) <= {call["call_id"] for call in local_server.calls()}

        # Both talk at the same time; each answer reaches its own widget and record only.
        answers = {var: f"This is the {var} widget answering." for var in roots}
        for var, call_id in calls.items():
            local_server.script([{"say": answers[var]}], call_id=call_id)
        kernel.run("first.send_text('Who are you?')\nsecond.send_text('And who are you?')")
        for var, root in roots.items():
            other = answers["second" if var == "first" else "first"]
            kernel.wait_until(f"({var}.record.transcript.text == {answers[var]!r}).any()")
            transcript = page.locator(f"{root} [data-testid=transcript]")
            transcript.get_by_text(answers[var]).wait_for(timeout=30_000)
            assert not kernel.value(f"({var}.record.transcript.text == {other!r}).any()")
            assert transcript.get_by_text(other).count() == 0
            assert kernel.value(f"len({var}.record.validate())") == 0
        sessions = {
            var: kernel.value(f"list({var}.record.events.query(\"type == 'session.created'\").payload)")
            for var in roots
        }
        assert len(sessions["first"]) == len(sessions["second"]) == 1
        assert sessions["first"] != sessions["second"]

        # Ending one leaves the other talking.
        events_first = kernel.value("len(first.record.events)")
        kernel.run("first.disconnect()")
        page.wait_for_selector(f"{roots['first']} [data-testid=status][data-status=closed]", timeout=30_000)
        kernel.wait_until("first.status == 'closed'")
        _wait_call_gone(local_server, calls["first"])
        assert page.is_visible(f"{roots['second']} [data-testid=status][data-status=connected]")
        again = "The second widget goes on."
        local_server.script([{"say": again}], call_id=calls["second"])
        kernel.run("second.send_text('Go on.')")
        kernel.wait_until(f"(second.record.transcript.text == {again!r}).any()")
        assert kernel.value("second.status") == "connected"
        assert kernel.value("len(first.record.events)") >= events_first
        assert kernel.value(f"(first.record.transcript.text == {answers['first']!r}).any()")
        assert page.is_visible(status_selector("closed"))
    finally:
        kernel.run("first.disconnect()\nsecond.disconnect()")
        kernel.close()
