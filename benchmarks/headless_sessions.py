"""How many headless sessions run concurrently in real time, and what each costs in CPU.

Starts the local server as a child process (as a Session without a key does), then for each count N runs N
``realtime_widget.Session`` conversations at once on one event loop: a spoken question (eSpeak NG, streamed in
real time, server VAD), its reply heard to the end, then a typed message and its reply. Per N it prints:

- turn latency (end of the user's speech → first audible reply sample, from the audio), median and p90, and the
  median's ratio to N=1: queuing anywhere (kernel loop, server, recognition) shows here;
- how well the sessions kept real time: microphone frames handed over more than one frame (20 ms) late, and the
  worst lateness;
- CPU per session, as % of one core over the run's wall time: this process (all sessions' kernel side) and the
  server with its recognition workers, each divided by N.

A count is "real time" when under 1 % of microphone frames were late and the median latency is within 1.5 x N=1's.

Run (loopback only): ``scripts/in-loopback-netns .venv/bin/python benchmarks/headless_sessions.py
[--counts 1,2,4,8,16] [--transport websocket|webrtc]``. Prints a table; asserts nothing. ``run(quick)`` is what
``python -m benchmarks`` calls (both transports).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import needs
from benchmarks.table import Table, ratio
from realtime_widget import Session
from realtime_widget.server.launcher import LocalServer

QUESTION = "what are the total sales in the north"
_TICKS = os.sysconf("SC_CLK_TCK")
#: What ``python -m benchmarks`` allows it (seconds; about 90 on a quiet 2-core machine).
BUDGET_S = 180


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of a process and its live descendants (the server and its recognition
    workers), from /proc."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    tree, total = {root}, 0.0
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in stats.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    for pid in tree:
        total += stats.get(pid, (0, 0.0))[1]
    return total


async def converse(session: Session) -> None:
    await session.say(QUESTION)
    await session.wait_for_reply(timeout=120)
    await session.send_text("hello")
    await session.wait_for_reply(timeout=120)


async def run_count(server: LocalServer, count: int, transport: str) -> dict[str, float]:
    sessions = [
        Session(transport=transport, api_key=server.api_key, base_url=server.base_url)  # type: ignore[arg-type]
        for _ in range(count)
    ]
    await asyncio.gather(*(s.connect() for s in sessions))
    assert server.pid is not None
    server_cpu, own_cpu, wall = tree_cpu_s(server.pid), time.process_time(), time.monotonic()
    results = await asyncio.gather(*(converse(s) for s in sessions), return_exceptions=True)
    wall = time.monotonic() - wall
    own_cpu = time.process_time() - own_cpu
    server_cpu = tree_cpu_s(server.pid) - server_cpu
    await asyncio.gather(*(s.close() for s in sessions))
    failures = [r for r in results if isinstance(r, BaseException)]
    latencies = sorted(float(ms) for s in sessions for ms in s.record.voice_latency["ms"])
    stats = [s.realtime_stats() for s in sessions]
    frames = sum(s["frames"] for s in stats)
    return {
        "count": count,
        "failed": len(failures),
        "wall_s": wall,
        "latency_p50": statistics.median(latencies) if latencies else float("nan"),
        "latency_p90": latencies[int(0.9 * (len(latencies) - 1))] if latencies else float("nan"),
        "late_pct": 100.0 * sum(s["late_frames"] for s in stats) / max(frames, 1),
        "max_late_ms": max(s["max_late_ms"] for s in stats),
        "own_cpu_pct": 100.0 * own_cpu / wall / count,
        "server_cpu_pct": 100.0 * server_cpu / wall / count,
    }


async def collect(counts: list[int], transport: str) -> Table:
    """One row per session count, after a one-session warm-up, against a local server of its own."""
    with LocalServer.start() as server:
        await run_count(server, 1, transport)  # warm-up: recognizer and synthesizer loaded, caches filled
        return await measure(server, counts, transport)


async def measure(server: LocalServer, counts: list[int], transport: str) -> Table:
    """One row per session count, on a server already warmed up."""
    load_before = os.getloadavg()[0]
    rows = []
    for n in counts:
        rows.append(await run_count(server, n, transport))
        print(f"  {transport}, {n} session(s): {rows[-1]['wall_s']:.0f} s", flush=True)
    base = rows[0]["latency_p50"]
    table = Table(
        f"Headless sessions over {transport}: how many at once, and CPU per session",
        f"scripts/in-loopback-netns .venv/bin/python benchmarks/headless_sessions.py --transport {transport} "
        f"--counts {','.join(map(str, counts))}",
        [
            "sessions",
            "failed",
            "wall s",
            "latency p50 ms",
            "p90 ms",
            f"p50 / N={counts[0]}",
            "mic frames late %",
            "worst late ms",
            "kernel CPU %/session",
            "server CPU %/session",
            "real time",
        ],
        notes=[
            f"Each session: a spoken question, its reply heard to the end, a typed message and its reply. Load "
            f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after. A count is real time when under 1 % "
            "of microphone frames were late and the median latency is within 1.5x the first row's."
        ],
    )
    for r in rows:
        real_time = r["failed"] == 0 and r["late_pct"] < 1.0 and r["latency_p50"] / base <= 1.5
        table.add(
            f"{r['count']:.0f}",
            f"{r['failed']:.0f}",
            f"{r['wall_s']:.1f}",
            f"{r['latency_p50']:.0f}",
            f"{r['latency_p90']:.0f}",
            ratio(r["latency_p50"], base).removesuffix("x"),
            f"{r['late_pct']:.2f}",
            f"{r['max_late_ms']:.0f}",
            f"{r['own_cpu_pct']:.1f}",
            f"{r['server_cpu_pct']:.1f}",
            "yes" if real_time else "no",
        )
    return table


def run(quick: bool) -> list[Table]:
    """For ``python -m benchmarks``: 1 and 8 sessions over the WebSocket and 1 and 4 over WebRTC (``quick``: 1 and 2
    over the WebSocket, 1 over WebRTC). Each count is one conversation's length (about 10 s) whatever N; the
    standalone ``--counts`` gives the steps between."""
    needs.speech()

    async def both() -> list[Table]:
        with LocalServer.start() as server:
            await run_count(server, 1, "websocket")  # warm-up, once for both transports
            return [
                await measure(server, [1, 2] if quick else [1, 8], "websocket"),
                await measure(server, [1] if quick else [1, 4], "webrtc"),
            ]

    return asyncio.run(both())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1,2,4,8,16", help="comma-separated session counts")
    parser.add_argument("--transport", choices=["websocket", "webrtc"], default="websocket")
    args = parser.parse_args()
    print(asyncio.run(collect([int(c) for c in args.counts.split(",")], args.transport)).markdown())
