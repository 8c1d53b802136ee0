"""The fault matrix's kernel rows (FAULTS.md), in real JupyterLab and Chromium: a tool that hangs past its timeout,
the disk full during autosave, and the kernel restarted while connected. Each checks the widget, Python, the
status, and that the record (in memory, or on disk when the kernel is gone) still holds everything from before."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .faults import assert_record_kept, converse
from .harness import JupyterLab
from .lab_page import WIDGET, LabPage, open_widget_notebook, opened_widget, shoot_states
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e


# Looks at an autosave folder while autosave keeps replacing it. A save is swapped in whole, but a load that runs
# across a swap can read one file from the save before and the next from the save after (found by these tests; a
# load is not atomic against a concurrent save): such a look returns None and the next one sees a whole save.
LATEST_SAVE_CELL = (
    "from realtime_widget import SessionRecord\n"
    "from realtime_widget.record.persist import SessionLoadError\n"
    "def latest_save(folder):\n"
    "    try:\n"
    "        return SessionRecord.load(folder)\n"
    "    except (SessionLoadError, FileNotFoundError):\n"
    "        return None"
)


def _wait_call_gone(server: LocalServer, call_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while call_id in {call["call_id"] for call in server.calls()}:
        assert time.monotonic() < deadline, f"{call_id} is still open on the server"
        time.sleep(0.1)


def test_tool_hangs_past_its_timeout(lab_page: LabPage, lab: JupyterLab, local_server: LocalServer) -> None:
    page = lab_page.page
    name = write_notebook(
        lab.root_dir,
        "fault_tool_hangs.ipynb",
        "import threading\n"
        "from realtime_widget import RealtimeWidget, tool\n"
        "release = threading.Event()\n"
        "@tool(timeout_s=1)\n"
        "def lookup(region: str) -> str:\n"
        '    """Looks a region up (and hangs, as a stuck network call does)."""\n'
        "    release.wait()\n"
        "    return 'too late'\n",
        "widget = RealtimeWidget(tools=[lookup], turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        try:
            before = converse(lab_page, kernel, local_server, "Answered before the tool hung.")
            after_tool = "The lookup took too long, sorry."
            local_server.script(
                [{"call_tool": {"name": "lookup", "arguments": {"region": "north"}}}, {"say": after_tool}],
                call_id=before.call_id,
            )
            kernel.run("widget.send_text('Look up the north.')")

            # In the widget: the call, failed, saying it timed out.
            tool = page.locator(f"{WIDGET} [data-testid=transcript] .rtw-tool[data-state=error]")
            tool.wait_for(timeout=30_000)
            shown = tool.locator(".rtw-tool-result").inner_text()
            assert "did not finish within 1 s" in shown, shown
            # In Python: the record's tool call, with the same words.
            kernel.wait_until("len(widget.record.tool_calls) == 1 and widget.record.tool_calls.error.notna().all()")
            error = kernel.value("widget.record.tool_calls.error.iloc[0]")
            assert "did not finish within 1 s" in error, error
            assert "still be running in the background" in error  # a thread cannot be stopped: said, not hidden
            # The model was told, answered, and the session goes on.
            kernel.wait_until(f"(widget.record.transcript.text == {after_tool!r}).any()")
            outputs = kernel.value(
                "[__import__('json').loads(p)['item'].get('output') for p in "
                "widget.record.events.query(\"type == 'conversation.item.create'\").payload]"
            )
            assert any(output and "did not finish" in output for output in outputs), outputs
            assert kernel.value("widget.status") == "connected"
            assert page.is_visible(f"{WIDGET} [data-testid=status][data-status=connected]")
            assert_record_kept(lab_page, kernel, before)
        finally:
            kernel.run("release.set()")


def _in_private_mount_namespace() -> bool:
    # scripts/in-loopback-netns gives the tests a mount namespace of their own (and says so); a mount anywhere else
    # would be seen by the whole machine.
    return os.environ.get("IN_PRIVATE_MOUNT_NAMESPACE") == "1"


@contextlib.contextmanager
def _tiny_disk(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path``: a real file system that really fills up (ENOSPC)."""
    if not _in_private_mount_namespace():
        pytest.skip("needs the private mount namespace of scripts/in-loopback-netns to mount a small tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=False)
    if mounted.returncode != 0:
        pytest.skip("could not mount a tmpfs (not root in this namespace)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def _fill(disk: Path) -> Path:
    """Fills ``disk`` to the last byte with one file; returns it."""
    filler = disk / "filler"
    # Unbuffered, so each write meets the full disk itself (a buffered one would fail again on close).
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 4096, 512, 1):  # down to the last byte, so not even a small file fits
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    try:
        (disk / "probe").write_bytes(b"\0" * 4096)
    except OSError as exc:
        full = exc
    else:
        raise AssertionError(f"{disk} is not full")
    assert full.errno == errno.ENOSPC, full
    return filler


def test_disk_full_during_autosave(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, tmp_path: Path
) -> None:
    page = lab_page.page
    with _tiny_disk(tmp_path / "disk") as disk:
        folder = disk / "sessions"
        name = write_notebook(
            lab.root_dir,
            "fault_disk_full.ipynb",
            LATEST_SAVE_CELL,
            "from realtime_widget import RealtimeWidget\n"
            f"widget = RealtimeWidget(turn_detection=None, autosave={str(folder)!r}, autosave_every_s=0.5)\nwidget",
        )
        with opened_widget(lab_page, name) as kernel:
            before = converse(lab_page, kernel, local_server, "Answered before the disk filled up.")
            where = f"{str(folder)!r} + '/' + widget.record.session_id"
            saved = f"SessionRecord.load({where})"  # while the disk is full no save lands: a plain load
            latest = f"(latest_save({where}) or SessionRecord())"
            kernel.wait_until(f"({latest}.transcript.text == {before.answer!r}).any()")

            filler = _fill(disk)
            during = "Answered while the disk was full."
            local_server.script([{"say": during}], call_id=before.call_id)
            kernel.run("widget.send_text('A question while the disk is full.')")
            kernel.wait_until(f"(widget.record.transcript.text == {during!r}).any()")

            # In the widget: an error notice that names the folder and the cause, once.
            notice = page.locator(f"{WIDGET} [data-testid=notice][data-level=error]", has_text="Autosave")
            notice.wait_for(timeout=30_000)
            shown = notice.text_content() or ""
            assert "No space left on device" in shown, shown
            assert "the last good save is kept" in shown, shown
            # In Python: the kernel's timeline says so, with the same cause.
            kernel.wait_until("'autosave_failed' in list(widget.record.timeline['what'])")
            detail = kernel.value("widget.record.timeline.query(\"what == 'autosave_failed'\").detail.iloc[0]")
            assert "No space left on device" in detail, detail
            # The connection goes on; the last good save is intact and loads; memory has everything.
            assert kernel.value("widget.status") == "connected"
            assert kernel.value(f"({saved}.transcript.text == {before.answer!r}).any()")
            assert not kernel.value(f"({saved}.transcript.text == {during!r}).any()")
            assert_record_kept(lab_page, kernel, before)
            assert kernel.value(f"(widget.record.transcript.text == {during!r}).any()")

            # Space again: the next autosave catches up, with what was said meanwhile.
            filler.unlink()
            kernel.wait_until(f"({latest}.transcript.text == {during!r}).any()", timeout=60)
            assert kernel.value("list(widget.record.timeline['what']).count('autosave_failed')") == 1
            assert page.locator(f"{WIDGET} [data-testid=notice][data-level=error]", has_text="Autosave").count() == 1


def test_kernel_restarted_while_connected(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, tmp_path: Path, artifacts: Path
) -> None:
    page = lab_page.page
    folder = tmp_path / "sessions"
    name = write_notebook(
        lab.root_dir,
        "fault_kernel_restart.ipynb",
        LATEST_SAVE_CELL,
        "from realtime_widget import RealtimeWidget\n"
        f"widget = RealtimeWidget(turn_detection=None, autosave={str(folder)!r}, autosave_every_s=0.5)\nwidget",
    )
    kernel = open_widget_notebook(lab_page, name)
    try:
        before = converse(lab_page, kernel, local_server, "Answered before the kernel restarted.")
        session_id = kernel.value("widget.record.session_id")
        saved = f"__import__('realtime_widget').SessionRecord.load({str(folder / session_id)!r})"
        # The last autosave before the restart holds everything up to the answer.
        kernel.wait_until(f"len(latest_save({str(folder / session_id)!r}) or []) >= {before.events}")
    finally:
        kernel.close()

    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
    # The widget ends its call (its kernel, which would record it and run its tools, is gone) and says so.
    text = wait_failed_in_page(lab_page, "kernel_lost")
    assert "restarted or stopped" in text, text
    assert "autosave" in text, text
    _wait_call_gone(local_server, before.call_id)
    transcript = page.locator(f"{WIDGET} [data-testid=transcript]")
    assert transcript.get_by_text(before.answer).count() == 1  # the page still shows the conversation
    shoot_states(lab_page, artifacts, "fault-kernel-lost")

    # The new kernel knows no widget; the record is on disk, with everything from before the restart.
    lab_page.wait_kernel_idle()
    fresh = lab.kernel_client(name)
    try:
        assert fresh.value("'widget' not in globals()")
        assert fresh.value(f"len({saved}.events)") >= before.events
        assert fresh.value(f"({saved}.transcript.text == {before.answer!r}).any()")
        assert fresh.value(f"len({saved}.validate())") == 0
    finally:
        fresh.close()


def wait_failed_in_page(lab_page: LabPage, code: str) -> str:
    """The widget's error panel once it shows ``code`` (for failures no kernel hears of); returns its text."""
    page = lab_page.page
    page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=failed]", timeout=60_000)
    error = page.locator(f"{WIDGET} [data-testid=error]")
    error.wait_for(state="visible", timeout=30_000)
    text = error.inner_text()
    assert code in text, text
    return text
