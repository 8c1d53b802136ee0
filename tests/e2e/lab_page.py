"""Driving a notebook in JupyterLab through its exposed application object (``--LabApp.expose_app_in_browser``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from realtime_widget.server.launcher import LocalServer

from .harness import JupyterLab, KernelClient

OPEN_TIMEOUT_MS = 60_000
#: A JupyterLab command's limit; run-all-cells waits for the cells, and the longest notebook runs ~20 s.
COMMAND_TIMEOUT_MS = 120_000


class LabPage:
    """One browser tab showing one notebook."""

    #: Where a notebook opens; ``?reset`` starts from an empty workspace, not the notebooks earlier tests left open.
    notebook_path = "/lab/tree/{name}?reset"

    def __init__(self, page: Any, lab: JupyterLab, url: str | None = None) -> None:
        """``url``: the server's address as the browser names it, when not ``lab.url`` (another host name)."""
        self.page = page
        self.lab = lab
        self.url = url or lab.url
        self.console: list[str] = []
        self.frames_received: list[str] = []
        page.on("websocket", self._watch_websocket)
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))

    def _watch_websocket(self, websocket: Any) -> None:
        websocket.on("framereceived", lambda payload: self.frames_received.append(str(payload)))

    def open_notebook(self, name: str) -> None:
        """Opens ``name`` and waits until its kernel is ready."""
        path = self.notebook_path.format(name=name)
        separator = "&" if "?" in path else "?"
        self.page.goto(f"{self.url}{path}{separator}token={self.lab.token}", timeout=OPEN_TIMEOUT_MS)
        self.page.wait_for_function("() => window.jupyterapp !== undefined", timeout=OPEN_TIMEOUT_MS)
        # Playwright's evaluate has no time limit of its own, and a kernel that never answers its kernel_info keeps
        # sessionContext.ready pending for ever: every wait here is bounded, so such a kernel fails the test with
        # the step it stuck at.
        self.page.evaluate(
            """async ([name, ms]) => {
                const deadline = Date.now() + ms;
                const within = (promise, what) => Promise.race([promise, new Promise((_, reject) => setTimeout(
                    () => reject(new Error(`${what} within ${ms / 1000} s`)), Math.max(0, deadline - Date.now())))]);
                const app = window.jupyterapp;
                await within(app.started, 'JupyterLab did not start');
                await within(app.restored, 'JupyterLab did not restore its layout');
                while (Date.now() < deadline) {
                    const w = app.shell.currentWidget;
                    if (w && w.sessionContext && w.context && w.context.path.endsWith(name)) {
                        await within(w.context.ready, 'the notebook did not load');
                        await within(w.sessionContext.ready, 'the kernel did not answer (kernel_info)');
                        if (w.sessionContext.session && w.sessionContext.session.kernel) return;
                    }
                    await new Promise(r => setTimeout(r, 100));
                }
                throw new Error(`the notebook's kernel was not ready within ${ms / 1000} s`);
            }""",
            [name, OPEN_TIMEOUT_MS],
        )

    def command(
        self, command_id: str, args: dict[str, Any] | None = None, timeout_ms: int = COMMAND_TIMEOUT_MS
    ) -> None:
        """Runs a JupyterLab command and waits for it to finish (run-all-cells: the cells' execution), at most
        ``timeout_ms``."""
        self.page.evaluate(
            """([id, args, ms]) => Promise.race([
                window.jupyterapp.commands.execute(id, args),
                new Promise((_, reject) => setTimeout(
                    () => reject(new Error(`the command ${id} did not finish within ${ms / 1000} s`)), ms)),
            ])""",
            [command_id, args or {}, timeout_ms],
        )

    def run_all_cells(self) -> None:
        self.command("notebook:run-all-cells")

    def wait_kernel_idle(self, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                return k && k.status === 'idle';
            }""",
            timeout=timeout_ms,
        )

    def set_theme(self, theme: str) -> None:
        """``'JupyterLab Light'`` or ``'JupyterLab Dark'``."""
        self.command("apputils:change-theme", {"theme": theme})
        self.page.wait_for_function("(t) => document.body.dataset.jpThemeName === t", arg=theme)
        # A theme change shows JupyterLab's splash animation over the page for a moment; screenshots wait it out.
        self.page.wait_for_selector("#jupyterlab-splash", state="detached")

    def save(self) -> None:
        self.command("docmanager:save")


class NotebookPage(LabPage):
    """One browser tab of Jupyter Notebook 7: one notebook per page, the same application object and commands."""

    notebook_path = "/notebooks/{name}"


WIDGET = ".rtw-root"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def output_area(lab_page: LabPage, index: int, widget: str = WIDGET) -> Any:
    """The output area of the ``index``-th widget (``widget``: its root's selector) in the notebook."""
    return lab_page.page.locator(f".jp-OutputArea-output:has({widget})").nth(index)


def shoot_states(
    lab_page: LabPage, artifacts: Path, state: str, index: int = 0, widget: str = WIDGET
) -> dict[str, Path]:
    """Screenshots the widget's output area in each theme as ``state-<state>-<theme>.png``; returns the files by
    theme. ``widget``: the root selector of another view than the console (the replay view)."""
    shots = {}
    page = lab_page.page
    size = page.viewport_size
    # Tall enough for the whole widget: an output taller than the window is cut (and scrolled) in the shot.
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], 1400)})
    for short, theme in THEMES.items():
        lab_page.set_theme(theme)
        area = output_area(lab_page, index, widget)
        area.scroll_into_view_if_needed()
        lab_page.page.wait_for_timeout(400)  # theme variables settle, transitions end
        path = artifacts / f"state-{state}-{short}.png"
        area.screenshot(path=str(path), animations="disabled")
        shots[short] = path
    lab_page.set_theme(THEMES["light"])
    page.set_viewport_size(size)
    return shots


