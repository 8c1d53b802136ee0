"""Event-sync throughput in the kernel: JSON batch messages → BatchInbox → SessionRecord.add_items.

The comm delivers each ``rtw:batch`` as JSON text that ipywidgets parses into a dict; this measures from that text
on: parse, dedupe/ack, record. Batches of 200 realistic GA events (from ``realtime_widget.sample``), at 1k, 10k and
100k events. Throughput must stay flat as the session grows (no work proportional to what is already recorded).
Also prints bytes per event on the wire. Prints min/median/max over repeats; never asserts timings.

    python benchmarks/wire_throughput.py [--repeats 5]

``run(quick)`` is what ``python -m benchmarks`` calls (3 repeats, or 1 with ``quick``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.table import Table, ratio, spread
from realtime_widget.batches import BatchInbox
from realtime_widget.record import SessionRecord
from realtime_widget.sample import batches, synthetic_items

SIZES = (1_000, 10_000, 100_000)
#: What ``python -m benchmarks`` allows it (seconds; about 5 on a quiet 2-core machine).
BUDGET_S = 60


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


def measure(repeats: int) -> Table:
    table = Table(
        "Event-sync throughput in the kernel",
        "python benchmarks/wire_throughput.py",
        ["events", "batches", "bytes/event", "events/s min / median / max", "median ÷ 5,000/s aim"],
        notes=[
            "JSON text of `rtw:batch` messages (200 realistic GA events each) → `json.loads` → `BatchInbox.accept` → "
            "`SessionRecord.add_items`, in one process. Flat from 10k to 100k events: appending does no work that "
            f"grows with what is recorded. {repeats} repeat(s)."
        ],
    )
    pool = event_items(max(SIZES))
    for size in SIZES:
        messages = [json.dumps(b, separators=(",", ":")) for b in batches(pool[:size], size=200)]
        per_event = sum(len(m.encode()) for m in messages) / size
        rates = [size / run_once(messages) for _ in range(repeats)]
        table.add(
            f"{size:,}", f"{len(messages):,}", f"{per_event:.0f}", spread(rates), ratio(statistics.median(rates), 5000)
        )
    return table


def run(quick: bool) -> Table:
    return measure(1 if quick else 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(measure(args.repeats).markdown())


if __name__ == "__main__":
    main()
