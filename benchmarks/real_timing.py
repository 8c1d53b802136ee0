"""The local server's timing beside the real API's, and whether the record counts interruptions under it.

The real API generates a reply faster than it is spoken: ``response.done`` arrives while the audio still plays,
and a barge-in then clears the output buffer and truncates the item instead of cancelling the response. This
benchmark runs spoken replies over real WebRTC (an in-process server, an aiortc client on loopback) with
generation at the default speed and paced to playback (the old behaviour), and prints per mode:

- generation (``response.created`` → ``response.done``) and playback (``output_audio_buffer.started`` →
  ``.stopped``) of replies heard in full, and how long the audio played on after ``response.done``;
- for replies cut off by the user's speech four seconds into playback: what the server did (cancelled the
  response, or cleared and truncated after it was done), how many replies the record marks as cut off (the
  transcript's ``interrupted``; ``turns.interrupted`` reads the same events), and how many an accounting by
  cancelled responses alone would have counted (what the record did before).

    python benchmarks/real_timing.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = str(Path(__file__).resolve().parents[1])
sys.path.insert(0, REPO_ROOT)

from benchmarks.table import Table  # noqa: E402
from realtime_widget.record import SessionRecord  # noqa: E402
from realtime_widget.server.http.app import RealtimeServer  # noqa: E402
from realtime_widget.server.session.responses import GenerationTiming  # noqa: E402
from realtime_widget.server.voice.loader import fallback_voice_model  # noqa: E402
from tests.server.clients import RtcClient  # noqa: E402  # the test suite's aiortc client stands in for a browser

KEY = "sk-bench"
REPLY = " ".join(["The north region had a strong month and sales rose in every store we track."] * 2)
#: When the user cuts in: after the default generation has ended (about 2.8 s for this reply), well before the
#: audio has (about 11 s).
CUT_AFTER_S = 4.0
#: What ``python -m benchmarks`` allows it (seconds; about 65 on a quiet 2-core machine).
BUDGET_S = 180
NO_VAD = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}


class TimedClient(RtcClient):
    """Keeps each event's arrival time (epoch ms), as the widget's batches carry them."""

    def __init__(self, base_url: str, key: str) -> None:
        super().__init__(base_url, key)
        self.items: list[dict[str, Any]] = []

    def _on_message(self, message: str | bytes) -> None:
        event = json.loads(message)
        self.items.append({"k": "event", "t": time.time() * 1000.0, "dir": "server", "event": event})
        super()._on_message(message)

    def at(self, kind: str, after: int = 0) -> float | None:
        return next((i["t"] for i in self.items[after:] if i["event"].get("type") == kind), None)


def speech_like(ms: int) -> np.ndarray[Any, np.dtype[np.int16]]:
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 220 * t) * 0.3 * 32767).astype(np.int16)


async def heard_in_full(client: TimedClient, server: RealtimeServer) -> dict[str, float]:
    start = len(client.items)
    server.deps.script.push({"say": REPLY}, call_id=client.call_id)
    client.send({"type": "response.create"})
    await client.wait_for("output_audio_buffer.stopped", within=60, after=len(client.events))
    created, done = client.at("response.created", start), client.at("response.done", start)
    started, stopped = client.at("output_audio_buffer.started", start), client.at("output_audio_buffer.stopped", start)
    assert None not in (created, done, started, stopped)
    return {
        "generation": done - created,  # type: ignore[operator]
        "playback": stopped - started,  # type: ignore[operator]
        "after_done": stopped - done,  # type: ignore[operator]
    }


async def cut_off(client: TimedClient, server: RealtimeServer) -> str:
    """One reply interrupted by the user's speech a second into playback; returns what the server did."""
    start, seen = len(client.items), len(client.events)
    server.deps.script.push({"say": REPLY}, call_id=client.call_id)
    client.send({"type": "response.create"})
    await client.wait_for("output_audio_buffer.started", within=30, after=seen)
    await asyncio.sleep(CUT_AFTER_S)
    client.mic.play(speech_like(700))
    await client.wait_for("response.done", within=30, after=seen)
    await client.wait_for("input_audio_buffer.committed", within=30, after=seen)
    await asyncio.sleep(0.3)
    kinds = [i["event"].get("type") for i in client.items[start:]]
    done = next(i["event"] for i in client.items[start:] if i["event"].get("type") == "response.done")
    if done["response"]["status"] == "cancelled":
        return "cancelled while generating"
    return "cleared and truncated after done" if "conversation.item.truncated" in kinds else "not interrupted"


