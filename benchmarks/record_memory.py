"""Kernel memory of a long session's record, and the cost of building each DataFrame view at that size.

Simulates a 60-minute session at 30 events/s (108,000 realistic GA events from ``realtime_widget.sample``, their times
spread over the hour) plus one ``getStats`` sample a second, appended in 200-item batches as the widget would.
Memory is what ``tracemalloc`` sees allocated by appending (the input items are built before tracing starts). The
views' own size is ``DataFrame.memory_usage(deep=True)``: their string columns live in Arrow buffers, which
tracemalloc does not see. Times are measured in separate runs without tracing. Prints min/median/max over repeats;
never asserts.

    python benchmarks/record_memory.py [--repeats 3] [--minutes 60] [--rate 30]

``run(quick)`` is what ``python -m benchmarks`` calls: the hour, once (``quick``: 15 minutes).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.table import Table, ratio, spread
from realtime_widget.record import SessionRecord
from realtime_widget.record.persist import VIEWS
from realtime_widget.sample import SAMPLE_START, synthetic_items

MB = 1024 * 1024
#: What ``python -m benchmarks`` allows it (seconds; about 15 on a quiet 2-core machine).
BUDGET_S = 120


def session_items(minutes: float, rate: float) -> list[dict[str, Any]]:
    """Event items at ``rate``/s and one stats sample per second over ``minutes``, ordered by time."""
    count = int(minutes * 60 * rate)
    events: list[dict[str, Any]] = []
    seed = 0
    while len(events) < count:
        events.extend(i for i in synthetic_items(40, seed=seed, stats_every_ms=None) if i["k"] == "event")
        seed += 1
    events = events[:count]
    start = SAMPLE_START.timestamp() * 1000.0
    step = minutes * 60_000.0 / len(events)
    for n, item in enumerate(events):
        item["t"] = start + n * step  # the session's own rhythm, stretched evenly over the hour
    stats = synthetic_items(1, seed=0, stats_every_ms=1000.0)
    sample = next(i for i in stats if i["k"] == "stats")
    samples = [{**sample, "t": start + s * 1000.0} for s in range(int(minutes * 60))]
    return sorted(events + samples, key=lambda i: i["t"])


def build(items: list[dict[str, Any]]) -> SessionRecord:
    record = SessionRecord()
    for i in range(0, len(items), 200):
        record.add_items(items[i : i + 200])
    return record


def measure(minutes: float, rate: float, repeats: int) -> Table:
    items = session_items(minutes, rate)
    n_events = sum(i["k"] == "event" for i in items)
    appended, views_mb, append_s = [], [], []
    view_s: dict[str, list[float]] = {name: [] for name in VIEWS}
    for _ in range(repeats):
        gc.collect()
        tracemalloc.start()
        record = build(items)
        appended.append(tracemalloc.get_traced_memory()[0] / MB)
        tracemalloc.stop()
        views_mb.append(sum(getattr(record, name).memory_usage(deep=True).sum() for name in VIEWS) / MB)
        del record
        gc.collect()
        t0 = time.perf_counter()
        record = build(items)
        append_s.append(time.perf_counter() - t0)
        for name in VIEWS:
            t0 = time.perf_counter()
            getattr(record, name)
            view_s[name].append(time.perf_counter() - t0)
        del record

    table = Table(
        "Record memory and view cost",
        "python benchmarks/record_memory.py",
        ["measure", "min / median / max", "median ÷ aim"],
        notes=[
            f"A simulated {minutes:g}-minute session at {rate:g} events/s ({n_events:,} events) plus one `getStats` "
            f"sample a second, appended in 200-item batches; {repeats} repeat(s). Aims: record under 50 MB for an "
            "hour; views are built on first access and cached until the next append."
        ],
    )
    aim_mb = 50 * minutes / 60
    table.add("record memory (tracemalloc), MB", spread(appended, 1), ratio(statistics.median(appended), aim_mb))
    table.add("all views built, their size, MB", spread(views_mb, 1), "")
    table.add("append everything, s", spread(append_s, 2), "")
    for name in VIEWS:
        table.add(f"build `{name}` view, s", spread(view_s[name], 3), "")
    return table


def run(quick: bool) -> Table:
    return measure(15.0 if quick else 60.0, 30.0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=30.0)
    args = parser.parse_args()
    print(measure(args.minutes, args.rate, args.repeats).markdown())


if __name__ == "__main__":
    main()
