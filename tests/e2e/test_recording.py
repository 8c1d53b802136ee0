"""Recording both sides in the browser (``RealtimeWidget(record_audio=True)``), end to end in real JupyterLab over
real WebRTC: the fake microphone speaks an eSpeak NG phrase every eleven seconds (tests/e2e/speech.py), the local
server answers, and the browser sends both sides' audio to the kernel in numbered chunks.

One conversation checks: the console's recording mark (screenshots light and dark); both sides on disk while the
call runs; a page reload mid-session that loses no chunk (each page's sequence numbers contiguous on the kernel, the
audio up to the reload kept); the saved FLAC files as long as the session; and each turn's acoustic latency beside
the browser's own level-based measure of the same gap.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import realtime_widget
from realtime_widget.server.launcher import LocalServer

from .faults import websocket_call
from .harness import JupyterLab, KernelClient
from .lab_page import WIDGET, LabPage, click_connect, opened_widget, shoot_states, wait_for_status
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

MARK = f"{WIDGET} [data-testid=recording]"
REPLY = "The north sold forty two units this week."
#: The acoustic latency and the browser's level-based voice-to-voice latency measure one gap from two signals:
#: the recorded sound (5 ms windows) and the meters (sampled every animation frame, smoothed). A wrong turn or a
#: misplaced chunk would be off by seconds.
SAME_GAP_MS = 250


def _audio_end_ms(kernel: KernelClient, side: str) -> float:
    return float(kernel.value(f"widget.record.audio.{side}.end.value / 1e6"))


def _no_chunk_lost(kernel: KernelClient) -> dict[str, dict[str, int]]:
    """Every page's chunks arrived without a hole: nothing skipped, nothing waiting for a missing predecessor."""
    assert kernel.value("widget._audio_inbox.skipped()") == 0
    assert kernel.value("widget._audio_inbox.held()") == 0
    received: dict[str, dict[str, int]] = kernel.value("widget._audio_inbox.received()")
    return received


def _wait_replies(kernel: KernelClient, count: int, *, websocket: bool = False) -> None:
    """Until ``count`` replies have been heard (a transcript comes before its audio has played): over WebRTC the
    server says so (``output_audio_buffer.stopped``); over WebSocket, where the browser plays and the API sends no
    such event, the recorded reply is there to be measured. Generous: on a loaded machine the local server's
    recognition of a spoken turn can take a while, and a late reply may be cut short by the next phrase."""
    heard = (
        "widget.record.turns.acoustic_latency_ms.notna().sum()"
        if websocket
        else "(widget.record.events.type == 'output_audio_buffer.stopped').sum()"
    )
    kernel.wait_until(f"{heard} >= {count}", timeout=150)


def _reload(lab_page: LabPage, kernel: KernelClient, name: str) -> float:
    """Reloads the page mid-call; returns where the user's audio ends once the old page's chunks are in (ms)."""
    page = lab_page.page
    lab_page.save()
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    reloaded_at = time.time()
    page.reload()
    lab_page.open_notebook(name)
    page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
    wait_for_status(lab_page, "closed")
    kernel.wait_until("widget.status == 'closed'")
    # The audio reaches up to the reload: the last half-second went out as the page hid.
    kernel.wait_until(f"widget.record.audio.user.end.value / 1e9 > {reloaded_at - 0.6}", timeout=15)
    return _audio_end_ms(kernel, "user")


def _check_saved(kernel: KernelClient, folder: Path) -> dict[str, float]:
    """The saved files, loaded back, last as long as the session: from the first moment audio could flow (the call
    connected and the microphone ready, whichever came last: with a pre-warmed connect the microphone is often
    ready before the call) to the last hang-up."""
    kernel.run(f"saved = widget.record.save({str(folder)!r})")
    span_s = kernel.value(
        "(lambda t: (t[t.what.isin(['closed', 'disconnected'])].time.max()"
        " - max(t[t.what == 'mic_ready'].time.min(), t[t.what == 'connected'].time.min())).total_seconds())"
        "(widget.record.timeline)"
    )
    durations: dict[str, float] = kernel.value(
        "(lambda audio: {s: len(getattr(audio, s).samples) / getattr(audio, s).sample_rate"
        " for s in ('user', 'assistant')})(type(widget.record).load(saved).audio)"
    )
    edges = kernel.value(
        "(lambda t, a: {'mic_ready': str(t[t.what == 'mic_ready'].time.min()),"
        " 'connected': str(t[t.what == 'connected'].time.min()),"
        " 'end': str(t[t.what.isin(['closed', 'disconnected'])].time.max()),"
        " **{s: (str(getattr(a, s).start), str(getattr(a, s).end)) for s in ('user', 'assistant')}})"
        "(widget.record.timeline, widget.record.audio)"
    )
    for side, seconds in durations.items():
        assert seconds == pytest.approx(span_s, rel=0.02), (side, seconds, span_s, edges)
    assert "audio_user.flac" in kernel.value("widget.record.summary()")
    return {**durations, "session": span_s}


