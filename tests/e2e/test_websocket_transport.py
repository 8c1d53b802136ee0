"""The browser WebSocket transport in JupyterLab: a page without WebRTC falls back to it by itself, and a
conversation over it (typed and spoken turns, a barge-in the client truncates) is recorded as over WebRTC."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from realtime_widget.server.launcher import LocalServer

from .faults import websocket_call
from .harness import JupyterLab, KernelClient
from .lab_page import WIDGET, LabPage, event_types, open_widget_notebook, wait_for_status
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

NO_WEBRTC = "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;"
# Long enough (well over ten seconds of speech) that the microphone's next phrase cuts it off.
LONG_REPLY = " ".join(
    ["Here is a long answer about the sales figures in every region, month by month, with all the details."] * 4
)


def timeline(kernel: KernelClient, what: str, at_least: int = 1) -> list[dict[str, Any]]:
    """The details of the timeline's ``what`` items, once at least ``at_least`` have arrived: the status (and the
    page) can tell of a milestone before the batch that carries it reaches the kernel."""
    kernel.wait_until(f"bool((widget.record.timeline.what == {what!r}).sum() >= {at_least})")
    details = kernel.value(f"list(widget.record.timeline[widget.record.timeline.what == {what!r}].detail)")
    return [json.loads(d) if isinstance(d, str) else d for d in details]


def test_page_without_webrtc_falls_back_to_websocket_and_converses(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    lab_page.page.add_init_script(NO_WEBRTC)
    name = write_notebook(
        lab.root_dir,
        "websocket-fallback.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(instructions='Be brief.')\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        lab_page.page.click(f"{WIDGET} [data-testid=connect]")
        wait_for_status(lab_page, "connected")
        kernel.wait_until("widget.status == 'connected'")
        chosen = timeline(kernel, "transport")
        assert chosen[-1]["transport"] == "websocket", chosen
        assert "RTCPeerConnection" in chosen[-1]["reason"], chosen
        assert timeline(kernel, "ws_open")[-1]["route"] == "direct"
        call_id = websocket_call(kernel, local_server)
        local_server.script([{"say": "Typed answer."}] + [{"say": LONG_REPLY}] * 4, call_id=call_id)

        # A typed turn answered (the reply comes as audio deltas the browser plays, and its transcript).
        kernel.run("widget.send_text('Hello over the socket')")
        kernel.wait_until("(widget.record.transcript.role == 'assistant').sum() >= 1", timeout=30)

        # The fake microphone speaks every ten seconds: a spoken turn the server hears and answers at length, and
        # its next phrase barges in; the client flushes its queue and truncates the reply at what it played.
        kernel.wait_until("'conversation.item.truncated' in set(widget.record.events.type)", timeout=90)
        sent = event_types(kernel, "client")
        assert "conversation.item.truncate" in sent
        assert "input_audio_buffer.append" not in sent  # audio is counted in the stats, not recorded as events
        received = event_types(kernel, "server")
        assert "input_audio_buffer.speech_started" in received
        assert "output_audio_buffer.started" not in received  # WebRTC only, as in the API
        heard = kernel.value("list(widget.record.transcript.query('role == \"user\"').text)")
        assert any(t for t in heard if t != "Hello over the socket"), heard
        truncated = kernel.value(
            "[__import__('json').loads(e['payload'])['audio_end_ms'] for _, e in widget.record.events.iterrows()"
            " if e['type'] == 'conversation.item.truncated']"
        )
        assert all(ms > 0 for ms in truncated), truncated

        stats = kernel.value(
            "widget.record.stats[['bytes_sent', 'bytes_received', 'codec']].tail(1).to_dict('records')"
        )
        assert stats[0]["bytes_sent"] > 0, stats
        assert stats[0]["bytes_received"] > 0, stats
        assert stats[0]["codec"] == "audio/pcm/24000"
        assert kernel.value("len(widget.record.validate())") == 0
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()


def test_browser_blocked_from_the_local_server_connects_through_the_jupyter_proxy(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    # The browser cannot reach the local server's port (as on a remote kernel): its HTTP and WebSocket requests
    # there fail; JupyterLab, which has jupyter-server-proxy, can reach it.
    port = urlparse(local_server.base_url).port
    page = lab_page.page
    page.route(f"http://127.0.0.1:{port}/**", lambda route: route.abort("connectionrefused"))
    page.route_web_socket(re.compile(rf"^ws://127\.0\.0\.1:{port}/"), lambda ws: ws.close(code=1006))
    name = write_notebook(
        lab.root_dir,
        "websocket-proxy.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(instructions='Be brief.')\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        page.click(f"{WIDGET} [data-testid=connect]")
        wait_for_status(lab_page, "connected")
        chosen = timeline(kernel, "transport", at_least=2)
        assert [c["transport"] for c in chosen] == ["webrtc", "websocket"], chosen
        assert "not reachable" in chosen[-1]["reason"], chosen
        tried = timeline(kernel, "route_tried")
        assert [t["route"] for t in tried] == ["direct"], tried
        assert timeline(kernel, "ws_open")[-1]["route"] == "jupyter-proxy"
        # The widget says which transport and route it took, and why.
        notice = page.locator(f"{WIDGET} [data-testid=notice]").first
        notice.wait_for()
        assert "Connected over WebSocket, through the Jupyter server" in notice.inner_text()
        call_id = websocket_call(kernel, local_server)
        local_server.script([{"say": "Answered through the proxy."}], call_id=call_id)
        kernel.run("widget.send_text('Hello through Jupyter')")
        kernel.wait_until("'Answered through the proxy.' in set(widget.record.transcript.text)", timeout=30)
        page.wait_for_selector(f"{WIDGET} [data-testid=transcript] >> text=Answered through the proxy.")
        for theme in ("light", "dark"):
            lab_page.set_theme(f"JupyterLab {theme.title()}")
            page.wait_for_selector("#jupyterlab-splash", state="detached")  # the theme change's splash screen
            page.locator(WIDGET).first.screenshot(path=str(artifacts / f"websocket-proxy-{theme}.png"))
        lab_page.set_theme("JupyterLab Light")
        assert kernel.value("len(widget.record.validate())") == 0
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()


def failed_error(lab_page: LabPage, kernel: KernelClient) -> str:
    wait_for_status(lab_page, "failed")
    kernel.wait_until("widget.status == 'failed' and bool(widget.error)")
    shown = lab_page.page.locator(f"{WIDGET} [data-testid=error]").first.inner_text()
    return str(shown)


def test_a_proxy_that_answers_a_web_page_is_named_and_nothing_recorded_is_lost(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    # Direct is blocked, and the Jupyter proxy route answers with a login page instead of the server (as a proxy
    # in front of an expired session does): the widget says which route did what, and what to do.
    port = urlparse(local_server.base_url).port
    page = lab_page.page
    page.route(f"http://127.0.0.1:{port}/**", lambda route: route.abort("connectionrefused"))
    page.route_web_socket(re.compile(rf"^ws://127\.0\.0\.1:{port}/"), lambda ws: ws.close(code=1006))
    page.route(
        f"**/proxy/{port}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<html><body>Sign in</body></html>"),
    )
    page.route_web_socket(re.compile(rf"/proxy/{port}/"), lambda ws: ws.close(code=1006))
    name = write_notebook(
        lab.root_dir,
        "websocket-html-proxy.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(transport='websocket')\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        page.click(f"{WIDGET} [data-testid=connect]")
        shown = failed_error(lab_page, kernel)
        assert "could not reach the local server" in shown, shown
        assert "jupyter-proxy: answered with a web page (HTTP 200, HTML)" in shown, shown
        error = kernel.value("widget.error")
        assert error["code"] == "unreachable", error
        assert "jupyter-server-proxy" in error["hint"], error
        # The attempt is in the record: which routes were tried and why each failed.
        assert [t["route"] for t in timeline(kernel, "route_tried", at_least=2)] == ["direct", "jupyter-proxy"]
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()


def test_an_audio_worklet_that_cannot_load_is_a_clear_failure(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    # What a Content-Security-Policy without blob: does to addModule, made to happen in this page.
    lab_page.page.add_init_script(
        "AudioWorklet.prototype.addModule = () => Promise.reject(new DOMException("
        '"Refused to load the script because it violates the Content Security Policy directive", "AbortError"));'
    )
    name = write_notebook(
        lab.root_dir,
        "websocket-no-worklet.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(transport='websocket')\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        lab_page.page.click(f"{WIDGET} [data-testid=connect]")
        shown = failed_error(lab_page, kernel)
        assert "audio processor" in shown, shown
        assert "Content Security Policy" in shown, shown
        assert kernel.value("widget.error['code']") == "audio_blocked"
        assert "blob:" in kernel.value("widget.error['hint']")
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()


def test_a_websocket_closed_mid_turn_reconnects_and_keeps_the_record(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    name = write_notebook(
        lab.root_dir,
        "websocket-drop.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(transport='websocket')\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        lab_page.page.click(f"{WIDGET} [data-testid=connect]")
        wait_for_status(lab_page, "connected")
        call_id = websocket_call(kernel, local_server)
        local_server.script([{"say": LONG_REPLY}], call_id=call_id)
        kernel.run("widget.send_text('Tell me everything')")
        kernel.wait_until("'response.output_audio_transcript.delta' in set(widget.record.events.type)")
        before = kernel.value("len(widget.record.events)")
        local_server.drop_call(call_id)  # the server goes away mid-reply

        kernel.wait_until("'reconnect_scheduled' in set(widget.record.timeline.what)", timeout=30)
        lost = timeline(kernel, "disconnected")
        assert lost[-1]["code"] == "channel_closed", lost
        assert "WebSocket closed" in lost[-1]["message"], lost
        wait_for_status(lab_page, "connected", timeout_ms=60_000)
        kernel.wait_until("(widget.record.timeline.what == 'connected').sum() >= 2", timeout=30)
        assert kernel.value("len(widget.record.events)") >= before  # nothing recorded was lost
        assert "Tell me everything" in kernel.value("list(widget.record.transcript.text)")
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()
