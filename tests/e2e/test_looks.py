"""Screenshots of each state of the widget in JupyterLab Light and Dark, for a person to judge: idle, connected
mid-conversation, error, reconnecting, presentation mode, and a narrow notebook. Saved as
``state-<state>-<theme>.png`` in the artifacts folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab
from .lab_page import (
    WIDGET,
    LabPage,
    click_connect,
    open_widget_notebook,
    opened_widget,
    output_area,
    shoot_states,
    wait_for_status,
)
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

WIDE = {"width": 1280, "height": 1400}
DOCS = Path(__file__).resolve().parents[2] / "docs"
# Set to 1 to refresh docs/screenshot-light.png and -dark.png from this run's "connected" shots.
UPDATE_DOCS_ENV = "REALTIME_WIDGET_UPDATE_DOCS_SCREENSHOTS"
NARROW = {"width": 480, "height": 1400}  # the widget about 360 px wide


def _downscale(source: Path, target: Path, width: int = 900) -> None:
    from PIL import Image

    with Image.open(source) as image:
        height = round(image.height * width / image.width)
        image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).save(target, optimize=True)


def test_each_state_in_light_and_dark(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "looks.ipynb",
        "import secrets\n"
        "from realtime_widget import ConnectionOptions, RealtimeWidget\n"
        # A long backoff so the reconnecting state stays on screen for the screenshots.
        "options = ConnectionOptions(reconnect_base_delay_ms=30_000, reconnect_max_delay_ms=60_000)\n"
        "widget = RealtimeWidget(instructions='Answer in one short sentence.', connection=options)\nwidget",
        f"bad = RealtimeWidget(api_key='sk-' + 'obviously-fake-' + secrets.token_hex(6), "
        f"base_url={local_server.base_url!r})\nbad",
    )
    page.set_viewport_size(WIDE)
    kernel = open_widget_notebook(lab_page, name)
    try:
        lab_page.command("application:toggle-left-area")
        page.wait_for_function("() => window.jupyterapp.shell.leftCollapsed === true", timeout=10_000)
        page.wait_for_function(f"() => document.querySelectorAll('{WIDGET}').length === 2", timeout=60_000)
        first, second = output_area(lab_page, 0), output_area(lab_page, 1)

        shoot_states(lab_page, artifacts, "idle")

        # Connected, mid-conversation: two spoken turns from the fake microphone, answered by script.
        click_connect(lab_page, kernel)
        call_id = kernel.value("widget.call_id")
        answers = ["Sales were up nine percent this month.", "The north region leads, ahead of the south."]
        local_server.script([{"say": text} for text in [*answers, "Anything else?", "Anything else?"]], call_id=call_id)
        kernel.wait_until("(widget.record.transcript.role == 'assistant').sum() >= 2", timeout=60)
        first.locator("[data-testid=transcript]").get_by_text(answers[1]).wait_for(timeout=30_000)
        connected = shoot_states(lab_page, artifacts, "connected")
        if os.environ.get(UPDATE_DOCS_ENV) == "1":
            for theme, path in connected.items():
                _downscale(path, DOCS / f"screenshot-{theme}.png")

        # The same, in a narrow notebook.
        page.set_viewport_size(NARROW)
        page.wait_for_timeout(500)
        width = first.locator(WIDGET).bounding_box()["width"]
        print(f"narrow widget width: {width:.0f} px")
        shoot_states(lab_page, artifacts, "connected-narrow")
        page.set_viewport_size(WIDE)
        page.wait_for_timeout(500)

        # Presentation mode.
        kernel.run("widget.presentation = True")
        page.wait_for_selector(f"{WIDGET}.rtw-presentation", timeout=30_000)
        shoot_states(lab_page, artifacts, "presentation")
        kernel.run("widget.presentation = False")
        first.locator(f"{WIDGET}:not(.rtw-presentation)").wait_for(timeout=30_000)

        # Reconnecting: right after the server drops the call.
        kernel.run("widget.mute()")
        local_server.drop_call(call_id)
        wait_for_status(lab_page, "reconnecting")
        shoot_states(lab_page, artifacts, "reconnecting")
        # The kernel hears of the drop on its own path (the status trait or the timeline batch), which can be behind
        # the page: wait until it has (or the call is back already), then check it is still reconnecting.
        kernel.wait_until("widget.status != 'connected' or list(widget.record.timeline['what']).count('connected') > 1")
        assert kernel.value("widget.status") == "reconnecting", "reconnected before the screenshots were taken"
        kernel.run("widget.disconnect()")
        kernel.wait_until("widget.status == 'closed'")

        # Error: the second widget's key is rejected.
        second.locator("[data-testid=connect]").click()
        kernel.wait_until("bad.error.get('code') == 'bad_key'")
        second.locator("[data-testid=error]").wait_for(state="visible", timeout=30_000)
        shoot_states(lab_page, artifacts, "error", index=1)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
        kernel.run("widget.disconnect()")
        kernel.close()


def test_problems_mcp_calls_and_a_cut_reply_in_light_and_dark(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "looks_problems.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(turn_detection=None)\nwidget",
    )
    page.set_viewport_size(WIDE)
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        mcp = {"server_label": "docs", "name": "search", "arguments": {"q": "pricing plans"}, "output": "3 plans"}
        local_server.script(
            [{"mcp_call": mcp, "say": "The docs list three plans."}, {"fail": "insufficient_quota"}],
            call_id=kernel.value("widget.call_id"),
        )
        kernel.run("widget.send_text('What plans are there?')")
        page.locator(f"{WIDGET} .rtw-tool[data-state=done]").wait_for(timeout=30_000)
        kernel.wait_until("(widget.record.transcript.text == 'The docs list three plans.').any()")
        kernel.run("widget.send_text('And the prices?')")
        page.locator(f"{WIDGET} [data-testid=notice][data-code=insufficient_quota]").wait_for(timeout=30_000)
        shoot_states(lab_page, artifacts, "problems")
