"""Event-sync throughput in the kernel: JSON batch messages → BatchInbox → SessionRecord.add_items.

The comm delivers each ``rtw:batch`` as JSON text that ipywidgets parses into a dict; this measures from that text
on: parse, dedupe/ack, record. Batches of 200 realistic GA events (from ``realtime_widget.sample``), at 1k, 10k and
100k events. Throughput must stay flat as the session grows (no work proportional to what is already recorded).
Also prints bytes per event on the wire. Prints min/median/max over repeats; never asserts timings.

    python benchmarks/wire_throughput.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from realtime_widget.batches import BatchInbox
from realtime_widget.record import SessionRecord
from realtime_widget.sample import batches, synthetic_items

SIZES = (1_000, 10_000, 100_000)


def event_items(count: int) -> list[dict[str, Any]]:
    """``count`` realistic event items: whole synthetic sessions, repeated (with fresh seeds) until long enough."""
    items: list[dict[str, Any]] = []
    seed = 0
    while len(items) < count:
        items.extend(i for i in synthetic_items(40, seed=seed, stats_every_ms=None) if i["k"] == "event")
        seed += 1
    return items[:count]


def run_once(messages: list[str]) -> float:
    inbox = BatchInbox()
    record = SessionRecord()
    start = time.perf_counter()
    for text in messages:
        result = inbox.accept(json.loads(text))
        record.add_items(result.items)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pool = event_items(max(SIZES))
    print(f"{'events':>8} {'batches':>8} {'bytes/event':>12} {'events/s min':>13} {'median':>10} {'max':>10}")
    for size in SIZES:
        messages = [json.dumps(b, separators=(",", ":")) for b in batches(pool[:size], size=200)]
        per_event = sum(len(m.encode()) for m in messages) / size
        rates = [size / run_once(messages) for _ in range(args.repeats)]
        print(
            f"{size:>8,} {len(messages):>8,} {per_event:>12.0f} {min(rates):>13,.0f} "
            f"{statistics.median(rates):>10,.0f} {max(rates):>10,.0f}"
        )


if __name__ == "__main__":
    main()
