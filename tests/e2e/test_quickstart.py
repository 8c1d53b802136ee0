"""The quickstart notebook in real JupyterLab and Chromium, talking to the local server over real WebRTC."""

from __future__ import annotations

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

        # The browser reports what crossed the data channel in batches; the kernel records it.
        kernel.wait_until("'session.updated' in set(widget.record.events['type'])", timeout=10)
        types = kernel.value("list(widget.record.events['type'])")
        assert "session.created" in types
        assert "session.update" in types
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

        # The ephemeral key reached the browser once, over the comm; it is nowhere else: not in the page,
        # the console, the saved notebook's widget state, nor the kernel's reprs.
        keys = {key for frame in lab_page.frames_received for key in EPHEMERAL_KEY.findall(frame)}
        assert keys, "no ephemeral key seen on the wire, so this check would prove nothing"
        lab_page.save()
        page.wait_for_timeout(1000)
        saved = (lab.root_dir / "quickstart.ipynb").read_text()
        assert "widgets" in json.loads(saved)["metadata"], "widget state was not saved"
        places = {
            "saved notebook": saved,
            "DOM": page.content(),
            "console": "\n".join(lab_page.console),
            "repr": kernel.value("repr(widget) + repr(widget.record) + repr(widget.config)"),
        }
        for key in keys:
            for place, text in places.items():
                assert key not in text, f"the ephemeral key leaked into the {place}"
    finally:
        kernel.close()
