"""Memory and throughput over a long accelerated session, through the real comm of a widget in JupyterLab.

A notebook in a real JupyterLab shows a ``RealtimeWidget``. The page then sends it the batches a browser would
send over a whole session (``--minutes``, default 60, at 30 events/s plus one ``getStats`` sample a second), as
fast as the kernel acknowledges them, through the widget model's own ``send`` (the Backbone model of the widget
manager, found from the notebook's output renderer; the same call the widget's ``BatchSender`` makes), so every
batch crosses the real websocket, the Jupyter server and the kernel's comm to ``RealtimeWidget`` →
``BatchInbox`` → ``SessionRecord``. At most 100 batches are in flight, like the widget's sender.

The events are ``realtime_widget.sample`` synthetic sessions (about 12,000 distinct events, built in Python and
handed to the page once); the page reuses them in a loop with the ids rewritten per loop (so ids stay unique) and
the times spread over the simulated hour. 200 items per batch, as the widget flushes.

At each checkpoint (every ``--every`` simulated minutes) the sender pauses and the script reads kernel RSS and
the record's length (through a kernel client), the browser's JS heap and DOM node count (CDP
``Performance.getMetrics`` after a forced GC), and the websocket bytes the page sent. A second pass sends the same
session to a second widget with ``tracemalloc`` tracing in the kernel, for the memory the kernel allocated (the
record plus anything else left behind), which also shows tracemalloc's cost to throughput.

The widget has no tools, so the kernel answers the sample's tool calls (one per synthetic session) with a "no tool
named ..." error and the UI shows each as a tool card: the widget's DOM grows by those cards (the transcript keeps
at most 500 entries).

At the end the page is reloaded: the widget redraws from the kernel's ``history`` (the last 2,000 events), and
the event log's DOM rows and the page's DOM nodes are counted, to check the UI stays bounded.

Must run inside a network namespace with only ``lo`` (``scripts/in-loopback-netns``). Never asserts timings.

    scripts/in-loopback-netns .venv/bin/python benchmarks/long_session.py [--minutes 60] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.table import Table  # noqa: E402
from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV  # noqa: E402
from realtime_widget.sample import synthetic_items  # noqa: E402
from realtime_widget.server.launcher import LocalServer  # noqa: E402
from tests.e2e.harness import chromium_context, only_loopback_interfaces, start_jupyterlab, stop_jupyterlab  # noqa: E402
from tests.e2e.lab_page import WIDGET, LabPage  # noqa: E402
from tests.e2e.notebooks import write_notebook  # noqa: E402

MB = 1024 * 1024
#: What ``python -m benchmarks`` allows it (seconds; about 40 on a quiet 2-core machine).
BUDGET_S = 150
EVENTS_PER_S = 30
BATCH = 200
IN_FLIGHT = 100
POOL_EVENTS = 12_000

CELLS = (
    "import os, tracemalloc\nfrom realtime_widget import RealtimeWidget\nwidget = RealtimeWidget()",
    "widget",
)

KERNEL_PROBE = (
    "{'rss': int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'),"
    " 'traced': tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None,"
    " 'events': len(_bench_widget.record)}"
)

# Finds the widget manager's model for a model id, from the output renderers of the current notebook.
FIND_MODEL = """
async (modelId) => {
  const root = window.jupyterapp.shell.currentWidget;
  const seen = new Set();
  const stack = [root];
  while (stack.length > 0) {
    const w = stack.pop();
    if (!w || seen.has(w)) continue;
    seen.add(w);
    if (w._manager && w._manager.promise) {
      const manager = await w._manager.promise;
      const model = await manager.get_model(modelId);
      window.__benchModels = window.__benchModels || {};
      window.__benchModels[modelId] = model;
      return true;
    }
    if (typeof w.children === 'function') for (const c of w.children()) stack.push(c);
  }
  return false;
}
"""

# Loads the event pool into the page and defines the sender.
SENDER = """
([pool, stats]) => {
  window.__benchPool = pool;
  window.__benchStats = stats;
  window.__benchSend = async ({modelId, client, fromSecond, toSecond, start, rate, batch, inFlight}) => {
    const model = window.__benchModels[modelId];
    const state = window.__benchState = window.__benchState || {};
    const s = state[client] = state[client] || {seq: 0, acked: 0, listening: false, waiters: []};
    if (!s.listening) {
      model.on('msg:custom', (msg) => {
        if (msg && msg.type === 'rtw:ack' && msg.client === client) {
          s.acked += 1;
          const waiters = s.waiters.splice(0);
          for (const w of waiters) w();
        }
      });
      s.listening = true;
    }
    const P = window.__benchPool.length;
    const idPattern = /_(\\d{6}[0-9a-f]{8})"/g;
    const waitAcks = (limit) => new Promise((resolve) => {
      const check = () => (s.seq - s.acked <= limit ? resolve() : s.waiters.push(check));
      check();
    });
    let items = [];
    let events = 0;
    const t0 = performance.now();
    const flush = async () => {
      await waitAcks(inFlight - 1);
      s.seq += 1;
      model.send({type: 'rtw:batch', client, seq: s.seq, items});
      items = [];
    };
    for (let sec = fromSecond; sec < toSecond; sec++) {
      for (let j = 0; j < rate; j++) {
        const n = sec * rate + j;
        const loop = Math.floor(n / P);
        const text = window.__benchPool[n % P];
        const item = JSON.parse(loop === 0 ? text : text.replace(idPattern, `_$1x${loop}"`));
        item.t = start + sec * 1000 + (j * 1000) / rate;
        items.push(item);
        events += 1;
        if (items.length === batch) await flush();
      }
      items.push({...window.__benchStats, t: start + sec * 1000 + 999});
      if (items.length === batch) await flush();
    }
    if (items.length > 0) await flush();
    await waitAcks(0);
    return {events, ms: performance.now() - t0, batches: s.seq};
  };
}
"""


def event_pool(size: int) -> tuple[list[str], dict[str, Any]]:
    """``size`` distinct event items (JSON text) from synthetic sessions, and one stats item."""
    pool: list[str] = []
    seed = 0
    while len(pool) < size:
        pool.extend(json.dumps(i) for i in synthetic_items(40, seed=seed, stats_every_ms=None) if i["k"] == "event")
        seed += 1
    stats = next(i for i in synthetic_items(1, seed=0, stats_every_ms=1000.0) if i["k"] == "stats")
    return pool[:size], stats


class Probe:
    """Reads kernel and browser measurements between segments."""

    def __init__(self, page: Any, cdp: Any) -> None:
        self.page, self.cdp = page, cdp
        self.kernel: Any = None
        self.ws_bytes = 0
        page.on("websocket", self._watch)  # before the notebook opens its kernel's websocket

    def _watch(self, websocket: Any) -> None:
        def sent(payload: str | bytes) -> None:
            self.ws_bytes += len(payload.encode() if isinstance(payload, str) else payload)

        websocket.on("framesent", sent)

    def browser(self) -> dict[str, float]:
        self.cdp.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        in_page = self.page.evaluate(
            "(sel) => [document.getElementsByTagName('*').length, document.querySelectorAll(sel + ' *').length]",
            WIDGET,
        )
        return {
            "heap": metrics["JSHeapUsedSize"],
            "nodes": metrics["Nodes"],
            "elements": in_page[0],
            "widget_elements": in_page[1],
        }

    def kernel_side(self) -> dict[str, Any]:
        return dict(self.kernel.value(KERNEL_PROBE))


def run_pass(
    page: Any, probe: Probe, model_id: str, label: str, *, minutes: float, every: float, start_ms: float
) -> list[dict[str, Any]]:
    """Sends ``minutes`` of session to ``model_id`` in segments of ``every`` minutes; a row per checkpoint."""
    client = f"bench-{label}-{int(time.time() * 1000)}"
    rows: list[dict[str, Any]] = []
    base = {**probe.kernel_side(), **probe.browser(), "minute": 0.0, "sent_events": 0, "seconds": 0.0, "ws": 0}
    rows.append(base)
    total_events, total_s, total_ws = 0, 0.0, 0
    second = 0
    end = int(minutes * 60)
    while second < end:
        upto = min(end, second + int(every * 60))
        ws_before = probe.ws_bytes
        result = page.evaluate(
            "(args) => window.__benchSend(args)",
            {
                "modelId": model_id,
                "client": client,
                "fromSecond": second,
                "toSecond": upto,
                "start": start_ms,
                "rate": EVENTS_PER_S,
                "batch": BATCH,
                "inFlight": IN_FLIGHT,
            },
        )
        total_events += result["events"]
        total_s += result["ms"] / 1000
        total_ws += probe.ws_bytes - ws_before
        second = upto
        row = {**probe.kernel_side(), **probe.browser()}
        row.update(
            minute=second / 60,
            sent_events=total_events,
            seconds=total_s,
            ws=total_ws,
            seg_rate=result["events"] / (result["ms"] / 1000),
        )
        rows.append(row)
        print(
            f"  [{label}] {row['minute']:.0f} min: {total_events:,} events, {row['seg_rate']:,.0f} events/s",
            flush=True,
        )
    return rows


def pass_table(label: str, rows: list[dict[str, Any]], traced: bool) -> Table:
    base = rows[0]
    columns = ["simulated min", "events sent", "events/s (segment)", "kernel RSS MB (+Δ)"]
    columns += ["kernel traced MB"] if traced else []
    columns += ["record events", "JS heap MB", "DOM nodes (CDP)", "elements in page / widget", "ws bytes/event"]
    last = rows[-1]
    rates = [r["seg_rate"] for r in rows[1:]]
    overall = last["sent_events"] / last["seconds"]
    table = Table(
        f"Long session, end to end: {label}",
        "scripts/in-loopback-netns python benchmarks/long_session.py",
        columns,
        notes=[
            "A page sends a simulated session (30 events/s plus one stats sample a second) to a `RealtimeWidget` in "
            "real JupyterLab through the widget model's own `send`, as fast as the kernel acknowledges. "
            f"End to end: {overall:,.0f} events/s overall ({overall / 5000:.2f}x the 5,000/s aim; segments "
            f"{min(rates):,.0f} / {statistics.median(rates):,.0f} / {max(rates):,.0f}); JS heap "
            f"{base['heap'] / MB:.1f} → {last['heap'] / MB:.1f} MB; kernel RSS {base['rss'] / MB:.0f} → "
            f"{last['rss'] / MB:.0f} MB."
        ],
    )
    for row in rows[1:]:
        cells = [
            f"{row['minute']:.0f}",
            f"{row['sent_events']:,}",
            f"{row['seg_rate']:,.0f}",
            f"{row['rss'] / MB:.0f} (+{(row['rss'] - base['rss']) / MB:.0f})",
        ]
        if traced:
            cells.append(f"{(row['traced'] or 0) / MB:.1f}")
        cells += [
            f"{row['events']:,}",
            f"{row['heap'] / MB:.1f}",
            f"{row['nodes']:,.0f}",
            f"{row['elements']:,} / {row['widget_elements']:,}",
            f"{row['ws'] / max(row['sent_events'], 1):.0f}",
        ]
        table.add(*cells)
    return table


def ui_check(page: Any, lab_page: LabPage, probe: Probe) -> None:
    """Saves and reloads the notebook; the widget redraws from the kernel's ``history``. Counts what is in the DOM."""
    count_js = """(sel) => ({
        rows: document.querySelectorAll(sel + ' .rtw-log-item').length,
        count: (document.querySelector(sel + ' [data-testid=event-count]') || {}).textContent,
        elements: document.getElementsByTagName('*').length,
    })"""
    before = page.evaluate(count_js, WIDGET)
    print(f"Before the reload: event-log rows {before['rows']}, elements in the page {before['elements']:,}")
    lab_page.save()  # so the reopened notebook has the widget's output, which ipywidgets re-attaches to the model
    page.wait_for_timeout(1000)
    page.reload()
    try:
        page.wait_for_selector(f"{WIDGET} .rtw-log-item", timeout=60_000, state="attached")
    except Exception as exc:  # report it; the tables above stand
        print(f"After the reload the widget's event log did not fill: {str(exc).splitlines()[0]}")
        return
    page.wait_for_timeout(3000)
    ui = page.evaluate(count_js, WIDGET)
    after = probe.browser()
    print(
        f"After the reload (history redraw): event-log rows in the DOM {ui['rows']}, event count shown "
        f"{ui['count']!r}, elements in the page {ui['elements']:,}, CDP DOM nodes {after['nodes']:,.0f}, "
        f"JS heap {after['heap'] / MB:.1f} MB"
    )


