"""How fast evals run against the local server, and what concurrency does to the latency they measure.

Starts the local server as a child process (as a notebook's sessions do) and runs the same spoken cases with
``evals.run`` at several concurrencies: wall time, runs per minute, the voice-to-voice latency the runs measured
(median and p90), the pass rate of a latency budget, the cost per run at the model's list prices (the local server
reports token estimates), and CPU seconds per run in this process and in the server process (its speech
recognition runs in a worker process of its own, not counted). When the machine cannot keep
up, latency grows with concurrency: the ratio column shows by how much against one session at a time.

Run: ``.venv/bin/python benchmarks/eval_runs.py [--concurrency 1,2,4] [--runs 8]``. Prints a table; asserts
nothing. ``run(quick)`` is what ``python -m benchmarks`` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import needs
from benchmarks.table import Table, ratio
from realtime_widget import evals
from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV
from realtime_widget.evals import Case, Say, expect
from realtime_widget.server.launcher import LocalServer

BUDGET_MS = 1500
#: What ``python -m benchmarks`` allows it (seconds; about 45 on a quiet 2-core machine).
BUDGET_S = 150


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(concurrency: int, runs: int, server: LocalServer, out: Path) -> dict[str, float]:
    cases = [Case(f"spoken {n}", [Say("Hello, how are you?"), expect.latency_within(BUDGET_MS)]) for n in range(runs)]
    server_cpu, own_cpu, started = _cpu_seconds(server.pid or 0), time.process_time(), time.perf_counter()
    results = await evals.run(cases, concurrency=concurrency, progress=False, out=out)
    wall = time.perf_counter() - started
    latency = results.turns["latency_ms"].dropna().to_numpy()
    return {
        "wall_s": wall,
        "runs_per_min": runs / wall * 60,
        "p50_ms": float(np.percentile(latency, 50)),
        "p90_ms": float(np.percentile(latency, 90)),
        "within_budget": float(results.table["passed"].mean()),
        "cost_usd": float(results.table["cost_usd"].mean()),
        "kernel_cpu_s": (time.process_time() - own_cpu) / runs,
        "server_cpu_s": (_cpu_seconds(server.pid or 0) - server_cpu) / runs,
    }


async def collect(concurrencies: list[int], runs: int) -> Table:
    """``runs`` spoken runs at each concurrency against one local server, after a warm-up run."""
    server = LocalServer.start()
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ[LOCAL_SERVER_URL_ENV], os.environ[LOCAL_SERVER_KEY_ENV] = server.base_url, server.api_key
    rows = []
    try:
        with tempfile.TemporaryDirectory() as out:
            await evals.run([Case("warm-up", [Say("Hello")])], progress=False, out=out)  # ASR and TTS loaded
            for k in concurrencies:
                rows.append((k, await _measure(k, runs, server, Path(out))))
                print(f"  concurrency {k}: {runs} runs in {rows[-1][1]['wall_s']:.0f} s", flush=True)
    finally:
        server.stop()
    table = Table(
        "Evals: runs per minute and the latency they measure",
        f"python benchmarks/eval_runs.py --concurrency {','.join(map(str, concurrencies))} --runs {runs}",
        [
            "concurrency",
            "wall s",
            "runs/min",
            "latency p50 ms",
            "p90 ms",
            f"p50 vs {concurrencies[0]}",
            f"within {BUDGET_MS / 1000:g} s",
            "cost/run USD",
            "kernel CPU s/run",
            "server CPU s/run",
        ],
        notes=[
            f"{runs} spoken runs per row (`Say('Hello, how are you?')`, one turn, a {BUDGET_MS / 1000:g} s latency "
            "budget) through `evals.run` against the local server (child process, WebSocket headless sessions); "
            f"load average {os.getloadavg()[0]:.1f} at the end. Kernel CPU is this process (sessions, eSpeak NG "
            "synthesis of the user's speech, scoring, saving); server CPU is the server process without its "
            "recognition worker. Cost is the local server's token estimate at `gpt-realtime` list prices."
        ],
    )
    base = rows[0][1]["p50_ms"]
    for k, r in rows:
        table.add(
            k,
            f"{r['wall_s']:.1f}",
            f"{r['runs_per_min']:.1f}",
            f"{r['p50_ms']:.0f}",
            f"{r['p90_ms']:.0f}",
            ratio(r["p50_ms"], base),
            f"{r['within_budget']:.0%}",
            f"{r['cost_usd']:.4f}",
            f"{r['kernel_cpu_s']:.2f}",
            f"{r['server_cpu_s']:.2f}",
        )
    return table


def run(quick: bool) -> Table:
    """For ``python -m benchmarks``: 4 runs at concurrency 1, 2 and 4 (``quick``: 2 runs at 1 and 2)."""
    needs.speech()
    return asyncio.run(collect([1, 2] if quick else [1, 2, 4], 2 if quick else 4))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,2,4", help="comma-separated concurrencies (default 1,2,4)")
    parser.add_argument("--runs", type=int, default=8, help="runs per concurrency (default 8)")
    arguments = parser.parse_args()
    concurrencies = [int(k) for k in arguments.concurrency.split(",")]
    print(asyncio.run(collect(concurrencies, arguments.runs)).markdown())
