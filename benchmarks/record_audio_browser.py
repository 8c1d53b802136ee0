"""What recording both sides costs the browser and the comm: ``RealtimeWidget(record_audio=True)`` against the same
widget without it, in real JupyterLab and Debian's Chromium, over loopback WebRTC to the local server.

Each call lasts ``--seconds`` (default 60) with the fake microphone speaking an eSpeak NG phrase every eleven
seconds (tests/e2e/speech.py) and the server answering each: a real conversation, both sides sounding. Per call:

- **browser CPU**: user + system CPU time of every Chromium process (the renderer runs the widget, its audio
  thread the worklets; the browser and GPU processes are counted too, as the operating system charges them),
  in ms per second of call: 1,000 would be one core busy;
- **comm, page → kernel**: bytes of every frame the page sends on JupyterLab's kernel WebSockets (Playwright's
  ``framesent``), per minute of call: the audio chunks' PCM16 and their headers, besides the event batches;
- **disk**: the kernel's spool files while recording, and the FLAC files ``record.save`` writes, per minute.

The two setups alternate, ``--runs`` calls each, and every cell is min / median / max, with the median's ratio to
the widget without recording. Run inside a network namespace with only ``lo`` (``scripts/in-loopback-netns``) or
through ``python -m benchmarks``. Never asserts timings.

    scripts/in-loopback-netns .venv/bin/python benchmarks/record_audio_browser.py [--seconds 60] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 150
sys.path.insert(0, str(REPO))

from benchmarks.table import Table, spread  # noqa: E402
from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV  # noqa: E402
from realtime_widget.server.launcher import LocalServer  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    JupyterLab,
    chromium_context,
    only_loopback_interfaces,
    start_jupyterlab,
    stop_jupyterlab,
)
from tests.e2e.lab_page import WIDGET, LabPage  # noqa: E402
from tests.e2e.notebooks import write_notebook  # noqa: E402
from tests.e2e.speech import write_mic_wav  # noqa: E402

SETUPS = {"without recording": False, "record_audio=True": True}
REPLY = "The north sold forty two units this week, a little more than last week."
MB = 1024 * 1024


def chromium_cpu_s(profile: Path) -> float:
    """CPU seconds used so far by the Chromium processes of this profile (its user data dir is on each command
    line, renderers and utilities included), from ``/proc`` (Linux, where these benchmarks run)."""
    total_ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if str(profile).encode() not in (entry / "cmdline").read_bytes():
                continue
            # utime and stime are fields 14 and 15; the command name (field 2) may hold spaces, so split after it.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total_ticks += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # a process that ended meanwhile
    return total_ticks / os.sysconf("SC_CLK_TCK")


class FrameCounter:
    """Bytes the page sends on its WebSockets (the kernel channels), counted from Playwright's ``framesent``."""

    def __init__(self, page: Any) -> None:
        self.sent = 0
        page.on("websocket", lambda ws: ws.on("framesent", self._count))

    def _count(self, payload: str | bytes) -> None:
        self.sent += len(payload.encode() if isinstance(payload, str) else payload)


def one_call(
    lab: JupyterLab, context: Any, profile: Path, server: LocalServer, *, record: bool, seconds: float
) -> dict[str, float]:
    name = write_notebook(
        lab.root_dir,
        f"record_bench_{int(record)}_{time.monotonic_ns()}.ipynb",
        f"from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget(record_audio={record})\nwidget",
    )
    page = context.new_page()
    frames = FrameCounter(page)
    lab_page = LabPage(page, lab)
    kernel = None
    try:
        lab_page.open_notebook(name)
        lab_page.run_all_cells()
        page.wait_for_selector(f"{WIDGET} [data-testid=connect]", timeout=60_000)
        lab_page.wait_kernel_idle()
        kernel = lab.kernel_client(name)
        page.click(f"{WIDGET} [data-testid=connect]")
        page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
        call_id = kernel.wait_until("widget.status == 'connected' and widget.call_id", timeout=10)
        server.script([{"say": REPLY}] * 20, call_id=call_id)
        cpu0, sent0, t0 = chromium_cpu_s(profile), frames.sent, time.monotonic()
        page.wait_for_timeout(seconds * 1000)  # the conversation runs: the microphone speaks, the server answers
        cpu1, sent1, t1 = chromium_cpu_s(profile), frames.sent, time.monotonic()
        page.click(f"{WIDGET} [data-testid=disconnect]")
        kernel.wait_until("widget.status == 'closed'", timeout=30)
        elapsed = t1 - t0
        result = {
            "cpu_ms_per_s": (cpu1 - cpu0) * 1000 / elapsed,
            "comm_mb_per_min": (sent1 - sent0) / MB * 60 / elapsed,
            "turns": float(kernel.value("len(widget.record.turns)")),
        }
        if record:
            folder = lab.root_dir / f"{name}.saved"
            minutes = float(kernel.value("widget.record.audio.user.duration_s")) / 60
            spool = kernel.value("sum(p.stat().st_size for p in widget.record._audio_writer.folder.iterdir())")
            kernel.run(f"saved = widget.record.save({str(folder)!r})", timeout=120)
            flac = kernel.value("sum(f.stat().st_size for f in widget.record.audio.files if f.suffix == '.flac')")
            result["spool_mb_per_min"] = spool / MB / minutes
            result["flac_mb_per_min"] = flac / MB / minutes
        return result
    finally:
        if kernel is not None:
            kernel.run("widget.close()")
            kernel.close()
        page.close()


