"""Connect-time breakdown: our widget in JupyterLab beside a bare page and the Agents JS SDK, one local server.

Three setups connect to the same local server (``LocalServer.start``) from Debian's Chromium over loopback WebRTC,
``--runs`` times each after ``--warmup`` discarded runs, and the time from the start of each attempt to each step is
printed as min / median / max in ms:

a) ``widget``: ``RealtimeWidget`` in a real JupyterLab notebook. Connect and Disconnect are clicked in the widget,
   Connect as a person clicks it, the button held down for ``PRESS_MS`` (the widget opens the microphone on the
   press); the clock starts at the click. The page notes "connected" itself (a mutation observer on the status
   element), so that no Playwright selector polling of JupyterLab's large DOM runs during the connect, as none runs
   during the pages' (it cost the widget about 25 ms a connect). The steps are the browser's timeline items as the
   kernel recorded them (``docs/wire.md``). The ephemeral key is
   the one the kernel pushed when the widget was displayed (``rtw:key``, docs/wire.md "Pre-warmed key"), and the
   peer connection and its offer were made then too; the "key" row says where each connect's key came from.
   "first remote audio" is the remote track's ``unmute`` (first RTP packet), seen by a hook in the page, because
   the widget's own ``first_audio`` waits for audible speech and the idle server sends silence. Then
   ``bare-in-lab``: the code of b) loaded into that same JupyterLab tab and run as many times, to tell the cost of
   the JupyterLab page from the widget's own.
b) ``bare``: ``benchmarks/pages/bare.js``, plain JS doing the minimum: fetch an ephemeral key from the server's
   ``/v1/realtime/client_secrets`` directly, getUserMedia, RTCPeerConnection, data channel ``oai-events``, POST the
   offer, ``session.update``, wait for ``session.updated`` and the first remote RTP.
c) ``agents-sdk``: ``OpenAIRealtimeWebRTC`` from ``@openai/agents-realtime`` with ``baseUrl`` set to the local
   server's calls URL (``benchmarks/pages/sdk-entry.js``, bundled with esbuild at run time). Needs
   ``npm install`` in ``benchmarks/``; skipped with a note when the package is missing.
d) ``widget-websocket``: the widget of a) with ``transport="websocket"``: the Realtime WebSocket straight to the
   local server, audio through AudioWorklets (no RTP, so no "first remote audio" row).
e) ``widget-proxy``: as d), with the browser refused the local server's port (as on a remote kernel), so that the
   widget falls back from WebRTC (``transport="auto"``) and from the direct WebSocket route to JupyterLab's
   jupyter-server-proxy (``/proxy/<port>/``); "connected" includes both failed tries.

After each widget connect, one typed turn (``widget.send_text``) answered by the server's offline voice model (then
cut short with ``widget.cancel_response()``, so that the next connect finds the server idle): the
``turn`` rows are ms from the browser sending its ``conversation.item.create`` to the reply's first transcript delta
and to its audio being heard (the widget's ``first_audio``: the remote level over WebRTC, the playback worklet
starting over the WebSocket).

When the WebRTC widget runs, the bare page and the Agents SDK page (each loaded once, in a tab of its own) take
their turns between its connects: widget, bare, SDK, widget, ... so that all three meet the same load, which on a
shared machine changes from one minute to the next. Every tab's first connect (the page just loaded) is reported
apart, as the cold connect; the ``--warmup`` connects (at least that one) are left out of the other rows. The ratio
columns divide the WebRTC widget's median by the bare page's and the Agents SDK's, measured in the same run.
``run(quick)`` is what ``python -m benchmarks`` calls (8 runs per setup, or 3 with ``quick``).

Pages b) and c) are served by a small static server on 127.0.0.1. Must run inside a network namespace with only
``lo`` (``scripts/in-loopback-netns``) so WebRTC cannot use any other interface. Never asserts timings.

    scripts/in-loopback-netns .venv/bin/python benchmarks/connect_time.py [--runs 10] [--warmup 1] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.table import Table, median_or_none, ratio, spread  # noqa: E402
from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV  # noqa: E402
from realtime_widget.server.launcher import LocalServer  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    chromium_context,
    only_loopback_interfaces,
    start_jupyterlab,
    stop_jupyterlab,
)
from tests.e2e.lab_page import WIDGET, LabPage  # noqa: E402
from tests.e2e.notebooks import write_notebook  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages"
BENCH_DIR = Path(__file__).resolve().parent
ESBUILD_CANDIDATES = [
    BENCH_DIR / "node_modules" / ".bin" / "esbuild",
    REPO / "js" / "node_modules" / ".bin" / "esbuild",
]

STEPS = [
    ("mint_start", "key requested"),
    ("mint_end", "key minted"),
    ("mic_start", "getUserMedia called"),
    ("mic_ready", "getUserMedia done"),
    ("offer_created", "offer created"),
    ("answer_received", "answer received"),
    ("ws_open", "WebSocket open (greeted)"),
    ("dc_open", "data channel open"),
    ("session_updated", "session.updated"),
    ("connected", "connected"),
    ("first_audio", "first remote audio (RTP)"),
]

# How long a click holds the mouse button down: a person's click lasts about a tenth of a second; this is less.
PRESS_MS = 80

# Sets window.__benchConnected once the widget's status element says "connected".
STATUS_WATCH = f"""() => {{
  window.__benchConnected = false;
  const el = document.querySelector("{WIDGET} [data-testid=status]");
  const observer = new MutationObserver(() => {{
    if (el.dataset.status === "connected") {{ window.__benchConnected = true; observer.disconnect(); }}
  }});
  observer.observe(el, {{ attributes: true, attributeFilter: ["data-status"] }});
}}"""

# A typed turn after each widget connect, in ms from the browser sending its conversation.item.create.
TURN_STEPS = [
    ("reply_text", "turn: first transcript delta"),
    ("reply_audio", "turn: reply audio heard"),
]

# Remote-track unmute times (ms since the Unix epoch, the wire's clock) for the widget, whose own timeline only
# marks audible speech.
UNMUTE_HOOK = """
window.__benchUnmute = [];
(() => {
  const add = RTCPeerConnection.prototype.addEventListener;
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args);
    add.call(pc, "track", (e) => e.track.addEventListener(
      "unmute", () => window.__benchUnmute.push(performance.timeOrigin + performance.now()), { once: true }));
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
})();
"""


def silent_wav(path: Path, seconds: float = 2.0, rate: int = 48_000) -> Path:
    """A silent fake microphone: Chromium's default beeps would make the server's VAD start turns mid-benchmark."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return path


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """Serves ``folder`` on 127.0.0.1 (a free port) from a thread; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def bundle_sdk_page(out: Path) -> str | None:
    """Bundles ``pages/sdk-entry.js`` into ``out/sdk.bundle.js``; returns why not when it cannot."""
    if not (BENCH_DIR / "node_modules" / "@openai" / "agents-realtime").exists():
        return "@openai/agents-realtime is not installed (run `npm install` in benchmarks/)"
    esbuild = next((p for p in ESBUILD_CANDIDATES if p.exists()), None)
    if esbuild is None:
        return "esbuild not found (run `npm install` in js/)"
    result = subprocess.run(
        [
            str(esbuild),
            "pages/sdk-entry.js",
            "--bundle",
            "--format=iife",
            "--platform=browser",
            "--target=chrome120",
            f"--outfile={out / 'sdk.bundle.js'}",
            "--log-level=warning",
        ],
        cwd=BENCH_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return f"esbuild failed: {result.stderr.strip()[-500:]}"
    return None


class PlainPage:
    """One tab of a plain page exposing ``runCall``/``hangUp`` (the bare page, the Agents SDK page)."""

    def __init__(self, context: Any, url: str, server: LocalServer) -> None:
        self.url = url
        self.config = {"base": server.base_url, "apiKey": server.api_key}
        self.runs: list[dict[str, float]] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.goto(url)
        self.page.wait_for_function("() => typeof window.runCall === 'function'")

    def call(self) -> None:
        """One call, hung up at once; its marks join ``runs`` (the first is the cold one)."""
        try:
            result = self.page.evaluate("(config) => window.runCall(config)", self.config)
            self.page.evaluate("() => window.hangUp()")
        except Exception as exc:
            raise RuntimeError(f"{self.url}: {exc}; page errors: {self.errors}") from exc
        self.runs.append(result["marks"])

    def close(self) -> None:
        self.page.close()


def call_loop(page: Any, server: LocalServer, runs: int, warmup: int) -> list[dict[str, float]]:
    """Calls the page's ``runCall`` ``warmup + runs`` times, hanging up after each; the marks of every call, the
    first (cold) one first."""
    page.wait_for_function("() => typeof window.runCall === 'function'")
    config = {"base": server.base_url, "apiKey": server.api_key}
    out: list[dict[str, float]] = []
    for _ in range(warmup + runs):
        result = page.evaluate("(config) => window.runCall(config)", config)
        page.evaluate("() => window.hangUp()")
        out.append(result["marks"])
        page.wait_for_timeout(300)
    return out


# Which transport each widget setup asks for; widget-proxy also has the browser refused the local server's port.
WIDGET_TRANSPORTS = {"widget": "webrtc", "widget-websocket": "websocket", "widget-proxy": "auto"}

WIDGET_CELLS = (
    "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(transport={transport!r})",
    "_bench_items = []\n"
    "_bench_turn_events = {('client', 'conversation.item.create'),"
    " ('server', 'response.output_audio_transcript.delta'), ('server', 'output_audio_buffer.cleared'),"
    " ('server', 'response.done')}\n"
    "widget.record.on_append(lambda items: _bench_items.extend("
    "i if i.get('k') != 'event' else {'k': 'turn', 't': i['t'], 'what': (i.get('event') or {}).get('type')}"
    " for i in items if i.get('k') in ('timeline', 'kernel_timeline') or (i.get('k') == 'event'"
    " and (i.get('dir'), (i.get('event') or {}).get('type')) in _bench_turn_events)))",
    "widget",
)


def widget_runs(
    context: Any,
    lab_dir: Path,
    server: LocalServer,
    runs: int,
    warmup: int,
    *,
    setup: str = "widget",
    between: tuple[PlainPage, ...] = (),
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """``warmup + runs`` connect/disconnect cycles of one widget in one JupyterLab notebook (every one returned, the
    cold first first), each followed by one call of every page in ``between``, so that the widget and those pages
    are measured in turn under the same load; then, for the WebRTC widget, as many calls of the bare page's code
    loaded into that same JupyterLab tab (``bare-in-lab``), which separates what the JupyterLab page costs from
    what the widget's own steps cost."""
    transport = WIDGET_TRANSPORTS[setup]
    rtp = transport == "webrtc"
    notebooks = lab_dir / "notebooks"
    notebooks.mkdir()
    name = write_notebook(
        notebooks, "connect_time.ipynb", WIDGET_CELLS[0].format(transport=transport), *WIDGET_CELLS[1:]
    )
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
    env[LOCAL_SERVER_URL_ENV] = server.base_url
    env[LOCAL_SERVER_KEY_ENV] = server.api_key
    lab = start_jupyterlab(lab_dir / "lab", notebooks, env)
    page = context.new_page()
    page.add_init_script(UNMUTE_HOOK)
    if setup == "widget-proxy":
        port = urlparse(server.base_url).port
        page.route(f"http://127.0.0.1:{port}/**", lambda route: route.abort("connectionrefused"))
        page.route_web_socket(re.compile(rf"^ws://127\.0\.0\.1:{port}/"), lambda ws: ws.close(code=1006))
    lab_page = LabPage(page, lab)
    in_lab: list[dict[str, float]] = []
    kernel = None
    try:
        lab_page.open_notebook(name)
        lab_page.run_all_cells()
        page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
        lab_page.wait_kernel_idle()
        kernel = lab.kernel_client(name)
        for _ in range(warmup + runs):
            page.hover(f"{WIDGET} [data-testid=connect]")
            # The page notes "connected" itself, so that no selector polling of JupyterLab's large DOM competes with
            # the connect, as none does with the pages'.
            page.evaluate(STATUS_WATCH)
            # Pressed as a person clicks, the button held down for a moment (the widget opens the microphone on
            # the press); the clock starts at the click.
            page.mouse.down()
            page.wait_for_timeout(PRESS_MS)
            page.mouse.up()
            # Waiting in the page (not only in the kernel) lets Playwright serve widget-proxy's route handlers.
            page.wait_for_function("() => window.__benchConnected === true", timeout=30_000, polling=250)
            if rtp:
                page.wait_for_function("() => window.__benchUnmute.length > 0", timeout=10_000)
            kernel.wait_until("widget.status == 'connected'", timeout=10)
            # One typed turn, answered by the server's offline voice model: until its audio is heard.
            heard = kernel.value("sum(i.get('what') == 'first_audio' for i in _bench_items)")
            # Over WebRTC the server's output buffer cleared; over the WebSocket, where the browser plays and drops
            # the audio, the response done: counted before the turn, as the response may end before it is heard.
            done = "output_audio_buffer.cleared" if rtp else "response.done"
            ended = f"sum(i.get('what') == {done!r} for i in _bench_items)"
            before = kernel.value(ended)
            kernel.run("widget.send_text('What were the sales in March?')")
            kernel.wait_until(f"sum(i.get('what') == 'first_audio' for i in _bench_items) > {heard}", timeout=30)
            # Cut the reply short and wait until the server is done with it, so that the next connect starts
            # with an idle server.
            kernel.run("widget.cancel_response()")
            kernel.wait_until(f"{ended} > {before}", timeout=30)
            page.click(f"{WIDGET} [data-testid=disconnect]")
            page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=30_000)
            kernel.wait_until("widget.status == 'closed'", timeout=10)
            if rtp:
                unmute = page.evaluate("() => window.__benchUnmute.splice(0)")
                kernel.run(f"_bench_items.append({{'k': 'bench_unmute', 't': {unmute[0]!r}}})")
            page.wait_for_timeout(300)
            for other in between:
                other.call()
                page.wait_for_timeout(300)
        items = kernel.value("_bench_items")
        if rtp:
            page.add_script_tag(path=str(PAGES / "bare.js"))
            in_lab = call_loop(page, server, runs, warmup)
    finally:
        if kernel is not None:
            kernel.close()
        page.close()
        stop_jupyterlab(lab)
    return attempts_from_items(items), in_lab


