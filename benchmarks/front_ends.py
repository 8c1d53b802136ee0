"""Connect time and kernel-command round trips in each notebook front end, and with and without a microphone.

One local server; Debian's Chromium over loopback WebRTC; ``--runs`` connects per setup (after ``--warmup``
discarded ones), each started with the widget's Connect button and ended with Disconnect:

- ``JupyterLab``: the widget asks for the microphone (Chromium's fake device, granted by itself).
- ``JupyterLab, microphone=False``: receive-only; no getUserMedia, a recvonly transceiver.
- ``Notebook 7``: as JupyterLab, in Jupyter Notebook 7.
- ``marimo run``: ``mo.ui.anywidget``; kernel commands go over custom messages (marimo's invoke throws).

Columns, from the browser's timeline as Python recorded it (ms, min / median / max): ``connect`` is
``connect_requested`` → ``connected``; ``key`` is ``mint_start`` → ``mint_end`` (the ``mint_key`` command's round
trip through the kernel, which also mints the key: HTTP to the local server); ``mic`` is ``mic_start`` →
``mic_ready``/``mic_off``; ``answer`` is the SDP offer's POST to the local server; ``channel`` is ICE, DTLS and
SCTP up to the open data channel; ``session`` is ``session.update`` → ``session.updated``. ``clock rtt`` is the
``clock`` command's round trip (a reply with no work in the kernel), measured after each connect. Never asserts
timings.

    scripts/in-loopback-netns .venv/bin/python benchmarks/front_ends.py [--runs 10] [--warmup 1] [--only marimo]

``run(quick)`` is what ``python -m benchmarks`` calls.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import needs  # noqa: E402
from benchmarks.table import Table, median_or_none, ratio, spread  # noqa: E402
from realtime_widget.server.launcher import LocalServer  # noqa: E402
from tests.e2e.front_end_checks import PythonSide  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    JupyterLab,
    chromium_context,
    kernel_env,
    only_loopback_interfaces,
    start_jupyterlab,
    stop_jupyterlab,
)
from tests.e2e.lab_page import WIDGET, LabPage, NotebookPage  # noqa: E402
from tests.e2e.marimo_app import marimo_server  # noqa: E402
from tests.e2e.notebooks import write_notebook  # noqa: E402

#: What ``python -m benchmarks`` allows it (seconds; about 90 on a quiet 2-core machine).
BUDGET_S = 240
#: The Python module each setup's front end comes from: a setup whose module is missing is left out, with a note.
SETUP_NEEDS = {
    "JupyterLab": "jupyterlab",
    "JupyterLab, microphone=False": "jupyterlab",
    "Notebook 7": "notebook",
    "marimo run": "marimo",
}
COLUMNS = ("connect", "key", "mic", "answer", "channel", "session", "clock rtt")

# The browser's timeline rows of one attempt, as (what, ms since the epoch, detail) from Python.
ATTEMPT_ROWS = (
    "[(r.what, r.time.timestamp() * 1000, r.detail) for r in widget.record.timeline.itertuples()"
    " if r.source == 'browser' and r.attempt == {attempt}]"
)


def span(rows: list[tuple[str, float, str]], start: str, *ends: str) -> float | None:
    times = {what: t for what, t, _ in rows}
    end = next((times[e] for e in ends if e in times), None)
    return None if start not in times or end is None else end - times[start]


def clock_rtt(rows: list[tuple[str, float, str]]) -> float | None:
    samples = [json.loads(detail)["rtt_ms"] for what, _, detail in rows if what == "clock_offset"]
    return samples[-1] if samples else None


def connect_once(page: Any, python: PythonSide, attempt: int) -> dict[str, float | None]:
    page.click(f"{WIDGET} [data-testid=connect]")
    page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
    # The clock is measured after each connect; it is recorded with the attempt it followed.
    python.wait_until(
        f"len([r for r in {ATTEMPT_ROWS.format(attempt=attempt)} if r[0] in ('connected', 'clock_offset')]) >= 2"
    )
    rows = [tuple(r) for r in python.value(ATTEMPT_ROWS.format(attempt=attempt))]
    page.click(f"{WIDGET} [data-testid=disconnect]")
    python.wait_until("widget.status == 'closed'")
    return {
        "connect": span(rows, "connect_requested", "connected"),
        "key": span(rows, "mint_start", "mint_end"),
        "mic": span(rows, "mic_start", "mic_ready", "mic_off"),
        "answer": span(rows, "offer_created", "answer_received"),
        "channel": span(rows, "answer_received", "dc_open"),
        "session": span(rows, "session_update_sent", "session_updated"),
        "clock rtt": clock_rtt(rows),
    }


def measure(page: Any, python: PythonSide, runs: int, warmup: int) -> list[dict[str, float | None]]:
    results = []
    for attempt in range(1, warmup + runs + 1):
        result = connect_once(page, python, attempt)
        if attempt > warmup:
            results.append(result)
    return results


class JupyterServers:
    """One Jupyter server per app (JupyterLab, Notebook 7), started when a setup first needs it and stopped when the
    benchmark ends: both JupyterLab setups share one, so the run pays its start once."""

    def __init__(self, stack: ExitStack, base: Path, env: dict[str, str]) -> None:
        self.stack, self.base, self.env = stack, base, env
        self.servers: dict[str, JupyterLab] = {}

    def get(self, app: str) -> JupyterLab:
        if app not in self.servers:
            root = self.base / app
            root.mkdir()
            server = start_jupyterlab(root, REPO / "notebooks", self.env, app=app)
            self.stack.callback(stop_jupyterlab, server)
            self.servers[app] = server
        return self.servers[app]


@contextmanager
def jupyter_setup(
    browser: Any, server: JupyterLab, *, page_class: type[LabPage], name: str, notebook: str
) -> Iterator[tuple[Any, PythonSide]]:
    write_notebook(server.root_dir, name, notebook)
    jupyter_page = page_class(browser.new_page(), server)
    try:
        jupyter_page.open_notebook(name)
        jupyter_page.run_all_cells()
        jupyter_page.page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
        jupyter_page.wait_kernel_idle()
        kernel = server.kernel_client(name)
        try:
            yield jupyter_page.page, kernel
        finally:
            kernel.close()
    finally:
        jupyter_page.page.close()


@contextmanager
def marimo_setup(browser: Any, base: Path, env: dict[str, str]) -> Iterator[tuple[Any, PythonSide]]:
    with marimo_server(base, env, "run") as marimo:
        page = browser.new_page()
        try:
            page.goto(marimo.url, timeout=60_000)
            page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
            marimo.probe.wait_until("widget.status == 'idle'", timeout=60)
            yield page, marimo.probe
        finally:
            page.close()


def results_table(results: dict[str, list[dict[str, float | None]]], runs: int, warmup: int) -> Table:
    table = Table(
        "Front ends and the microphone: connect time and kernel-command round trips",
        f"scripts/in-loopback-netns .venv/bin/python benchmarks/front_ends.py --runs {runs} --warmup {warmup}",
        ["setup", "runs", *COLUMNS, "connect vs first"],
        notes=[
            f"ms, min / median / max over {runs} connects per setup after {warmup} warm-up(s); the last column is "
            "the median connect over the first setup's. `connect` = Connect to connected; `key` = the `mint_key` "
            "command's round trip; `mic` = getUserMedia (the fake device) or the decision to go without; `answer` = "
            "the SDP POST; `channel` = ICE, DTLS and SCTP; `session` = `session.update` to `session.updated`; "
            "`clock rtt` = the `clock` command's round trip (no work in the kernel)."
        ],
    )
    first: float | None = None
    for setup, measured in results.items():
        cells = [spread([v for r in measured if (v := r[column]) is not None]) for column in COLUMNS]
        median = median_or_none([v for r in measured if (v := r["connect"]) is not None])
        first = median if first is None else first
        table.add(setup, len(measured), *cells, ratio(median, first))
    return table


def collect(runs: int, warmup: int, only: list[str] | None = None) -> Table:
    """Each setup's connects against one local server, in one Chromium."""
    if not only_loopback_interfaces():
        sys.exit("run inside a loopback-only network namespace: scripts/in-loopback-netns ...")
    widget = "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget({})\nwidget"
    results: dict[str, list[dict[str, float | None]]] = {}
    missing: list[str] = []
    server = LocalServer.start()
    try:
        env = kernel_env(server)
        with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
            tmp = Path(tmp_name)
            jupyter = JupyterServers(stack, tmp, env)
            browser = stack.enter_context(chromium_context(tmp / "profile"))
            setups: list[tuple[str, Callable[[Path], Any]]] = [
                (
                    "JupyterLab",
                    lambda _: jupyter_setup(
                        browser,
                        jupyter.get("jupyterlab"),
                        page_class=LabPage,
                        name="mic.ipynb",
                        notebook=widget.format(""),
                    ),
                ),
                (
                    "JupyterLab, microphone=False",
                    lambda _: jupyter_setup(
                        browser,
                        jupyter.get("jupyterlab"),
                        page_class=LabPage,
                        name="no_mic.ipynb",
                        notebook=widget.format("microphone=False"),
                    ),
                ),
                (
                    "Notebook 7",
                    lambda _: jupyter_setup(
                        browser,
                        jupyter.get("notebook"),
                        page_class=NotebookPage,
                        name="nb7.ipynb",
                        notebook=widget.format(""),
                    ),
                ),
                ("marimo run", lambda base: marimo_setup(browser, base, env)),
            ]
            for index, (name, setup) in enumerate(setups):
                if only and not any(word in name for word in only):
                    continue
                module = SETUP_NEEDS[name]
                if importlib.util.find_spec(module) is None:
                    missing.append(f"{name} was not measured: `{module}` is not installed.")
                    continue
                base = tmp / f"setup{index}"
                base.mkdir()
                started = time.monotonic()
                with setup(base) as (page, python):
                    results[name] = measure(page, python, runs, warmup)
                print(f"  {name}: {runs} runs in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        server.stop()
    table = results_table(results, runs, warmup)
    table.notes.extend(missing)
    return table


def run(quick: bool) -> Table:
    """For ``python -m benchmarks``: every setup, 3 connects after a warm-up (``quick``: 2). Starting each front end
    and its kernel costs more than the connects."""
    needs.chromium()
    return collect(2 if quick else 3, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--only", action="append", help="run only the setups whose names contain this (repeatable)")
    args = parser.parse_args()
    print(collect(args.runs, args.warmup, args.only).markdown())


if __name__ == "__main__":
    main()
