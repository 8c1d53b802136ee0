"""The fault matrix's server rows (FAULTS.md), in real JupyterLab and Chromium against the local server: an
expired ephemeral key, a 500 on /calls, ICE that never connects, the session's time limit, and the server killed
mid-response and restarted. Each checks the message in the widget and in Python, the status, and that the record
still holds everything from before the fault."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from realtime_widget.server.launcher import LocalServer

from .faults import assert_record_kept, converse, websocket_call
from .harness import JupyterLab, KernelClient
from .lab_page import WIDGET, LabPage, opened_widget, shoot_states, status_selector, wait_failed, wait_for_status
from .notebooks import write_connection_notebook, write_notebook

pytestmark = pytest.mark.e2e

TTL_S = 10  # the API's shortest key lifetime


def _wait_call_gone(server: LocalServer, call_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while call_id in {call["call_id"] for call in server.calls()}:
        assert time.monotonic() < deadline, f"{call_id} is still open on the server"
        time.sleep(0.1)


def _retry(lab_page: LabPage, kernel: KernelClient, before_call: str) -> None:
    """Presses the failed widget's Retry and waits until it is connected on a new call, in the page and the kernel."""
    lab_page.page.click(f"{WIDGET} [data-testid=retry]")
    lab_page.page.wait_for_selector(status_selector("connected"), timeout=60_000)
    kernel.wait_until(f"widget.status == 'connected' and widget.call_id not in (None, {before_call!r})")
    assert lab_page.page.is_hidden(f"{WIDGET} [data-testid=error]")


def _disconnect(lab_page: LabPage, kernel: KernelClient) -> None:
    kernel.run("widget.disconnect()")
    wait_for_status(lab_page, "closed")
    kernel.wait_until("widget.status == 'closed'")