def attempts_from_items(items: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Splits the recorded timeline at each ``connect_requested``; ms from it to each step's first occurrence."""
    attempts: list[dict[str, float]] = []
    start = 0.0
    cut = {("turn", "output_audio_buffer.cleared"), ("turn", "response.done")}  # the reply's end: no step
    for item in (i for i in items if (i["k"], i.get("what")) not in cut):
        kind, what, t = item["k"], item.get("what"), float(item["t"])
        # A fallback (WebRTC, then WebSocket) requests a connection twice in one attempt: it is timed from the first.
        if kind == "timeline" and what == "connect_requested" and (not attempts or "connected" in attempts[-1]):
            start = t
            attempts.append({})
        elif not attempts:
            continue
        marks = attempts[-1]
        if kind == "turn" and what == "conversation.item.create":
            marks.setdefault("turn_sent", t)
        elif kind == "turn" and "turn_sent" in marks:
            marks.setdefault("reply_text", t - marks["turn_sent"])
        elif kind == "timeline" and what == "first_audio" and "turn_sent" in marks:
            marks.setdefault("reply_audio", t - marks["turn_sent"])  # audible: the typed turn's reply
        elif kind == "timeline" and what != "first_audio":  # audible speech; the idle server sends silence
            marks.setdefault(what, t - start)
            if what == "mint_end" and "key_source" not in marks:
                marks["key_source"] = KEY_SOURCES.get(str((item.get("detail") or {}).get("key")), -1)
        elif kind == "bench_unmute":
            marks.setdefault("first_audio", t - start)
        elif kind == "kernel_timeline" and what in ("mint_start", "mint_end"):
            # Kernel clock: only the difference between the two is meaningful.
            marks.setdefault(f"kernel_{what}", t)
    for marks in attempts:
        marks.pop("turn_sent", None)
        if "kernel_mint_start" in marks and "kernel_mint_end" in marks:
            marks["kernel_mint_ms"] = marks.pop("kernel_mint_end") - marks.pop("kernel_mint_start")
    return attempts


# Where a connect's key came from (the timeline's mint_end detail), as a number so that attempts stay numeric.
KEY_SOURCES = {"prewarmed": 0, "connect_command": 1, "mint_key": 2}
SETUPS = ("widget", "widget-websocket", "widget-proxy", "bare", "agents-sdk")
WIDGET_REFERENCES = ("bare", "agents-sdk")
PAGE_FILES = {"bare": "bare.html", "agents-sdk": "sdk.html"}


def key_sources(runs: list[dict[str, float]]) -> str:
    """How many of ``runs`` used each kind of key, e.g. ``10 prewarmed``."""
    names = {v: k for k, v in KEY_SOURCES.items()}
    counts: dict[str, int] = {}
    for marks in runs:
        if "key_source" in marks:
            name = names.get(int(marks["key_source"]), "unknown")
            counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "-"


def results_table(results: dict[str, list[dict[str, float]]], warmup: int, notes: list[str]) -> Table:
    """Each step as min / median / max over the measured (warm) runs, the WebRTC widget's median beside the bare
    page's and the Agents SDK's as ratios, and the cold first connect of every setup on rows of their own."""
    setups = list(results)
    others = [s for s in WIDGET_REFERENCES if s in setups and "widget" in setups]
    measured = {s: results[s][warmup:] for s in setups}
    cold = {s: results[s][:1] for s in setups}
    table = Table(
        "Connect time (ms from the click to each step)",
        "scripts/in-loopback-netns python benchmarks/connect_time.py",
        ["step", *(f"{s} (n={len(measured[s])})" for s in setups), *(f"widget ÷ {o}" for o in others)],
        notes=[
            "Debian Chromium, one local server, loopback, a silent fake microphone; each setup's tab connects and"
            f" hangs up {warmup} + n times, the WebRTC widget, the bare page and the Agents SDK in turn (one "
            "connect each, round after round, so that they meet the same load). min / median / max in ms from the"
            " start of the attempt over the n warm runs; the ratio columns divide the WebRTC widget's median by "
            "the other setup's, from the same run (no ratio of two steps both under 2 ms). The cold rows are each"
            " tab's first connect, the page just loaded (for the widget: after the cell ran and the kernel went "
            "idle). turn rows: ms from the typed turn sent. widget-proxy's connected includes its failed WebRTC "
            "and direct WebSocket tries.",
            *notes,
        ],
    )

    def medians(key: str, runs: dict[str, list[dict[str, float]]]) -> dict[str, float | None]:
        return {s: median_or_none([m[key] for m in runs[s] if key in m]) for s in setups}

    def ratios(mid: dict[str, float | None]) -> list[str]:
        # A ratio of two near-zero times (steps the others reach at once) says nothing.
        return [ratio(mid["widget"], mid[o]) if (mid[o] or 0) >= 2 else "-" for o in others]

    for key, label in [*STEPS, ("kernel_mint_ms", "(kernel: mint HTTP call)"), *TURN_STEPS]:
        cells = [spread([m[key] for m in measured[s] if key in m]) for s in setups]
        if all(c == "-" for c in cells):
            continue
        table.add(label, *cells, *ratios(medians(key, measured)))
    table.add("key (where it came from)", *(key_sources(measured[s]) for s in setups), *(["-"] * len(others)))
    for key, label in (("connected", "**cold first connect → connected**"), ("first_audio", "cold → first RTP")):
        mid = medians(key, cold)
        if all(v is None for v in mid.values()):
            continue
        table.add(label, *(f"{mid[s]:.0f}" if mid[s] is not None else "-" for s in setups), *ratios(mid))
    table.add("cold: key", *(key_sources(cold[s]) for s in setups), *(["-"] * len(others)))
    return table


def collect(runs: int, warmup: int, setups: list[str]) -> tuple[Table, dict[str, list[dict[str, float]]]]:
    """Runs the setups in one Chromium against one local server; the table (``results_table``) and every run's
    marks."""
    warmup = max(1, warmup)  # the first connect is the cold one, reported on its own
    if not only_loopback_interfaces():
        raise RuntimeError("run inside a network namespace with only lo: scripts/in-loopback-netns")
    unknown = [s for s in setups if s not in SETUPS]
    if unknown:
        raise ValueError(f"unknown setup {', '.join(unknown)}; there are: {', '.join(SETUPS)}")
    results: dict[str, list[dict[str, float]]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="connect-time-") as tmp_name:
        tmp = Path(tmp_name)
        site = tmp / "site"
        shutil.copytree(PAGES, site)
        mic = silent_wav(tmp / "silence.wav")
        sdk_problem = bundle_sdk_page(site) if "agents-sdk" in setups else None
        if sdk_problem is not None:
            notes.append(f"agents-sdk skipped: {sdk_problem}")
            setups = [s for s in setups if s != "agents-sdk"]
        server = LocalServer.start()
        try:
            with (
                static_server(site) as site_url,
                chromium_context(tmp / "profile", [f"--use-file-for-fake-audio-capture={mic}"]) as context,
            ):
                # The pages the WebRTC widget is compared with take their turns between its connects.
                paired = [s for s in WIDGET_REFERENCES if s in setups] if "widget" in setups else []
                pages = {s: PlainPage(context, f"{site_url}/{PAGE_FILES[s]}", server) for s in paired}
                try:
                    for setup in (s for s in setups if s not in paired):
                        started = time.monotonic()
                        if setup in WIDGET_TRANSPORTS:
                            directory = tmp / setup
                            directory.mkdir()
                            between = tuple(pages.values()) if setup == "widget" else ()
                            results[setup], in_lab = widget_runs(
                                context, directory, server, runs, warmup, setup=setup, between=between
                            )
                            if in_lab:
                                results["bare-in-lab"] = in_lab
                            results.update({s: p.runs for s, p in pages.items()})
                        else:
                            alone = PlainPage(context, f"{site_url}/{PAGE_FILES[setup]}", server)
                            try:
                                for _ in range(warmup + runs):
                                    alone.call()
                                    alone.page.wait_for_timeout(300)
                            finally:
                                alone.close()
                            results[setup] = alone.runs
                        print(
                            f"{setup}: {len(results[setup])} runs in {time.monotonic() - started:.0f} s",
                            file=sys.stderr,
                            flush=True,
                        )
                finally:
                    for opened in pages.values():
                        opened.close()
        finally:
            server.stop()
    return results_table(results, warmup, notes), results


def run(quick: bool) -> Table:
    """What ``python -m benchmarks`` runs: every setup, 8 warm connects each (3 with ``quick``) after the cold one,
    so that every benchmark fits in ten minutes; alone it makes 10 (``--runs``)."""
    table, _ = collect(3 if quick else 8, 1, list(SETUPS))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured connects per setup (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="connects first made and left out per setup (>= 1)")
    parser.add_argument("--quick", action="store_true", help="3 runs per setup")
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated subset")
    parser.add_argument("--save", type=Path, help="also write every run's marks to this JSON file")
    args = parser.parse_args()
    if not only_loopback_interfaces():
        sys.exit("Run inside a network namespace with only lo: scripts/in-loopback-netns python " + sys.argv[0])
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    table, results = collect(3 if args.quick else args.runs, args.warmup, setups)
    print(table.markdown())
    if args.save is not None:
        args.save.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