async def measure(timing: GenerationTiming, runs: int) -> dict[str, Any]:
    server = RealtimeServer(KEY, deps=fallback_voice_model(), timing=timing)
    await server.start()
    full: list[dict[str, float]] = []
    outcomes: list[str] = []
    try:
        client = TimedClient(server.base_url, KEY)
        await client.connect(NO_VAD)
        await asyncio.wait_for(client.channel_open.wait(), 10)
        for _ in range(runs):
            full.append(await heard_in_full(client, server))
        # Server VAD on, so the user's speech interrupts (answering it is not what is measured).
        client.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"turn_detection": {"type": "server_vad", "create_response": False}}},
                },
            }
        )
        await client.wait_for("session.updated", after=len(client.events))
        first_cut = len(client.items)
        for _ in range(runs):
            outcomes.append(await cut_off(client, server))
        record = SessionRecord()
        record.add_items(client.items[first_cut:])
        turns = record.turns
        by_cancel = sum(
            1
            for i in client.items[first_cut:]
            if i["event"].get("type") == "response.done" and i["event"]["response"]["status"] == "cancelled"
        )
        await client.close()
    finally:
        await server.stop()
    return {
        "full": full,
        "outcomes": outcomes,
        "record_interrupted": int(record.transcript.query("role == 'assistant'")["interrupted"].sum()),
        "cancel_only": by_cancel,
        "speaking_ms": [float(v) for v in turns["speaking_ms"].dropna()],
    }


def spread(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}" if values else "-"


async def collect(runs: int) -> Table:
    modes = {
        "default (4x real time)": GenerationTiming(),
        "--pace-generation": GenerationTiming(paced_to_playback=True),
    }
    results = {name: await measure(timing, runs) for name, timing in modes.items()}
    table = Table(
        "Local server: the real API's timing, and interruption accounting",
        "python benchmarks/real_timing.py",
        ["ms as min / median / max", *results],
        notes=[
            f"Replies of {len(REPLY.split())} words, {runs} run(s) per mode; the fallback voice model (a tone for "
            "speech), an in-process server and an aiortc client on loopback. The user cuts in 4 s into playback."
        ],
    )
    rows = [
        ("generation (created → done)", lambda r: spread([f["generation"] for f in r["full"]])),
        ("playback (buffer started → stopped)", lambda r: spread([f["playback"] for f in r["full"]])),
        ("generation ÷ playback (median)", lambda r: f"{generation_ratio(r):.2f}x"),
        ("audio after response.done", lambda r: spread([f["after_done"] for f in r["full"]])),
        ("barge-in: what the server did", lambda r: ", ".join(sorted(set(r["outcomes"])))),
        ("barge-in: replies the record marks cut", lambda r: f"{r['record_interrupted']} of {len(r['outcomes'])}"),
        ("barge-in: counted by cancels alone", lambda r: f"{r['cancel_only']} of {len(r['outcomes'])}"),
        ("barge-in: speaking_ms", lambda r: spread(r["speaking_ms"])),
    ]
    for label, cell in rows:
        table.add(label, *(cell(r) for r in results.values()))
    return table


def generation_ratio(result: dict[str, Any]) -> float:
    generation = statistics.median(f["generation"] for f in result["full"])
    playback = statistics.median(f["playback"] for f in result["full"])
    return generation / playback if playback else 0.0


def run(quick: bool) -> Table:
    """For ``python -m benchmarks``: one run per mode (about half a minute), so that every benchmark fits in ten
    minutes; ``--runs`` alone gives more."""
    return asyncio.run(collect(1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="replies heard in full, and cut off, per mode")
    print(asyncio.run(collect(max(1, min(parser.parse_args().runs, 20)))).markdown())
