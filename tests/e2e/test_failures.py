"""Each failure in real JupyterLab and Chromium: a clear message in the widget and a code in Python, and nothing
already recorded is lost. Markup in error text is shown as text."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from realtime_widget.server.launcher import LocalServer

from .faults import assert_record_kept, converse
from .harness import CHROMIUM_ARGS, JupyterLab, KernelClient, chromium_context
from .lab_page import (
    WIDGET,
    LabPage,
    connect_scripted,
    event_types,
    nth_widget,
    open_widget_notebook,
    opened_widget,
    wait_failed,
)
from .notebooks import write_connection_notebook, write_notebook

pytestmark = pytest.mark.e2e

MARKUP = "<img src=x onerror=alert(1)>"


def test_bad_key_server_down_and_rejected_offer(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "failures.ipynb",
        "import secrets\n"
        "from realtime_widget import RealtimeWidget\n"
        "from realtime_widget.server.launcher import LocalServer\n"
        f"base_url = {local_server.base_url!r}\n"
        "gone = LocalServer.start()\n"
        "gone.stop()",
        # A key the shared server never issued, built here so no key-like text sits in the repository.
        "bad = RealtimeWidget(api_key='sk-' + 'obviously-fake-' + secrets.token_hex(6), base_url=base_url)\nbad",
        # The kernel cannot mint a key: the server it was given is down.
        "down = RealtimeWidget(api_key=gone.api_key, base_url=gone.base_url)\ndown",
        # The key is minted, but the browser posts its offer to a server that is down.
        "unreachable = RealtimeWidget()\nunreachable.calls_url = gone.base_url + '/realtime/calls'\nunreachable",
        # The key is minted, but the server answers the offer with a 4xx.
        "rejected = RealtimeWidget()\nrejected.calls_url = base_url + '/realtime/no-such-endpoint'\nrejected",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        page.wait_for_function(f"() => document.querySelectorAll('{WIDGET}').length === 4", timeout=60_000)
        cases = [("bad", "bad_key", "401"), ("down", "network", "reach"), ("unreachable", "network", "reach")]
        cases.append(("rejected", "sdp_rejected", "refused"))
        for index, (var, code, words) in enumerate(cases):
            root = nth_widget(index)
            page.click(f"{root} [data-testid=connect]")
            text = wait_failed(lab_page, kernel, root, var, code)
            assert words in text, text
            assert kernel.value(f"{var}.error['hint']"), "no hint on what to do next"
            # The status and error traits can reach the kernel before the browser's batch with its timeline.
            kernel.wait_until(f"{{'connect_requested', 'failed'}} <= set({var}.record.timeline['what'])")
            assert page.is_visible(f"{root} [data-testid=retry]")
        # When the kernel could not mint a key, the widget shows the kernel's own message and hint, once.
        for var in ("bad", "down"):
            kernel_said = kernel.value(
                f"__import__('json').loads({var}.record.timeline.query(\"what == 'mint_failed'\").detail.iloc[-1])"
            )
            assert kernel.value(f"{var}.error['message']") == kernel_said["message"]
            assert kernel.value(f"{var}.error['hint']") == kernel_said["hint"]
        panel = page.locator(f"{nth_widget(0)} [data-testid=error]")
        # textContent: JupyterLab skips rendering cells out of view (content-visibility), which empties innerText.
        shown = panel.text_content() or ""
        assert shown.count("The API key was rejected") == 1, shown
        # The browser's fetch failed for `unreachable` (the kernel minted fine); for `down` the kernel could not mint.
        assert "mint_failed" in kernel.value("list(down.record.timeline['what'])")
        assert "mint_failed" not in kernel.value("list(unreachable.record.timeline['what'])")
        assert "404" in kernel.value("rejected.error['message']") or "HTTP 4" in kernel.value(
            "rejected.error['message']"
        )
        # A failed widget can be retried, and fails the same clear way (nothing piles up or goes blank).
        page.click(f"{nth_widget(0)} [data-testid=retry]")
        # The first failure's status and error still satisfy wait_failed in the kernel: wait for the browser's
        # timeline entry of the second failure first, so what follows checks the retry.
        kernel.wait_until("list(bad.record.timeline['what']).count('failed') >= 2")
        wait_failed(lab_page, kernel, nth_widget(0), "bad", "bad_key")
        # An error set from the kernel is shown as text: markup in it creates no element.
        kernel.run(f"bad.error = {{'code': 'unknown', 'message': {MARKUP!r}, 'hint': 'hint ' + {MARKUP!r}}}")
        page.wait_for_selector(f"{nth_widget(0)} [data-testid=error-message] >> text={MARKUP}", timeout=30_000)
        assert page.locator(f"{WIDGET} img").count() == 0
        assert MARKUP in (page.text_content(f"{nth_widget(0)} [data-testid=error-hint]") or "")
    finally:
        kernel.close()


def test_channel_closed_by_server_keeps_the_record(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    page = lab_page.page
    name = write_connection_notebook(lab.root_dir, "channel.ipynb", "reconnect_attempts=0")
    with opened_widget(lab_page, name) as kernel:
        answer = "This answer came before the channel closed."
        call_id = connect_scripted(lab_page, kernel, local_server, [{"say": answer}])
        kernel.run("widget.send_text('Say something first.')")
        kernel.wait_until(f"(widget.record.transcript.text == {answer!r}).any()")

        # A malformed event from Python is refused in Python, before anything is sent.
        sent_before = len(event_types(kernel, "client"))
        for bad in ("{'type': 'no.such.event'}", "{'type': 'response.create', 'response': {'output_modalities': 7}}"):
            kernel.run(
                f"try:\n    widget.send_event({bad})\nexcept ValueError as exc:\n    refused = str(exc)\n"
                "else:\n    refused = None"
            )
            assert kernel.value("refused"), f"send_event({bad}) did not raise ValueError"
        page.wait_for_timeout(500)
        assert len(event_types(kernel, "client")) == sent_before
        events_before = kernel.value("len(widget.record.events)")

        local_server.close_channel(call_id)
        text = wait_failed(lab_page, kernel, WIDGET, "widget", "channel_closed")
        assert "lost" in text, text
        # Nothing recorded is lost: the events, the transcript in the kernel and in the widget.
        assert kernel.value("len(widget.record.events)") >= events_before
        assert kernel.value(f"(widget.record.transcript.text == {answer!r}).any()")
        assert page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(answer).is_visible()
        # The failed status can reach the kernel (as a trait) before the batch with the timeline entries.
        kernel.wait_until("{'disconnected', 'failed'} <= set(widget.record.timeline['what'])")
        timeline = kernel.value("list(widget.record.timeline['what'])")
        assert "reconnect_scheduled" not in timeline  # reconnects were turned off
        assert kernel.value("len(widget.record.validate())") == 0


def _check_mic_off_notice(page: Any, kernel: KernelClient, reason: str) -> None:
    """The widget says why the mic is off and how to turn it on; Python has the same words."""
    notice = page.locator(f"{WIDGET} [data-testid=mic-off]")
    notice.wait_for(state="visible")
    assert notice.get_attribute("data-reason") == reason
    mic_off = kernel.wait_until("widget.mic_off")
    assert mic_off["reason"] == reason
    text = notice.inner_text()
    assert mic_off["message"] in text
    assert mic_off["hint"] in text
    assert page.locator(f"{WIDGET} [data-testid=mute]").is_disabled()


def test_no_microphone_at_all_connects_receive_only(lab: JupyterLab, tmp_path: Path, artifacts: Path) -> None:
    # A browser of its own that does not grant the microphone by itself (no --use-fake-ui-for-media-stream), as
    # a refused permission prompt or VS Code's webview: the widget connects without it and typed turns work.
    name = write_notebook(
        lab.root_dir,
        "mic_refused.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget()\nwidget",
    )
    args = [arg for arg in CHROMIUM_ARGS if arg != "--use-fake-ui-for-media-stream"]

    def in_second_browser() -> None:
        with chromium_context(tmp_path / "profile", base_args=args) as context:
            page = context.new_page()
            lab_page = LabPage(page, lab)
            kernel = open_widget_notebook(lab_page, name)
            try:
                page.click(f"{WIDGET} [data-testid=connect]")
                page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
                kernel.wait_until("widget.status == 'connected'")
                assert kernel.value("widget.error") == {}

                _check_mic_off_notice(page, kernel, "denied")
                assert "NotAllowedError" in kernel.value("widget.mic_off['detail']")
                assert "site settings" in kernel.value("widget.mic_off['hint']")

                # A typed turn is answered (in text and audio) over the receive-only connection.
                page.fill(f"{WIDGET} [data-testid=text-input]", "hello without a mic")
                page.click(f"{WIDGET} [data-testid=send]")
                kernel.wait_until("(widget.record.transcript.role == 'assistant').any()", timeout=30)
                answer = kernel.value("widget.record.transcript.query('role == \"assistant\"').text.iloc[-1]")
                assert answer
                page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(answer).wait_for(timeout=30_000)
                assert kernel.value("(widget.record.transcript.text == 'hello without a mic').any()")
                kernel.wait_until("'output_audio_buffer.started' in set(widget.record.events['type'])", timeout=30)

                widget = page.locator(WIDGET).first
                widget.screenshot(path=str(artifacts / "mic-off-light.png"))
                lab_page.set_theme("JupyterLab Dark")
                widget.screenshot(path=str(artifacts / "mic-off-dark.png"))
                lab_page.set_theme("JupyterLab Light")

                # The record keeps everything: why the mic was off, the connection, the turn.
                timeline = kernel.value("list(widget.record.timeline['what'])")
                # (The call does not wait for getUserMedia, so the refusal may be recorded before or after connected.)
                assert timeline.index("mic_error") < timeline.index("mic_off")
                assert "connected" in timeline
                page.click(f"{WIDGET} [data-testid=disconnect]")
                kernel.wait_until("'closed' in set(widget.record.timeline['what'])", timeout=15)
                assert kernel.value(f"(widget.record.transcript.text == {answer!r}).any()")
                assert kernel.value("len(widget.record.validate())") == 0
            except Exception:
                page.screenshot(path=str(artifacts / "failed-mic-refused.png"))
                print("\n".join(lab_page.console[-40:]))
                raise
            finally:
                kernel.close()
                page.close()

    # Playwright's sync API allows one instance per thread, and the run's shared browser holds this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(in_second_browser).result(timeout=180)


def test_microphone_false_connects_receive_only_without_asking(lab_page: LabPage, lab: JupyterLab) -> None:
    name = write_notebook(
        lab.root_dir,
        "mic_false.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(microphone=False)\nwidget",
    )
    page = lab_page.page
    with opened_widget(lab_page, name) as kernel:
        page.click(f"{WIDGET} [data-testid=connect]")
        page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
        _check_mic_off_notice(page, kernel, "not_requested")
        timeline = kernel.value("list(widget.record.timeline['what'])")
        assert "mic_error" not in timeline  # the browser was never asked
        assert "mic_ready" not in timeline
        mic_start = "widget.record.timeline.query('what == \"mic_start\"').detail.iloc[-1]"
        assert kernel.value(f"__import__('json').loads({mic_start})") == {"requested": False, "pressed": False}
        # Turning it back on from Python takes effect at the next connect, and the notice goes.
        kernel.run("widget.disconnect()\nwidget.microphone = True")
        kernel.wait_until("widget.status == 'closed'")
        page.click(f"{WIDGET} [data-testid=connect]")
        kernel.wait_until("widget.status == 'connected' and widget.mic_off == {}", timeout=30)
        page.locator(f"{WIDGET} [data-testid=mic-off]").wait_for(state="hidden")


# Keeps the page's microphone tracks reachable, to end them as an unplugged device does.
KEEP_MIC_TRACKS = """
window.__micTracks = [];
const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await getUserMedia(constraints);
  window.__micTracks.push(...stream.getAudioTracks());
  return stream;
};
"""
# What unplugging does to a track: it ends ("ended" fires; a page's own stop() fires none, so it is sent here).
UNPLUG = "() => { for (const t of window.__micTracks) { t.stop(); t.dispatchEvent(new Event('ended')); } }"


def test_a_microphone_unplugged_mid_call_goes_receive_only_and_keeps_the_record(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    page = lab_page.page
    page.add_init_script(KEEP_MIC_TRACKS)
    name = write_connection_notebook(lab.root_dir, "mic_unplugged.ipynb", "reconnect_attempts=0")
    with opened_widget(lab_page, name) as kernel:
        before = converse(lab_page, kernel, local_server, "Answered before the microphone went.")
        assert kernel.value("widget.mic_off") == {}
        assert page.evaluate("() => window.__micTracks.length") >= 1
        page.evaluate(UNPLUG)

        # Said in the widget and in Python, in the timeline; the call goes on.
        _check_mic_off_notice(page, kernel, "lost")
        assert "unplugged" in kernel.value("widget.mic_off['message']")
        kernel.wait_until("'mic_off' in set(widget.record.timeline.what)")
        errors = kernel.value("list(widget.record.timeline.query('what == \"mic_error\"').detail)")
        assert "mic_missing" in errors[-1], errors
        assert kernel.value("widget.status") == "connected"
        page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]")
        for theme in ("light", "dark"):
            lab_page.set_theme(f"JupyterLab {theme.title()}")
            page.wait_for_selector("#jupyterlab-splash", state="detached")
            page.locator(WIDGET).first.screenshot(path=str(artifacts / f"mic-unplugged-{theme}.png"))
        lab_page.set_theme("JupyterLab Light")

        # Typing still works, in the same call and the same record.
        after = "Answered after the microphone went."
        local_server.script([{"say": after}], call_id=before.call_id)
        kernel.run("widget.send_text('Can you still hear me?')")
        kernel.wait_until(f"(widget.record.transcript.text == {after!r}).any()")
        page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(after).first.wait_for()
        assert kernel.value("widget.call_id") == before.call_id
        assert_record_kept(lab_page, kernel, before)


def test_tool_that_raises(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "tool_error.ipynb",
        "from realtime_widget import RealtimeWidget, tool\n"
        "@tool\n"
        "def lookup(region: str) -> str:\n"
        '    """Looks a region up."""\n'
        f"    raise ValueError({MARKUP!r})\n",
        "widget = RealtimeWidget(tools=[lookup], turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        after_tool = "That lookup failed, sorry."
        later = "The conversation goes on."
        connect_scripted(
            lab_page,
            kernel,
            local_server,
            [{"call_tool": {"name": "lookup", "arguments": {"region": "north"}}}, {"say": after_tool}, {"say": later}],
        )
        kernel.run("widget.send_text('Look up the north.')")

        # In the transcript: the tool call, failed, with the error as literal text.
        tool = page.locator(f"{WIDGET} [data-testid=transcript] .rtw-tool[data-state=error]")
        tool.wait_for(timeout=30_000)
        shown = tool.locator(".rtw-tool-result").inner_text()
        assert MARKUP in shown, shown
        assert page.locator(f"{WIDGET} img").count() == 0

        # In the record: the error and its traceback.
        kernel.wait_until("len(widget.record.tool_calls) == 1 and widget.record.tool_calls.error.notna().all()")
        call = kernel.value("widget.record.tool_calls[['name', 'error', 'traceback']].iloc[0].to_dict()")
        assert call["name"] == "lookup"
        assert "ValueError" in call["error"]
        assert MARKUP in call["error"]
        assert "Traceback" in call["traceback"]
        assert "raise ValueError" in call["traceback"]
        # The kernel records the tool's error itself, but the browser reports the function_call_output it sent
        # in a later batch: wait for that batch rather than assume it came first.
        kernel.wait_until(
            "any(__import__('json').loads(p)['item'].get('type') == 'function_call_output' for p in "
            "widget.record.events.query(\"type == 'conversation.item.create'\").payload)"
        )

        # The conversation goes on: the model answers after the failure, and the next question too.
        kernel.wait_until(f"(widget.record.transcript.text == {after_tool!r}).any()")
        kernel.run("widget.send_text('And now?')")
        kernel.wait_until(f"(widget.record.transcript.text == {later!r}).any()")
        page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(later).wait_for(timeout=30_000)
        assert kernel.value("widget.status") == "connected"


def test_quota_rate_limit_and_content_filter_are_shown_recorded_and_raised(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    # The local server fails responses the way the real API does, on cue from its script.
    page = lab_page.page
    name = write_connection_notebook(lab.root_dir, "api_problems.ipynb", "reconnect_attempts=0")
    with opened_widget(lab_page, name) as kernel:
        kernel.run("raised = []\nwidget.on('error', raised.append)")
        connect_scripted(
            lab_page,
            kernel,
            local_server,
            [
                {"fail": "insufficient_quota"},
                {"fail": "rate_limit_exceeded"},
                {"fail": "content_filter", "say": "This reply goes on for a while and then it stops."},
            ],
        )
        for n, (code, level) in enumerate(
            [("insufficient_quota", "error"), ("rate_limit_exceeded", "error"), ("content_filter", "warning")]
        ):
            kernel.run(f"widget.send_text('Question {n}.')")
            notice = page.locator(f"{WIDGET} [data-testid=notice][data-code={code}]")
            notice.wait_for(timeout=30_000)
            assert notice.get_attribute("data-level") == level
            hint = kernel.value(f"__import__('realtime_widget.problems').problems.HINTS[{code!r}]")
            assert hint in (notice.text_content() or "")
            kernel.wait_until(f"{code!r} in list(widget.record.problems.code)")
            kernel.wait_until(f"len(raised) == {n + 1}")
        # The session goes on: still connected, and nothing recorded was lost.
        assert kernel.value("widget.status") == "connected"
        assert kernel.value("list(widget.record.problems.level)") == ["error", "error", "warning"]
        assert kernel.value("[e['response']['status'] for e in raised]") == ["failed", "failed", "incomplete"]
        assert kernel.value("len(widget.record.validate())") == 0