def collect(minutes: float, every: float, traced: bool, reload_check: bool) -> list[Table]:
    """One pass (two with ``traced``: the second under tracemalloc); ``reload_check`` also reloads the page."""
    if not only_loopback_interfaces():
        raise RuntimeError("run inside a network namespace with only lo: scripts/in-loopback-netns")
    tables: list[Table] = []
    pool, stats = event_pool(POOL_EVENTS)
    start_ms = time.time() * 1000.0
    print(
        f"{minutes:g} simulated minutes at {EVENTS_PER_S} events/s + 1 stats/s: "
        f"{int(minutes * 60 * EVENTS_PER_S):,} events; pool of {len(pool):,} distinct events",
        file=sys.stderr,
        flush=True,
    )
    server = LocalServer.start()  # the widget needs an endpoint; nothing connects to it
    with tempfile.TemporaryDirectory(prefix="long-session-") as tmp_name:
        tmp = Path(tmp_name)
        notebooks = tmp / "notebooks"
        notebooks.mkdir()
        name = write_notebook(notebooks, "long_session.ipynb", *CELLS)
        env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
        env[LOCAL_SERVER_URL_ENV] = server.base_url
        env[LOCAL_SERVER_KEY_ENV] = server.api_key
        lab = start_jupyterlab(tmp / "lab", notebooks, env)
        kernel = None
        try:
            with chromium_context(tmp / "profile") as context:
                page = context.new_page()
                lab_page = LabPage(page, lab)
                cdp = context.new_cdp_session(page)
                cdp.send("Performance.enable")
                probe = Probe(page, cdp)
                lab_page.open_notebook(name)
                lab_page.run_all_cells()
                page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
                lab_page.wait_kernel_idle()
                kernel = lab.kernel_client(name)
                probe.kernel = kernel
                page.evaluate(SENDER, [pool, stats])

                kernel.run("_bench_widget = widget")
                model_id = kernel.value("widget.model_id")
                if not page.evaluate(FIND_MODEL, model_id):
                    raise RuntimeError("could not find the widget manager in the page")
                fast = run_pass(page, probe, model_id, "untraced", minutes=minutes, every=every, start_ms=start_ms)
                tables.append(pass_table("no tracing (throughput, RSS, JS heap)", fast, traced=False))

                if traced:
                    # A second widget, created after tracing starts, so everything its record holds is traced.
                    kernel.run("tracemalloc.start()\n_bench_widget = RealtimeWidget()")
                    second_id = kernel.value("_bench_widget.model_id")
                    page.evaluate(FIND_MODEL, second_id)
                    slow = run_pass(page, probe, second_id, "traced", minutes=minutes, every=every, start_ms=start_ms)
                    kernel.run("tracemalloc.stop()")
                    tables.append(pass_table("tracemalloc tracing in the kernel (memory)", slow, traced=True))

                history = kernel.value(
                    "(lambda h: (len(h), len(__import__('json').dumps(h))))(widget.record.history_items())"
                )
                tables[0].notes.append(
                    f"The widget's record: {kernel.value('len(widget.record)'):,} events; its `history` reply for "
                    f"a reload: {history[0]:,} items, {history[1] / MB:.1f} MB of JSON."
                )
                if reload_check:
                    ui_check(page, lab_page, probe)
        finally:
            if kernel is not None:
                kernel.close()
            stop_jupyterlab(lab)
            server.stop()
    return tables


def run(quick: bool) -> list[Table]:
    """For ``python -m benchmarks``: 20 simulated minutes in 5-minute segments (``quick``: 4 in 1), untraced."""
    return collect(4.0 if quick else 20.0, 1.0 if quick else 5.0, traced=False, reload_check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated session length (default 60)")
    parser.add_argument("--every", type=float, default=10.0, help="simulated minutes between checkpoints")
    parser.add_argument("--quick", action="store_true", help="10 simulated minutes, checkpoints every 2")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the second, traced pass")
    args = parser.parse_args()
    minutes, every = (10.0, 2.0) if args.quick else (args.minutes, args.every)
    if not only_loopback_interfaces():
        sys.exit("Run inside a network namespace with only lo: scripts/in-loopback-netns python " + sys.argv[0])
    for table in collect(minutes, every, traced=not args.no_tracemalloc, reload_check=True):
        print()
        print(table.markdown())


if __name__ == "__main__":
    main()