def measure(seconds: float, runs: int) -> Table:
    results: dict[str, list[dict[str, float]]] = {setup: [] for setup in SETUPS}
    with tempfile.TemporaryDirectory(prefix="record-audio-browser-") as tmp_name:
        tmp = Path(tmp_name)
        notebooks = tmp / "notebooks"
        notebooks.mkdir()
        mic = write_mic_wav(tmp / "mic.wav")
        server = LocalServer.start()
        env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
        env[LOCAL_SERVER_URL_ENV] = server.base_url
        env[LOCAL_SERVER_KEY_ENV] = server.api_key
        lab = start_jupyterlab(tmp / "lab", notebooks, env)
        profile = tmp / "profile"
        try:
            with chromium_context(profile, [f"--use-file-for-fake-audio-capture={mic}"]) as context:
                for _ in range(runs):
                    for setup, record in SETUPS.items():  # alternated, so load on the machine falls on both
                        results[setup].append(one_call(lab, context, profile, server, record=record, seconds=seconds))
        finally:
            stop_jupyterlab(lab)
            server.stop()
    return table(results, seconds, runs)


def table(results: dict[str, list[dict[str, float]]], seconds: float, runs: int) -> Table:
    out = Table(
        "Recording both sides in the browser (record_audio=True)",
        "scripts/in-loopback-netns .venv/bin/python benchmarks/record_audio_browser.py",
        [
            "setup",
            "browser CPU (ms/s of call)",
            "ratio",
            "comm page→kernel (MB/min)",
            "spool (MB/min)",
            "FLAC (MB/min)",
        ],
    )
    base = results["without recording"]

    def cells(rows: list[dict[str, float]], key: str, digits: int) -> str:
        return spread([r[key] for r in rows if key in r], digits)

    for setup, rows in results.items():
        ratio = statistics.median(r["cpu_ms_per_s"] for r in rows) / statistics.median(r["cpu_ms_per_s"] for r in base)
        out.add(
            setup,
            cells(rows, "cpu_ms_per_s", 0),
            f"{ratio:.2f}x",
            cells(rows, "comm_mb_per_min", 2),
            cells(rows, "spool_mb_per_min", 2),
            cells(rows, "flac_mb_per_min", 2),
        )
    out.notes.append(
        f"{runs} call(s) of {seconds:.0f} s per setup, alternated, in one JupyterLab and one Chromium; the fake "
        "microphone speaks every 11 s and the local server answers. CPU: all Chromium processes of the profile "
        "(/proc), per second of call. Comm: frames the page sent on the kernel WebSockets. Without a key the "
        "setups talk to the local server; PCM16 at 24 kHz is 2.75 MB a minute per side before framing."
    )
    return out


def run(quick: bool) -> Table:
    """For ``python -m benchmarks``: one call of 30 s per setup (``quick``: 20 s), about a minute and a half, so that
    every benchmark fits in ten minutes; the standalone default (two 60 s calls each) gives steadier figures."""
    return measure(20.0 if quick else 30.0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if not only_loopback_interfaces():
        sys.exit("Run inside a network namespace with only lo: scripts/in-loopback-netns python " + sys.argv[0])
    print(measure(args.seconds, args.runs).markdown())


if __name__ == "__main__":
    main()
