"""widget.play(case) in JupyterLab: a case's spoken and typed turns played into live widgets (WebRTC with a
microphone, WebRTC without one, WebSocket), the browser mixing the synthesized speech into what it sends, the local
server hearing it, the replies recorded and the case's expectations passing; and Stop, pressed mid-turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab, KernelClient
from .lab_page import LabPage, nth_widget, open_widget_notebook, shoot_states
from .notebooks import write_notebook
from .speech import MIC_PHRASE

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]

TYPED = "Which region leads?"
SETUP = (
    "from realtime_widget import RealtimeWidget\n"
    "from realtime_widget.evals import Case, Say, Typed, expect\n"
    "talk = Case(\n"
    "    'north sales',\n"
    f"    [Say({MIC_PHRASE!r}), expect.said('Sales look good'), Typed({TYPED!r}), expect.said('north leads'),\n"
    "     expect.no_error()],\n"
    "    script=[{'say': 'Sales look good this month.'}, {'say': 'The north leads.'}],\n"
    ")\n"
    "long = Case('long demo', [Say('one two three four five six seven eight nine ten ' * 3), Typed('never sent')])"
)


def _play(widget: str, case: str = "talk", result: str = "result") -> str:
    return f"{result} = await {widget}.play({case})"


def _heard(kernel: KernelClient, widget: str) -> list[str]:
    """What the local server's recognizer heard of the played speech (the typed turn is left out)."""
    users = kernel.value(f"list({widget}.record.transcript.query('role == \"user\"').text)")
    return [text for text in users if text and text != TYPED]


def _check_passed(kernel: KernelClient, widget: str, result: str = "result") -> None:
    if not kernel.value(f"bool({result}.passed)"):
        transcript = kernel.value(f"{widget}.record.transcript[['started', 'role', 'text']].to_string()")
        steps = kernel.value(f"{widget}.record.timeline.query('what.str.startswith(\"eval_step\")').to_string()")
        pytest.fail(f"{kernel.value(f'repr({result}.passed)')}\n{transcript}\n{steps}")
    heard = _heard(kernel, widget)
    assert heard, "the local server heard nothing of the played speech"
    said = kernel.value(f"list({widget}.record.transcript.query('role == \"assistant\"').text)")
    assert said[-2:] == ["Sales look good this month.", "The north leads."], said
    assert kernel.value(f"len({widget}.record.validate())") == 0


def _stop_then_drop(lab_page: LabPage, kernel: KernelClient, local_server: LocalServer, artifacts: Path) -> None:
    """Two plays of the long case cut short: by Stop, then by the call dropping mid-turn."""
    page = lab_page.page
    first = nth_widget(0)
    banner = page.locator(f"{first} [data-testid=playing]")
    # Stop, mid-turn: the audio stops at once and the play ends as stopped; the screenshots show it playing.
    running = kernel.start(_play("widget", "long", "stopped"))
    title = page.locator(f"{first} [data-testid=playing-title]", has_text="Playing case long demo · step 1/2")
    title.wait_for(timeout=30_000)
    shots = shoot_states(lab_page, artifacts, "playing")
    assert set(shots) == {"light", "dark"}
    page.click(f"{first} [data-testid=playing-stop]")
    kernel.finish(running, timeout=60)
    banner.wait_for(state="hidden", timeout=10_000)
    failures = kernel.value("stopped.table.loc[0, 'failures']")
    assert "stopped: Stop was pressed" in failures[0], failures
    assert "play_stopped" in kernel.value("list(widget.record.timeline['what'])")
    assert not kernel.value("(widget.record.transcript.text == 'never sent').any()")

    # The call drops mid-turn: the play ends with a failure saying so, and the record keeps what came before.
    call_id = kernel.value("widget.call_id")
    running = kernel.start(_play("widget", "long", "dropped"))
    title.wait_for(timeout=30_000)
    local_server.drop_call(call_id)
    kernel.finish(running, timeout=60)
    banner.wait_for(state="hidden", timeout=10_000)
    failures = kernel.value("dropped.table.loc[0, 'failures']")
    assert "the connection dropped mid-play" in failures[0], failures
    assert kernel.value("(widget.record.transcript.text == 'The north leads.').any()")
    kernel.run("await widget.wait_for('connected', timeout=30)", timeout=60)  # it reconnects by itself


def test_a_case_plays_into_live_widgets_over_both_transports_with_and_without_a_microphone(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    name = write_notebook(
        lab.root_dir,
        "play.ipynb",
        SETUP,
        # Muted: the fake microphone speaks a phrase every ten seconds, which would be turns of its own.
        "widget = RealtimeWidget()\nwidget.mute()\nwidget",
        "receive_only = RealtimeWidget(microphone=False)\nreceive_only",
        "over_ws = RealtimeWidget(transport='websocket')\nover_ws.mute()\nover_ws",
    )
    kernel = open_widget_notebook(lab_page, name)
    page = lab_page.page
    first = nth_widget(0)
    try:
        # The kernel runs the code under test (not another copy of the package).
        assert kernel.value("__import__('realtime_widget').__file__").startswith(str(REPO)), "wrong package"
        # WebRTC with a (muted) microphone: the mixer takes over the sender, mic and speech on one track.
        kernel.run("widget.connect()\nawait widget.wait_for('connected', timeout=30)", timeout=60)
        running = kernel.start(_play("widget"))
        banner = page.locator(f"{first} [data-testid=playing]")
        banner.wait_for(state="visible", timeout=30_000)
        page.locator(f"{first} [data-testid=playing-title]", has_text="Playing case north sales · step").wait_for()
        kernel.finish(running, timeout=120)
        banner.wait_for(state="hidden", timeout=10_000)
        _check_passed(kernel, "widget")
        assert kernel.value("result.table.loc[0, 'case']") == "north sales"

        _stop_then_drop(lab_page, kernel, local_server, artifacts)

        # Without a microphone: the trackless sender is given the mixer's track, no new offer needed.
        kernel.run("receive_only.connect()\nawait receive_only.wait_for('connected', timeout=30)", timeout=60)
        # The microphone's answer (here: not asked for) may reach the kernel after "connected".
        kernel.wait_until("(receive_only.mic_off or {}).get('reason') == 'not_requested'")
        kernel.run(_play("receive_only"), timeout=120)
        _check_passed(kernel, "receive_only")

        # Over WebSocket: the capture worklet reads the mix.
        kernel.run("over_ws.connect()\nawait over_ws.wait_for('connected', timeout=30)", timeout=60)
        kernel.run(_play("over_ws"), timeout=120)
        _check_passed(kernel, "over_ws")
        assert kernel.value("over_ws.call_id") is None  # it really ran over WebSocket
        for n in range(3):  # every play's end reached its widget: no banner is left
            page.locator(f"{nth_widget(n)} [data-testid=playing]").wait_for(state="hidden", timeout=10_000)
    except Exception:
        print("\n".join(lab_page.console[-40:]))
        raise
    finally:
        kernel.run("widget.disconnect()\nreceive_only.disconnect()\nover_ws.disconnect()")
        kernel.close()