def test_expired_ephemeral_key(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "fault_expired_key.ipynb",
        "from realtime_widget import RealtimeWidget\n"
        f"widget = RealtimeWidget(turn_detection=None, key_ttl_seconds={TTL_S})\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        before = converse(lab_page, kernel, local_server, "Answered before the key expired.")
        _disconnect(lab_page, kernel)

        # The browser holds its offer until the key has expired on the server's clock, as a slow page would.
        held: list[str] = []

        def expire_then_post(route: Any) -> None:
            if route.request.method == "POST" and not held:
                held.append(route.request.url)
                local_server.advance_clock(TTL_S + 1)
            route.continue_()

        page.route("**/v1/realtime/calls", expire_then_post)
        try:
            page.click(f"{WIDGET} [data-testid=connect]")
            text = wait_failed(lab_page, kernel, WIDGET, "widget", "key_rejected")
        finally:
            page.unroute("**/v1/realtime/calls")
        assert held, "the offer never went out"
        assert "expired" in text, text  # the server's own words, after the widget's
        assert "key_ttl_seconds" in kernel.value("widget.error['hint']")
        kernel.wait_until("'failed' in set(widget.record.timeline['what'])")
        # The key never shows: not in the widget, not in the error.
        assert "ek_" not in text
        assert "ek_" not in json.dumps(kernel.value("widget.error"))
        assert_record_kept(lab_page, kernel, before)
        shoot_states(lab_page, artifacts, "fault-key-expired")

        # Connect again: a fresh key, and the conversation goes on in the same record.
        _retry(lab_page, kernel, before.call_id)
        assert_record_kept(lab_page, kernel, before)


def test_server_answers_500_on_calls(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    name = write_connection_notebook(lab.root_dir, "fault_calls_500.ipynb", "reconnect_attempts=0")
    with opened_widget(lab_page, name) as kernel:
        before = converse(lab_page, kernel, local_server, "Answered before the server failed.")
        _disconnect(lab_page, kernel)

        # Connecting from Python this time: the failure is raised there, with the same code and words.
        local_server.fail_next_call("server_error")
        kernel.run(
            "from realtime_widget import RealtimeWidgetError\n"
            "widget.connect()\n"
            "try:\n"
            "    await widget.wait_for('connected')\n"
            "except RealtimeWidgetError as exc:\n"
            "    raised = {'code': exc.code, 'text': str(exc)}\n"
            "else:\n"
            "    raised = None",
            timeout=60,
        )
        raised = kernel.value("raised")
        assert raised is not None
        assert raised["code"] == "server_error", raised
        text = wait_failed(lab_page, kernel, WIDGET, "widget", "server_error")
        assert "HTTP 500" in text, text
        assert "The server had an error" in text, text  # the API's own words for a 500
        assert raised["text"].startswith(kernel.value("widget.error['message']"))
        assert_record_kept(lab_page, kernel, before)

        # The fault was one request: connecting again works.
        _retry(lab_page, kernel, before.call_id)
        assert_record_kept(lab_page, kernel, before)


def test_ice_never_connects(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    # WebRTC only: with the default transport ("auto") a failed ICE falls back to the WebSocket, which connects.
    name = write_connection_notebook(lab.root_dir, "fault_ice.ipynb", "reconnect_attempts=0", transport="webrtc")
    with opened_widget(lab_page, name) as kernel:
        before = converse(lab_page, kernel, local_server, "Answered before ICE broke.")
        _disconnect(lab_page, kernel)

        local_server.fail_next_call("unreachable_ice")
        lab_page.page.click(f"{WIDGET} [data-testid=connect]")
        wait_for_status(lab_page, "connecting")
        # The answer came (a call exists on the server), but no connectivity check is ever answered.
        kernel.wait_until("'answer_received' in list(widget.record.timeline['what'])")
        text = wait_failed(lab_page, kernel, WIDGET, "widget", "ice_failed")
        assert "ICE" in text, text
        assert "TURN" in text, text
        kernel.wait_until("'failed' in set(widget.record.timeline['what'])")
        timeline = kernel.value("widget.record.timeline[['what', 'detail']].to_dict('records')")
        answers = [json.loads(row["detail"])["call_id"] for row in timeline if row["what"] == "answer_received"]
        stuck_call = answers[-1]
        assert "connected" not in [
            json.loads(row["detail"]).get("state") for row in timeline[-12:] if row["what"] == "connection_state"
        ]
        # The kernel hangs the stuck call up: nothing is left running on the server.
        _wait_call_gone(local_server, stuck_call)
        assert_record_kept(lab_page, kernel, before)

        _retry(lab_page, kernel, before.call_id)
        assert_record_kept(lab_page, kernel, before)


def test_ice_never_connects_under_auto_falls_back_to_websocket(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    # The default transport: the same ICE failure, and the widget carries on over the WebSocket by itself.
    name = write_connection_notebook(lab.root_dir, "fault_ice_auto.ipynb", "reconnect_attempts=0")
    with opened_widget(lab_page, name) as kernel:
        before = converse(lab_page, kernel, local_server, "Answered over WebRTC before ICE broke.")
        _disconnect(lab_page, kernel)

        local_server.fail_next_call("unreachable_ice")
        lab_page.page.click(f"{WIDGET} [data-testid=connect]")
        wait_for_status(lab_page, "connected")
        kernel.wait_until("widget.status == 'connected'")
        kernel.wait_until("list(widget.record.events['type']).count('session.created') == 2")
        # The timeline says which transport ran and why; the widget says it too.
        chosen = [
            json.loads(d) for d in kernel.value("list(widget.record.timeline.query(\"what == 'transport'\").detail)")
        ]
        assert [c["transport"] for c in chosen[-2:]] == ["webrtc", "websocket"], chosen
        assert "ICE" in chosen[-1]["reason"], chosen
        notice = lab_page.page.locator(f"{WIDGET} [data-testid=notice]").first
        notice.wait_for()
        assert "Connected over WebSocket" in notice.inner_text()
        # The stuck WebRTC call is hung up, not left on the server.
        timeline = kernel.value("widget.record.timeline[['what', 'detail']].to_dict('records')")
        answers = [json.loads(row["detail"])["call_id"] for row in timeline if row["what"] == "answer_received"]
        assert answers[-1] != before.call_id, answers
        _wait_call_gone(local_server, answers[-1])
        assert not kernel.value("widget.error")

        # The conversation goes on over the WebSocket, in the same record.
        after = "Answered over the WebSocket."
        local_server.script([{"say": after}], call_id=websocket_call(kernel, local_server))
        kernel.run("widget.send_text('And now?')")
        kernel.wait_until(f"(widget.record.transcript.text == {after!r}).any()")
        lab_page.page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(after).first.wait_for()
        assert_record_kept(lab_page, kernel, before)


def test_session_time_limit_reached(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    # Reconnects on (the default policy, a short backoff): the time limit ends a session, not the conversation.
    name = write_connection_notebook(lab.root_dir, "fault_time_limit.ipynb", "reconnect_base_delay_ms=200")
    with opened_widget(lab_page, name) as kernel:
        kernel.run("raised = []\nwidget.on('error', raised.append)")
        before = converse(lab_page, kernel, local_server, "Answered before the time ran out.")

        local_server.advance_clock(60 * 60)  # the API's 60 minutes, at once
        notice = page.locator(f"{WIDGET} [data-testid=notice][data-code=session_expired]")
        notice.wait_for(timeout=30_000)
        shown = notice.text_content() or ""
        assert "maximum duration of 60 minutes" in shown, shown
        hint = kernel.value("__import__('realtime_widget.problems').problems.HINTS['session_expired']")
        assert hint in shown, shown
        # In Python: the error callback, and record.problems.
        kernel.wait_until("len(raised) == 1")
        assert kernel.value("raised[0]['error']['code']") == "session_expired"
        kernel.wait_until("'session_expired' in list(widget.record.problems.code)")
        assert kernel.value("widget.record.problems.query(\"code == 'session_expired'\").hint.iloc[0]") == hint

        # The server ends that call; the widget reconnects to a new session.
        kernel.wait_until(f"widget.status == 'connected' and widget.call_id not in (None, {before.call_id!r})")
        wait_for_status(lab_page, "connected")
        assert before.call_id not in {call["call_id"] for call in local_server.calls()}
        kernel.wait_until("list(widget.record.events['type']).count('session.created') == 2")
        after = "Answered in the new session."
        local_server.script([{"say": after}], call_id=kernel.value("widget.call_id"))
        kernel.run("widget.send_text('And after the limit?')")
        kernel.wait_until(f"(widget.record.transcript.text == {after!r}).any()")
        assert_record_kept(lab_page, kernel, before)


def test_server_killed_mid_response_and_restarted(lab_page: LabPage, lab: JupyterLab) -> None:
    # A server of its own, on a port it gets back when it restarts, with the same key (as a restarted service).
    server = LocalServer.start(strict=True)
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "fault_server_killed.ipynb",
        "from realtime_widget import ConnectionOptions, RealtimeWidget\n"
        # Enough patience for a restart on a loaded machine: 30 tries, at most 2 s apart.
        "options = ConnectionOptions(reconnect_attempts=30, reconnect_base_delay_ms=250,"
        " reconnect_max_delay_ms=2000, disconnect_grace_ms=1000)\n"
        f"widget = RealtimeWidget(api_key={server.api_key!r}, base_url={server.base_url!r}, turn_detection=None,"
        " connection=options)\nwidget",
    )
    restarted: LocalServer | None = None
    try:
        with opened_widget(lab_page, name) as kernel:
            before = converse(lab_page, kernel, server, "Answered before the crash.")
            long_reply = " ".join(["This reply is long, and the server dies while it is still speaking."] * 8)
            server.script([{"say": long_reply}], call_id=before.call_id)
            kernel.run("widget.send_text('Tell me a long story.')")
            # Mid-response: the reply has started arriving in the record (the browser's batches), not finished.
            kernel.wait_until("'response.output_audio_transcript.delta' in list(widget.record.events['type'][-40:])")
            server.kill()

            wait_for_status(lab_page, "reconnecting", timeout_ms=60_000)
            assert "Reconnecting" in page.inner_text(f"{WIDGET} [data-testid=status]")
            kernel.wait_until("widget.status == 'reconnecting'", timeout=60)
            restarted = LocalServer.start(port=port, api_key=server.api_key, strict=True)
            kernel.wait_until(
                f"widget.status == 'connected' and widget.call_id not in (None, {before.call_id!r})", timeout=90
            )
            wait_for_status(lab_page, "connected")
            # Attempts made while the server was down failed (the kernel could not mint a key); once one connects,
            # none of that is shown as a current error, in the widget or in Python.
            page.wait_for_selector(f"{WIDGET} [data-testid=error]", state="hidden", timeout=30_000)
            kernel.wait_until("widget.error == {}")

            # Python saw the loss: the timeline says how it was lost and that reconnects were scheduled.
            kernel.wait_until("'reconnect_scheduled' in list(widget.record.timeline['what'])")
            lost = kernel.value("widget.record.timeline.query(\"what == 'disconnected'\").detail.iloc[0]")
            assert json.loads(lost)["code"] in {"channel_closed", "ice_failed"}, lost
            # The part of the reply that arrived before the crash is kept, and the new session answers.
            assert kernel.value("list(widget.record.events['type']).count('response.output_audio_transcript.delta')")
            after = "Answered by the restarted server."
            restarted.script([{"say": after}], call_id=kernel.value("widget.call_id"))
            kernel.run("widget.send_text('Are you back?')")
            kernel.wait_until(f"(widget.record.transcript.text == {after!r}).any()")
            assert_record_kept(lab_page, kernel, before)
            assert restarted.violations() == []
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()
