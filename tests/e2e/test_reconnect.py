"""A reconnect in real JupyterLab and Chromium: the local server drops the peer mid-session, the widget reconnects
with a fresh key and a new call, the conversation goes on, and the record keeps everything from before and after."""

from __future__ import annotations

import json

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab
from .lab_page import WIDGET, LabPage, connect_scripted, opened_widget, wait_for_status
from .notebooks import write_connection_notebook

pytestmark = pytest.mark.e2e


def test_reconnects_after_the_server_drops_the_peer(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    page = lab_page.page
    # A backoff long enough for the reconnecting state to be seen in the page.
    options = "reconnect_attempts=3, reconnect_base_delay_ms=1500"
    name = write_connection_notebook(lab.root_dir, "reconnect.ipynb", options)
    transcript = page.locator(f"{WIDGET} [data-testid=transcript]")
    with opened_widget(lab_page, name) as kernel:
        before = "Answered before the drop."
        first_call = connect_scripted(lab_page, kernel, local_server, [{"say": before}])
        kernel.run("widget.send_text('First question.')")
        kernel.wait_until(f"(widget.record.transcript.text == {before!r}).any()")

        local_server.drop_call(first_call)
        wait_for_status(lab_page, "reconnecting")
        assert "Reconnecting" in page.inner_text(f"{WIDGET} [data-testid=status]")
        kernel.wait_until("widget.status == 'reconnecting'")
        wait_for_status(lab_page, "connected")
        kernel.wait_until(f"widget.status == 'connected' and widget.call_id not in (None, {first_call!r})")
        second_call = kernel.value("widget.call_id")
        assert second_call != first_call
        assert second_call in {call["call_id"] for call in local_server.calls()}
        assert page.is_hidden(f"{WIDGET} [data-testid=error]")

        after = "Answered after the reconnect."
        local_server.script([{"say": after}], call_id=second_call)
        page.fill(f"{WIDGET} [data-testid=text-input]", "Second question.")
        page.click(f"{WIDGET} [data-testid=send]")
        kernel.wait_until(f"(widget.record.transcript.text == {after!r}).any()")

        # The widget still shows the first call's conversation beside the second's.
        for text in ("First question.", before, "Second question.", after):
            transcript.get_by_text(text).wait_for(timeout=30_000)

        # The record has both calls: two sessions, both answers, both questions, in order.
        types = kernel.value("list(widget.record.events['type'])")
        assert types.count("session.created") == 2
        # Each session configured: with keys minted with the widget's settings, by the key (no session.update).
        assert kernel.value("widget.record.timeline.query('what == \"session_updated\"').attempt.nunique()") == 2
        lines = kernel.value("list(widget.record.transcript.text)")
        assert [line for line in lines if line in {"First question.", before, "Second question.", after}] == [
            "First question.",
            before,
            "Second question.",
            after,
        ]
        sessions = [
            json.loads(p)["session"]["id"]
            for p in kernel.value("list(widget.record.events.query(\"type == 'session.created'\").payload)")
        ]
        assert len(set(sessions)) == 2

        # The timeline tells the story: connected, lost, a reconnect scheduled, connected again with a new key.
        timeline = kernel.value("widget.record.timeline[['source', 'what', 'attempt', 'detail']].to_dict('records')")
        browser = [row for row in timeline if row["source"] == "browser"]
        whats = [row["what"] for row in browser]
        assert whats.count("connected") == 2
        first_connected = whats.index("connected")
        lost = whats.index("disconnected")
        scheduled = whats.index("reconnect_scheduled")
        assert first_connected < lost < scheduled < len(whats) - 1 - whats[::-1].index("connected")
        reconnect = json.loads(browser[scheduled]["detail"])
        assert (reconnect["reconnect"], reconnect["code"]) == (1, "channel_closed")
        assert reconnect["delay_ms"] >= 1500 * 0.5
        answers = [json.loads(row["detail"]).get("call_id") for row in browser if row["what"] == "answer_received"]
        assert answers == [first_call, second_call]
        # A fresh key for each attempt: pushed ahead of it (pre-warmed) or minted when asked, never one twice.
        sources = [json.loads(row["detail"])["key"] for row in browser if row["what"] == "mint_end"]
        kernel_side = [row["what"] for row in timeline if row["source"] == "kernel"]
        assert kernel_side.count("key_prewarmed") >= sources.count("prewarmed")
        assert (len(sources), kernel_side.count("mint_end")) == (2, 2 - sources.count("prewarmed"))
        assert kernel.value("len(widget.record.validate())") == 0, kernel.value(
            "widget.record.validate().to_dict('records')"
        )
