"""Each control of the widget in real JupyterLab and Chromium against the local server, checked twice: in the DOM
and in the kernel (the traits and ``widget.record``)."""

from __future__ import annotations

import json

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab, KernelClient
from .lab_page import (
    WIDGET,
    LabPage,
    click_connect,
    connect_scripted,
    event_types,
    open_widget_notebook,
    opened_widget,
    status_selector,
    wait_for_status,
)
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

LONG_ANSWER = (
    "Here is a long answer about the quarterly sales figures, region by region, with every number spelled out "
    "slowly, so that there is plenty of time to interrupt it before it ends, and it keeps going for a while longer."
)


def _ptt_notebook(lab: JupyterLab, name: str) -> str:
    # No automatic turns: the fake microphone's phrase does not start responses on its own.
    return write_notebook(
        lab.root_dir,
        name,
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(turn_detection=None)\nwidget",
    )


def _response_status(kernel: KernelClient, response_id: str) -> str | None:
    payloads = kernel.value(
        "list(widget.record.events.query(\"type == 'response.done'\").payload)",
    )
    for payload in payloads:
        response = json.loads(payload)["response"]
        if response["id"] == response_id:
            return str(response["status"])
    return None


def test_mute_text_box_and_interrupt(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    with opened_widget(lab_page, _ptt_notebook(lab, "controls.ipynb")) as kernel:
        click_connect(lab_page, kernel)
        call_id = kernel.value("widget.call_id")

        # Mute: the button's state and the kernel trait follow each other, both ways.
        mute = page.locator(f"{WIDGET} [data-testid=mute]")
        mute.click()
        kernel.wait_until("widget.muted is True")
        assert mute.get_attribute("aria-pressed") == "true"
        mute.click()
        kernel.wait_until("widget.muted is False")
        assert mute.get_attribute("aria-pressed") == "false"
        kernel.run("widget.mute()")
        page.wait_for_selector(f"{WIDGET} [data-testid=mute][aria-pressed=true]", timeout=30_000)
        kernel.run("widget.unmute()")
        page.wait_for_selector(f"{WIDGET} [data-testid=mute][aria-pressed=false]", timeout=30_000)

        # The text box and Send: the typed line and the answer, in the transcript and in the record.
        answer = "Typed questions get typed answers."
        local_server.script([{"say": answer}], call_id=call_id)
        page.fill(f"{WIDGET} [data-testid=text-input]", "How are sales this week?")
        page.click(f"{WIDGET} [data-testid=send]")
        transcript = page.locator(f"{WIDGET} [data-testid=transcript]")
        transcript.get_by_text("How are sales this week?").wait_for(timeout=30_000)
        transcript.get_by_text(answer).wait_for(timeout=30_000)
        assert page.input_value(f"{WIDGET} [data-testid=text-input]") == ""
        kernel.wait_until(f"(widget.record.transcript.text == {answer!r}).any()")
        lines = kernel.value("widget.record.transcript[['role', 'text']].to_dict('records')")
        assert {"role": "user", "text": "How are sales this week?"} in lines
        assert {"role": "assistant", "text": answer} in lines

        # Interrupt while the assistant speaks: response.cancel and output_audio_buffer.clear go out, the
        # response ends cancelled.
        kernel.wait_until("(widget.record.events.type == 'output_audio_buffer.stopped').any()")
        response_id = local_server.say(call_id, LONG_ANSWER)
        kernel.wait_until(
            f"(widget.record.events.query(\"type == 'output_audio_buffer.started'\").response_id == {response_id!r})"
            ".any()"
        )
        page.click(f"{WIDGET} [data-testid=interrupt]")
        kernel.wait_until(
            f"(widget.record.events.query(\"type == 'response.done'\").response_id == {response_id!r}).any()"
        )
        sent = event_types(kernel, "client")
        assert "response.cancel" in sent
        assert "output_audio_buffer.clear" in sent
        assert _response_status(kernel, response_id) == "cancelled"
        page.wait_for_selector(f"{WIDGET} [data-testid=transcript] [data-interrupted=true]", timeout=30_000)
        assert kernel.value("len(widget.record.validate())") == 0, kernel.value(
            "widget.record.validate().to_dict('records')"
        )


def test_push_to_talk(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    with opened_widget(lab_page, _ptt_notebook(lab, "ptt.ipynb")) as kernel:
        ptt = page.locator(f"{WIDGET} [data-testid=ptt]")
        assert ptt.is_visible()  # turn detection off: the button is offered
        answer = "I heard you through push to talk."
        connect_scripted(lab_page, kernel, local_server, [{"say": answer}])

        # Hold the button for a full cycle of the fake microphone (it speaks a phrase every ~10 s).
        ptt.hover()
        page.mouse.down()
        page.wait_for_selector(f"{WIDGET} [data-testid=ptt][aria-pressed=true]", timeout=5_000)
        page.wait_for_timeout(2_500)
        page.mouse.up()
        page.wait_for_selector(f"{WIDGET} [data-testid=ptt][aria-pressed=false]", timeout=5_000)

        kernel.wait_until(f"(widget.record.transcript.text == {answer!r}).any()", timeout=30)
        sent = event_types(kernel, "client")
        assert sent.count("input_audio_buffer.clear") >= 1
        assert "input_audio_buffer.commit" in sent
        assert sent.index("input_audio_buffer.commit") < sent.index("response.create")
        assert "input_audio_buffer.committed" in event_types(kernel, "server")
        page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(answer).wait_for(timeout=30_000)


def test_settings_presentation_and_event_log(lab_page: LabPage, lab: JupyterLab) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "settings.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(voice='marin')\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        # Settings edited in the UI before connecting reach the kernel, and the session the connect makes: the key
        # is minted with them, so the call's session.created already carries them (no session.update needed).
        page.select_option(f"{WIDGET} [data-testid=voice]", "coral")
        instructions = "Answer like a ship's captain."
        page.fill(f"{WIDGET} [data-testid=instructions]", instructions)
        page.locator(f"{WIDGET} [data-testid=instructions]").blur()
        kernel.wait_until(
            f"widget.settings['voice'] == 'coral' and widget.settings['instructions'] == {instructions!r}"
        )
        assert kernel.value("widget.config.voice") == "coral"
        assert kernel.value("widget.config.instructions") == instructions
        assert "coral" in page.inner_text(f"{WIDGET} [data-testid=settings-summary]")

        click_connect(lab_page, kernel)
        kernel.wait_until("(widget.record.events.type == 'session.created').any()")
        created = json.loads(kernel.value("widget.record.events.query(\"type == 'session.created'\").payload.iloc[-1]"))
        assert created["session"]["instructions"] == instructions
        assert created["session"]["audio"]["output"]["voice"] == "coral"
        kernel.wait_until("(widget.record.timeline.what == 'session_updated').any()")
        configured = kernel.value("widget.record.timeline.query('what == \"session_updated\"').detail.iloc[-1]")
        assert json.loads(configured) == {"by": "key"}, configured
        assert not kernel.value("(widget.record.events.type == 'session.update').any()")
        assert page.is_disabled(f"{WIDGET} [data-testid=voice]")  # locked while connected

        # Presentation mode: the button sets the trait, the trait sets the look.
        page.click(f"{WIDGET} [data-testid=presentation]")
        kernel.wait_until("widget.presentation is True")
        page.wait_for_selector(f"{WIDGET}.rtw-presentation", timeout=30_000)
        kernel.run("widget.presentation = False")
        page.wait_for_selector(f"{WIDGET}:not(.rtw-presentation)", timeout=30_000)
        assert page.get_attribute(f"{WIDGET} [data-testid=presentation]", "aria-pressed") == "false"

        # The event log: filter by type, open a row, read its payload as text.
        log = page.locator(f"{WIDGET} [data-testid=event-log]")
        page.fill(f"{WIDGET} [data-testid=event-filter]", "session.created")
        page.wait_for_function(
            """(sel) => { const rows = [...document.querySelectorAll(sel + ' .rtw-log-row')];
                return rows.length > 0 && rows.every(r => r.dataset.type === 'session.created'); }""",
            arg=f"{WIDGET} [data-testid=event-log]",
            timeout=30_000,
        )
        row = log.locator(".rtw-log-row").first
        row.click()
        assert row.get_attribute("aria-expanded") == "true"
        payload = log.locator("[data-testid=event-payload]").first
        shown = json.loads(payload.inner_text())
        assert shown["type"] == "session.created"
        assert shown["session"]["audio"]["output"]["voice"] == "coral"
        assert payload.evaluate("el => el.children.length") == 0  # text, not markup
        page.fill(f"{WIDGET} [data-testid=event-filter]", "no.such.event")
        page.wait_for_selector(f"{WIDGET} .rtw-log-empty >> text=No events match the filter.", timeout=30_000)
        page.fill(f"{WIDGET} [data-testid=event-filter]", "")
        log.locator(".rtw-log-row").first.wait_for(timeout=30_000)  # every row back


def test_python_commands_reach_the_browser(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    kernel = open_widget_notebook(lab_page, _ptt_notebook(lab, "commands.ipynb"))
    try:
        answer = "Python asked, the browser sent it."
        call_id = connect_scripted(lab_page, kernel, local_server, [{"say": answer}])

        # send_text: the browser sends the item and response.create, and records them as its own events.
        kernel.run("widget.send_text('Sent from a cell.')")
        transcript = page.locator(f"{WIDGET} [data-testid=transcript]")
        transcript.get_by_text("Sent from a cell.").wait_for(timeout=30_000)
        transcript.get_by_text(answer).wait_for(timeout=30_000)
        # The page shows the events as they happen; the batch reporting them reaches the kernel afterwards.
        kernel.wait_until(
            "{'conversation.item.create', 'response.create'} "
            "<= set(widget.record.events.query(\"direction == 'client'\")['type'])"
        )

        # cancel_response: a long answer stopped from Python.
        kernel.wait_until("(widget.record.events.type == 'output_audio_buffer.stopped').any()")
        response_id = local_server.say(call_id, LONG_ANSWER)
        kernel.wait_until(
            f"(widget.record.events.query(\"type == 'response.created'\").response_id == {response_id!r}).any()"
        )
        kernel.run("widget.cancel_response()")
        kernel.wait_until(
            f"(widget.record.events.query(\"type == 'response.done'\").response_id == {response_id!r}).any()"
        )
        assert _response_status(kernel, response_id) == "cancelled"
        assert "response.cancel" in event_types(kernel, "client")

        # disconnect: the browser hangs up and says so.
        kernel.run("widget.disconnect()")
        wait_for_status(lab_page, "closed")
        kernel.wait_until("widget.status == 'closed'")
        assert page.is_visible(f"{WIDGET} [data-testid=connect]")
        assert not page.is_visible(status_selector("connected"))
        # The closed status can reach the kernel (as a trait) before the batch with the timeline entry.
        kernel.wait_until("'closed' in set(widget.record.timeline['what'])")
    finally:
        kernel.close()
