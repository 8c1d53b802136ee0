"""The replay view's kernel cost on a 60-minute recorded session: peaks for the first draw and for each zoom, and
audio for playback, with the bytes each reply puts on the comm.

Both sides are 60 minutes of 24 kHz int16 (speech-like noise bursts), as ``ReplayView`` receives them. Each request
goes through the view's own command handlers (``peaks``, ``audio``), so the time is what the kernel spends before
the reply leaves. "1 numpy pass" is ``np.min`` over one whole track, the floor for any exact full-track reduction,
as the ratio's denominator. Prints min/median/max over repeats; never asserts.

    python benchmarks/replay_peaks.py [--repeats 5] [--minutes 60] [--columns 1600]

``run(quick)`` is what ``python -m benchmarks`` calls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.table import Table
from realtime_widget.record.audio_track import AudioTrack
from realtime_widget.replay import ReplayView
from realtime_widget.sample import sample_session

RATE = 24_000
#: What ``python -m benchmarks`` allows it (seconds; about 15 on a quiet 2-core machine).
BUDGET_S = 90


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Bursts of noise (2 s on, 2 s off) at speech-like levels. One minute of noise is drawn and repeated: the
    view's work does not depend on the samples' values, and drawing a whole hour (with float64 temporaries of
    700 MB a side) took most of this benchmark's time on a loaded machine."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    minute = np.clip(rng.normal(0, 3000, 60 * RATE), -32768, 32767).astype(np.int16)
    samples = np.resize(minute, n)
    period = 4 * RATE
    padded = np.zeros(-(-n // period) * period, dtype=np.int16)
    padded[:n] = samples
    padded.reshape(-1, period)[:, period // 2 :] = 0  # the silent half of each 4 s
    return padded[:n].copy()


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def row(table: Table, name: str, times: list[float], baseline: float, size: int | None) -> None:
    ms = [t * 1000 for t in times]
    median = statistics.median(ms)
    size_text = f"{size:,}" if size is not None else ""
    table.add(name, f"{min(ms):.1f}", f"{median:.1f}", f"{max(ms):.1f}", f"{median / (baseline * 1000):.2f}", size_text)


def measure(minutes: float, repeats: int, columns: int) -> Table:
    """Times each request ``repeats`` times on a ``minutes``-long session drawn ``columns`` pixels wide."""
    seconds = minutes * 60
    record = sample_session()
    origin = record.events["time"].min()
    audio = {
        "user": AudioTrack("user", speech_like(seconds, 1), RATE, origin),
        "assistant": AudioTrack("assistant", speech_like(seconds, 2), RATE, origin + pd.Timedelta(seconds=0.5)),
    }
    raw_bytes = sum(track.samples.nbytes for track in audio.values())
    baseline = statistics.median(timed(audio["user"].samples.min, repeats))

    def peaks_of(view: ReplayView, start: float, end: float) -> int:
        _, buffers = view.peaks({"start": start, "end": end, "columns": columns}, [])
        return sum(len(b) for b in buffers)

    table = Table(
        f"Replay view: peaks and audio for a {minutes:g}-minute session",
        f"python benchmarks/replay_peaks.py --minutes {minutes:g} --repeats {repeats} --columns {columns}",
        ["request", "min ms", "median ms", "max ms", "x 1 numpy pass", "reply bytes"],
    )
    # A fresh view per repeat: the first full-session draw also builds the block index.
    firsts: list[float] = []
    for _ in range(repeats):
        view = ReplayView(record, audio)
        start = time.perf_counter()
        size = peaks_of(view, 0, seconds)
        firsts.append(time.perf_counter() - start)
    row(table, f"first draw: whole session, {columns} columns (builds the block index)", firsts, baseline, size)
    view = ReplayView(record, audio)
    peaks_of(view, 0, seconds)
    for label, window in [("whole session again", seconds), ("10 min", 600), ("1 min", 60), ("10 s", 10), ("1 s", 1)]:
        middle = seconds / 2
        lo, hi = (0, seconds) if window == seconds else (middle, min(middle + window, seconds))
        times = timed(lambda lo=lo, hi=hi: peaks_of(view, lo, hi), repeats)
        row(table, f"peaks, {label}", times, baseline, peaks_of(view, lo, hi))
    overview_reply, _ = view.overview({}, [])

    def stretch() -> int:
        _, buffers = view.audio({"start": seconds / 2, "duration": 8}, [])
        return sum(len(b) for b in buffers)

    row(table, "audio, one 8 s stretch (both sides)", timed(stretch, repeats), baseline, stretch())
    table.notes = [
        f"Two sides at {RATE} Hz: {raw_bytes / 1e6:.0f} MB of samples in the kernel ({raw_bytes:,} bytes), never "
        f'sent whole; {repeats} repeat(s) per request. "1 numpy pass" (`np.min` over one whole track) took '
        f"{baseline * 1000:.1f} ms here: the floor for any exact full-track reduction, and each row's ratio's "
        f"denominator. The overview had {len(overview_reply['marks'])} marks."
    ]
    return table


def run(quick: bool) -> Table:
    """For ``python -m benchmarks``: the 60-minute session, 3 repeats (``quick``: 10 minutes, 2)."""
    return measure(10.0, 2, 1600) if quick else measure(60.0, 3, 1600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--columns", type=int, default=1600, help="pixel columns (an 800 px view at 2x)")
    args = parser.parse_args()
    print(measure(args.minutes, args.repeats, args.columns).markdown())


if __name__ == "__main__":
    main()
