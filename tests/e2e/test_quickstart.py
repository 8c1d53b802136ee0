"""The quickstart notebook in real JupyterLab and Chromium, talking to the local server over real WebRTC."""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import pytest

from .harness import JupyterLab
from .lab_page import LabPage

pytestmark = pytest.mark.e2e

WIDGET = ".rtw-root"
EPHEMERAL_KEY = re.compile(r"ek_[A-Za-z0-9_-]+")


def _saved_with_widget_state(path: Path, written_before: int, timeout: float = 30) -> str:
    """The notebook's text once it has been written again (after ``written_before``, an ``st_mtime_ns``) with the
    widget state in its metadata; the last text read if that does not happen within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        written_again = path.stat().st_mtime_ns != written_before  # before reading: the text is at least as new
        text = path.read_text()
        with contextlib.suppress(ValueError):  # read while the file was being written
            if written_again and "widgets" in json.loads(text)["metadata"]:
                return text
        if time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_quickstart_connects_records_and_disconnects(lab_page: LabPage, lab: JupyterLab, artifacts: Path) -> None:
    page = lab_page.page
    lab_page.open_notebook("quickstart.ipynb")
    lab_page.run_all_cells()
    page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
    lab_page.wait_kernel_idle()
    kernel = lab.kernel_client("quickstart.ipynb")
    try:
        assert kernel.value("widget.status") == "idle"
        assert kernel.value("widget.server_label") == "Local server (offline)"

        clicked = time.monotonic()
        page.click(f"{WIDGET} [data-testid=connect]")
        page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
        connect_ms = (time.monotonic() - clicked) * 1000
        print(f"click to connected: {connect_ms:.0f} ms")
        kernel.wait_until("widget.status == 'connected'", timeout=10)
        # The click used the key the kernel pushed when the widget was displayed: no kernel round trip.
        kernel.wait_until("'mint_end' in set(widget.record.timeline['what'])", timeout=10)
        mint_end = kernel.value("str(widget.record.timeline.query('what == \"mint_end\"')['detail'].iloc[0])")
        assert '"key":"prewarmed"' in mint_end.replace(" ", ""), mint_end

        # The browser reports what crossed the data channel in batches; the kernel records it.
        kernel.wait_until("'session.created' in set(widget.record.events['type'])", timeout=10)
        types = kernel.value("list(widget.record.events['type'])")
        # The pre-warmed key was minted with the widget's settings: the session is made with them, and connecting
        # needs no session.update (docs/wire.md "Pre-warmed key").
        assert "session.update" not in types
        assert kernel.value("len(widget.record.validate())") == 0, kernel.value(
            "widget.record.validate().to_dict('records')"
        )

        page.wait_for_timeout(1500)  # let the stats strip and meters fill in for the screenshots
        widget = page.locator(WIDGET).first
        widget.screenshot(path=str(artifacts / "quickstart-connected-light.png"))
        lab_page.set_theme("JupyterLab Dark")
        widget.screenshot(path=str(artifacts / "quickstart-connected-dark.png"))
        lab_page.set_theme("JupyterLab Light")

        page.click(f"{WIDGET} [data-testid=disconnect]")
        kernel.wait_until("widget.status == 'closed'", timeout=15)
        # The closed status can reach the kernel (as a trait) before the batch with the timeline entry.
        kernel.wait_until("'closed' in set(widget.record.timeline['what'])", timeout=15)
        assert "connected" in kernel.value("list(widget.record.timeline['what'])")

        # The ephemeral keys reached the browser over the comm only (pre-warmed: pushed when the widget was shown
        # and again after the connect); they are nowhere else: not in the page, the console, the saved notebook's
        # widget state, the kernel's record or its reprs.
        kernel.wait_until("list(widget.record.timeline['what']).count('key_prewarmed') >= 2", timeout=15)
        keys = {key for frame in lab_page.frames_received for key in EPHEMERAL_KEY.findall(frame)}
        assert len(keys) >= 2, "fewer ephemeral keys on the wire than pre-warming pushes: this check would prove little"
        notebook = lab.root_dir / "quickstart.ipynb"
        written_before = notebook.stat().st_mtime_ns
        lab_page.save()
        saved = _saved_with_widget_state(notebook, written_before)
        assert "widgets" in json.loads(saved)["metadata"], "widget state was not saved"
        places = {
            "saved notebook": saved,
            "DOM": page.content(),
            "console": "\n".join(lab_page.console),
            "repr": kernel.value("repr(widget) + repr(widget.record) + repr(widget.config)"),
            "record": kernel.value("widget.record.events.to_json() + widget.record.timeline.to_json()"),
            "widget state": kernel.value("str(widget.get_state())"),
        }
        for key in keys:
            for place, text in places.items():
                assert key not in text, f"the ephemeral key leaked into the {place}"
    finally:
        kernel.close()
