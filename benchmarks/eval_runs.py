"""How fast evals run against the local server, and what concurrency does to the latency they measure.

Starts the local server as a child process (as a notebook's sessions do) and runs the same spoken cases with
``evals.run`` at several concurrencies: wall time, runs per minute, the voice-to-voice latency the runs measured
(median and p90), the pass rate of a latency budget, the cost per run at the model's list prices (the local server
reports token estimates), and CPU seconds per run in this process and in the server. When the machine cannot keep
up, latency grows with concurrency: the ratio column shows by how much against one session at a time.

Run: ``.venv/bin/python benchmarks/eval_runs.py [--concurrency 1,2,4] [--runs 8]``. Prints a table; asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV
from realtime_widget.evals import Case, Say, expect, run
from realtime_widget.server.launcher import LocalServer

BUDGET_MS = 1500


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(concurrency: int, runs: int, server: LocalServer, out: Path) -> dict[str, float]:
    cases = [Case(f"spoken {n}", [Say("Hello, how are you?"), expect.latency_within(BUDGET_MS)]) for n in range(runs)]
    server_cpu, own_cpu, started = _cpu_seconds(server.pid or 0), time.process_time(), time.perf_counter()
    results = await run(cases, concurrency=concurrency, progress=False, out=out)
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


async def main(concurrencies: list[int], runs: int) -> None:
    server = LocalServer.start()
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ[LOCAL_SERVER_URL_ENV], os.environ[LOCAL_SERVER_KEY_ENV] = server.base_url, server.api_key
    rows = []
    try:
        with tempfile.TemporaryDirectory() as out:
            await run([Case("warm-up", [Say("Hello")])], progress=False, out=out)  # ASR and TTS loaded
            for k in concurrencies:
                rows.append((k, await _measure(k, runs, server, Path(out))))
    finally:
        server.stop()
    base = rows[0][1]["p50_ms"]
    print(f"{runs} spoken runs per row ('Hello, how are you?', one turn); load average {os.getloadavg()[0]:.1f}")
    print(
        "| concurrency | wall s | runs/min | latency p50 ms | p90 ms | p50 vs 1 | within 1.5 s | cost/run USD "
        "| kernel CPU s/run | server CPU s/run |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k, r in rows:
        print(
            f"| {k} | {r['wall_s']:.1f} | {r['runs_per_min']:.1f} | {r['p50_ms']:.0f} | {r['p90_ms']:.0f} "
            f"| {r['p50_ms'] / base:.2f}x | {r['within_budget']:.0%} | {r['cost_usd']:.4f} "
            f"| {r['kernel_cpu_s']:.2f} | {r['server_cpu_s']:.2f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,2,4", help="comma-separated concurrencies (default 1,2,4)")
    parser.add_argument("--runs", type=int, default=8, help="runs per concurrency (default 8)")
    arguments = parser.parse_args()
    asyncio.run(main([int(k) for k in arguments.concurrency.split(",")], arguments.runs))
