"""The quickstart in every notebook front end this machine can run: Jupyter Notebook 7 and marimo, beside the
JupyterLab tests elsewhere. VS Code and Colab cannot run here; the README says what works there and why."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from realtime_widget.server.launcher import LocalServer

from .front_end_checks import converse_through_quickstart
from .harness import JupyterLab, chromium_context, kernel_env, start_jupyterlab, stop_jupyterlab
from .lab_page import WIDGET, LabPage, NotebookPage, open_widget_notebook
from .marimo_app import marimo_server
from .notebooks import write_notebook

REPO = Path(__file__).resolve().parents[2]

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
            # The browser's key came from the kernel over custom messages (the Connect button, not a Python
            # connect()): pushed ahead of the click (pre-warmed) or asked for with mint_key.
            minted = python.value("[str(d) for d in widget.record.timeline.query('what == \"mint_end\"').detail]")
            assert len(minted) == 1, minted
            assert any(f'"key":"{how}"' in minted[0].replace(" ", "") for how in ("prewarmed", "mint_key")), minted
            page.locator(WIDGET).first.screenshot(path=str(artifacts / f"marimo-{mode}-quickstart.png"))
        except Exception:
            page.screenshot(path=str(artifacts / f"failed-marimo-{mode}.png"), full_page=True)
            print("\n".join(console[-40:]))
            print(f"--- marimo log ---\n{marimo.log_path.read_text()[-3000:]}")
            raise
        finally:
            page.close()


def test_an_insecure_page_connects_receive_only(
    local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory, artifacts: Path
) -> None:
    # JupyterLab opened by a host name rather than localhost over plain http, as a server on another machine is:
    # not a secure context, so the page has no getUserMedia (nor crypto.randomUUID). The name resolves to
    # 127.0.0.1 inside Chromium only; the server accepts a Host that is not localhost.
    lab = start_jupyterlab(
        tmp_path_factory.mktemp("insecure-lab"),
        REPO / "notebooks",
        kernel_env(local_server),
        extra_args=("--ServerApp.allow_remote_access=True",),
    )
    host = "jupyter.example.test"
    name = write_notebook(
        lab.root_dir, "insecure.ipynb", "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget()\nwidget"
    )
    profile = tmp_path_factory.mktemp("insecure-profile")

    def in_second_browser() -> None:
        with chromium_context(profile, [f"--host-resolver-rules=MAP {host} 127.0.0.1"]) as context:
            page = context.new_page()
            lab_page = LabPage(page, lab, url=lab.url.replace("127.0.0.1", host))
            kernel = open_widget_notebook(lab_page, name)
            try:
                assert page.evaluate("() => window.isSecureContext") is False
                page.click(f"{WIDGET} [data-testid=connect]")
                page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
                notice = page.locator(f"{WIDGET} [data-testid=mic-off]")
                notice.wait_for(state="visible")
                assert notice.get_attribute("data-reason") == "insecure_context"
                mic_off = kernel.wait_until("widget.mic_off")
                assert mic_off["reason"] == "insecure_context"
                assert "localhost" in mic_off["hint"]
                kernel.run("widget.send_text('typed on an insecure page')")
                kernel.wait_until("(widget.record.transcript.role == 'assistant').any()", timeout=30)
                page.click(f"{WIDGET} [data-testid=disconnect]")
                kernel.wait_until("widget.status == 'closed'", timeout=15)
            except Exception:
                page.screenshot(path=str(artifacts / "failed-insecure.png"))
                print("\n".join(lab_page.console[-40:]))
                raise
            finally:
                kernel.close()
                page.close()

    try:
        # Playwright's sync API allows one instance per thread, and the run's shared browser holds this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(in_second_browser).result(timeout=180)
    finally:
        stop_jupyterlab(lab)