def _check_acoustic_latency(kernel: KernelClient, turns_at_least: int) -> list[dict[str, float | None]]:
    """Each answered turn's latency from the recorded sound, beside the browser's meters measuring the same gap."""
    turns: list[dict[str, float | None]] = kernel.value(
        "(lambda t: t.astype(object).where(t.notna(), None).to_dict('records'))"
        "(widget.record.turns[['acoustic_latency_ms', 'voice_to_voice_ms', 'latency_ms']])"
    )
    measured = [t for t in turns if t["acoustic_latency_ms"] is not None]
    assert len(measured) >= turns_at_least, turns
    for turn in measured:
        acoustic, meters = turn["acoustic_latency_ms"], turn["voice_to_voice_ms"]
        assert acoustic is not None
        assert acoustic > 0, turns
        if meters is not None:
            assert acoustic == pytest.approx(meters, abs=SAME_GAP_MS), turns
    return turns


def test_a_spoken_conversation_is_recorded_through_a_reload(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path, tmp_path: Path
) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "recording.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(record_audio=True)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        assert kernel.value("__import__('realtime_widget').__file__") == realtime_widget.__file__  # this checkout
        # Consent: the mark is there before anything is said, and turns live once the call records.
        mark = page.locator(MARK)
        mark.wait_for(state="visible")
        assert mark.get_attribute("data-live") == "false"
        assert mark.inner_text() == "Records audio"
        shoot_states(lab_page, artifacts, "recording-idle")
        click_connect(lab_page, kernel)
        page.wait_for_selector(f"{MARK}[data-live=true]")
        assert mark.inner_text() == "Recording"
        local_server.script([{"say": REPLY}] * 4, call_id=kernel.value("widget.call_id"))

        _wait_replies(kernel, 1)
        shoot_states(lab_page, artifacts, "recording")
        kernel.wait_until("widget.record.audio.user is not None and widget.record.audio.assistant is not None")
        before = _no_chunk_lost(kernel)
        assert len(before) == 1  # one page so far

        # A reload mid-session: the page's last partial chunks and anything unacknowledged reach the kernel.
        kept_user_end = _reload(lab_page, kernel, name)
        page.wait_for_selector(f"{MARK}[data-live=false]")

        click_connect(lab_page, kernel)
        local_server.script([{"say": REPLY}] * 4, call_id=kernel.value("widget.call_id"))
        _wait_replies(kernel, 2)
        kernel.run("widget.disconnect()")
        kernel.wait_until("widget.status == 'closed'")
        page.wait_for_selector(f"{MARK}[data-live=false]")

        # The two pages' chunks, each numbered from 1 without a hole; the first page's audio still there.
        after = kernel.wait_until("len(widget._audio_inbox.received()) == 2 and widget._audio_inbox.received()")
        assert _no_chunk_lost(kernel) == after
        first_page = next(iter(before))
        assert after[first_page]["user"] >= before[first_page]["user"]
        assert _audio_end_ms(kernel, "user") > kept_user_end

        durations = _check_saved(kernel, tmp_path / "saved")
        turns = _check_acoustic_latency(kernel, 1)
        print("\nWebRTC turns (acoustic, browser meters, events):", turns, "durations s:", durations)


def test_over_websocket_both_sides_are_recorded_too(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, tmp_path: Path
) -> None:
    # Over WebSocket the browser plays the reply itself: the assistant side is the playback worklet's output.
    name = write_notebook(
        lab.root_dir,
        "recording_websocket.ipynb",
        "from realtime_widget import RealtimeWidget\n"
        "widget = RealtimeWidget(record_audio=True, transport='websocket')\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        lab_page.page.click(f"{WIDGET} [data-testid=connect]")
        wait_for_status(lab_page, "connected")
        kernel.wait_until("widget.status == 'connected'")
        assert kernel.value("widget.call_id") is None  # no WebRTC call: the WebSocket it is
        lab_page.page.wait_for_selector(f"{MARK}[data-live=true]")
        local_server.script([{"say": REPLY}] * 4, call_id=websocket_call(kernel, local_server))
        _wait_replies(kernel, 1, websocket=True)
        # A session long enough that the recorder's start-up (a tenth of a second) is inside 2 %.
        kernel.wait_until("widget.record.audio.user.duration_s >= 12", timeout=60)
        kernel.run("widget.disconnect()")
        kernel.wait_until("widget.status == 'closed'")
        received = kernel.wait_until("widget._audio_inbox.received()")
        assert set(next(iter(received.values()))) == {"user", "assistant"}
        _no_chunk_lost(kernel)
        durations = _check_saved(kernel, tmp_path / "saved")
        turns = _check_acoustic_latency(kernel, 1)
        print("\nWebSocket turns (acoustic, browser meters, events):", turns, "durations s:", durations)
