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
[--counts 1,2,4,8,16] [--transport websocket|webrtc]``. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from realtime_widget import Session
from realtime_widget.server.launcher import LocalServer

QUESTION = "what are the total sales in the north"
_TICKS = os.sysconf("SC_CLK_TCK")


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


async def main(counts: list[int], transport: str) -> None:
    load_before = os.getloadavg()[0]
    with LocalServer.start() as server:
        await run_count(server, 1, transport)  # warm-up: recognizer and synthesizer loaded, caches filled
        rows = [await run_count(server, n, transport) for n in counts]
    base = rows[0]["latency_p50"]
    load_after = os.getloadavg()[0]
    print(f"\nHeadless sessions over {transport} (load average {load_before:.1f} before, {load_after:.1f} after)\n")
    print(
        "| sessions | failed | wall s | latency p50 ms | p90 ms | p50 / N=1 | mic frames late % | worst late ms "
        "| kernel CPU %/session | server CPU %/session | real time |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--|")
    for r in rows:
        ratio = r["latency_p50"] / base
        real_time = r["failed"] == 0 and r["late_pct"] < 1.0 and ratio <= 1.5
        print(
            f"| {r['count']:.0f} | {r['failed']:.0f} | {r['wall_s']:.1f} | {r['latency_p50']:.0f} "
            f"| {r['latency_p90']:.0f} | {ratio:.2f} | {r['late_pct']:.2f} | {r['max_late_ms']:.0f} "
            f"| {r['own_cpu_pct']:.1f} | {r['server_cpu_pct']:.1f} | {'yes' if real_time else 'no'} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1,2,4,8,16", help="comma-separated session counts")
    parser.add_argument("--transport", choices=["websocket", "webrtc"], default="websocket")
    args = parser.parse_args()
    asyncio.run(main([int(c) for c in args.counts.split(",")], args.transport))