def open_widget_notebook(lab_page: LabPage, name: str) -> KernelClient:
    """Opens ``name``, runs it, waits for the widget, and returns a second client of its kernel."""
    lab_page.open_notebook(name)
    lab_page.run_all_cells()
    lab_page.page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
    lab_page.wait_kernel_idle()
    return lab_page.lab.kernel_client(name)


def click_connect(lab_page: LabPage, kernel: KernelClient, timeout_ms: int = 30_000) -> None:
    """Clicks Connect and waits until the page and the kernel both know the new call (a WebRTC one). The kernel may
    still hold the previous call's id and status (after a page reload, say) until this call's batches arrive."""
    previous = kernel.value("widget.call_id")
    lab_page.page.click(f"{WIDGET} [data-testid=connect]")
    lab_page.page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=timeout_ms)
    kernel.wait_until(
        f"widget.status == 'connected' and widget.call_id and widget.call_id != {previous!r}", timeout=timeout_ms / 1000
    )


def nth_widget(n: int) -> str:
    """The ``n``-th widget in the notebook (0-based), as a CSS selector."""
    return f".jp-Cell:nth-child({n + 1} of .jp-CodeCell:has({WIDGET})) {WIDGET}"


def status_selector(status: str) -> str:
    """The widget's status badge showing ``status`` (``connected``, ``reconnecting``, ``failed``...)."""
    return f"{WIDGET} [data-testid=status][data-status={status}]"


def wait_for_status(lab_page: LabPage, status: str, timeout_ms: int = 30_000) -> None:
    lab_page.page.wait_for_selector(status_selector(status), timeout=timeout_ms)


def wait_failed(lab_page: LabPage, kernel: KernelClient, root: str, name: str, code: str) -> str:
    """Waits for the widget ``name`` (a kernel variable; ``root`` its CSS selector) to fail with ``code``, in the page
    and in the kernel; checks the widget shows the code and the kernel's message; returns the error text shown."""
    lab_page.page.wait_for_selector(f"{root} [data-testid=status][data-status=failed]", timeout=60_000)
    kernel.wait_until(f"{name}.status == 'failed' and {name}.error.get('code') == {code!r}")
    error = lab_page.page.locator(f"{root} [data-testid=error]")
    error.wait_for(state="visible", timeout=30_000)
    text = error.inner_text()
    assert code in text, text  # the code is shown beside the message
    message = kernel.value(f"{name}.error['message']")
    assert message[:40] in text, (message, text)  # the same words in Python and in the widget
    assert kernel.value(f"{name}.error['hint']"), "no hint on what to do next"
    return text


def event_types(kernel: KernelClient, direction: str | None = None) -> list[str]:
    """The types of the events in ``widget.record``, in order; only one direction (``client``/``server``) if given."""
    frame = "widget.record.events"
    if direction is not None:
        frame = f"{frame}[{frame}.direction == {direction!r}]"
    return list(kernel.value(f"list({frame}['type'])"))


def run_from_cell(lab_page: LabPage, index: int) -> None:
    """Runs the notebook's cell ``index`` and every cell below it."""
    lab_page.page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", index)
    lab_page.command("notebook:run-all-below")


def error_outputs(lab_page: LabPage) -> list[str]:
    """The error outputs in the open notebook (ename: evalue)."""
    return list(
        lab_page.page.evaluate(
            """() => {
                const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
                const errors = [];
                for (let c = 0; c < cells.length; c++) {
                    const outputs = cells.get(c).outputs;
                    if (!outputs) continue;
                    for (let o = 0; o < outputs.length; o++) {
                        const out = outputs.get(o).toJSON();
                        if (out.output_type === 'error') errors.push(`${out.ename}: ${out.evalue}`);
                    }
                }
                return errors;
            }"""
        )
    )


def connect_scripted(
    lab_page: LabPage, kernel: KernelClient, local_server: LocalServer, turns: list[dict[str, Any]]
) -> str:
    """Connects from the page, then queues the local server's scripted ``turns`` for the new call; returns its id."""
    click_connect(lab_page, kernel)
    call_id: str = kernel.value("widget.call_id")
    local_server.script(turns, call_id=call_id)
    return call_id


@contextmanager
def opened_widget(lab_page: LabPage, name: str) -> Iterator[KernelClient]:
    """``open_widget_notebook``, then on the way out, however the block ends: ``widget.disconnect()`` and the kernel
    client closed."""
    kernel = open_widget_notebook(lab_page, name)
    try:
        yield kernel
    finally:
        kernel.run("widget.disconnect()")
        kernel.close()
