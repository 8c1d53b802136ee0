"""The quickstart in every notebook front end this machine can run: Jupyter Notebook 7 and marimo, beside the
JupyterLab tests elsewhere. VS Code and Colab cannot run here; the README says what works there and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from realtime_widget.server.launcher import LocalServer

from .front_end_checks import converse_through_quickstart
from .harness import JupyterLab, kernel_env
from .lab_page import WIDGET, NotebookPage
from .marimo_app import marimo_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def notebook_page(browser: Any, notebook7: JupyterLab, artifacts: Path) -> Iterator[NotebookPage]:
    page = browser.new_page()
    notebook_page = NotebookPage(page, notebook7)
    try:
        yield notebook_page
    except Exception:
        page.screenshot(path=str(artifacts / "failed-notebook7.png"), full_page=True)
        print("\n".join(notebook_page.console[-40:]))
        raise
    finally:
        page.close()


def test_quickstart_in_jupyter_notebook_7(notebook_page: NotebookPage, notebook7: JupyterLab, artifacts: Path) -> None:
    page = notebook_page.page
    notebook_page.open_notebook("quickstart.ipynb")
    notebook_page.run_all_cells()
    page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
    notebook_page.wait_kernel_idle()
    kernel = notebook7.kernel_client("quickstart.ipynb")
    try:
        assert kernel.value("widget.server_label") == "Local server (offline)"
        # Notebook 7 has anywidget's invoke: commands take it, not the custom-message fallback.
        converse_through_quickstart(page, kernel)
        assert "commands_over_custom_messages" not in kernel.value("list(widget.record.timeline['what'])")
        page.locator(WIDGET).first.screenshot(path=str(artifacts / "notebook7-quickstart.png"))
    finally:
        kernel.close()


@pytest.mark.parametrize("mode", ["run", "edit"])
def test_quickstart_in_marimo(
    mode: str, browser: Any, local_server: LocalServer, tmp_path: Path, artifacts: Path
) -> None:
    # mo.ui.anywidget renders the widget and carries traits and custom messages; its experimental.invoke always
    # throws, so the widget's commands (the key, history, clock) go over custom messages.
    with marimo_server(tmp_path, kernel_env(local_server), mode) as marimo:
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        try:
            page.goto(marimo.url, timeout=60_000)
            page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
            python = marimo.probe
            python.wait_until("widget.status == 'idle'", timeout=60)
            converse_through_quickstart(page, python)
            timeline = python.value("list(widget.record.timeline['what'])")
            assert "commands_over_custom_messages" in timeline
            assert timeline.count("commands_over_custom_messages") == 1
            # The kernel minted the browser's key (the Connect button, not a Python connect()) over the fallback.
            minted = python.value("list(widget.record.timeline.query('what == \"mint_end\"').source)")
            assert minted.count("kernel") == 1, minted
            page.locator(WIDGET).first.screenshot(path=str(artifacts / f"marimo-{mode}-quickstart.png"))
        except Exception:
            page.screenshot(path=str(artifacts / f"failed-marimo-{mode}.png"), full_page=True)
            print("\n".join(console[-40:]))
            print(f"--- marimo log ---\n{marimo.log_path.read_text()[-3000:]}")
            raise
        finally:
            page.close()
