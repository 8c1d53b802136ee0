"""What one abusive client costs everyone else: the local server's memory, and another session's spoken turns,
while one client floods events, never reads, or commits an hour of audio.

Starts the server as a child process (as the widget does, with the offline voice model: PocketSphinx in its worker
process). A probe session (WebSocket, turn detection off, transcription on) takes spoken turns one after another
all through each scenario: it appends an eSpeak NG sentence, commits, waits for the transcript (or its failure),
asks for a response and waits for ``response.done``. Its latency is commit → ``response.done``; a turn counts as
failed on ``transcription.failed`` or when nothing comes within 60 s. Server RSS is the server's and its children's
(the recognition worker), sampled every 100 ms.

Scenarios, one after another on one server: ``idle`` (the probe alone for ``--idle-seconds``), ``flood`` (one
client sends 20,000 ``conversation.item.create``, or ``--flood-items``, as fast as it can, and reads), ``never
reads`` (one client sends 100 items of 200 kB and reads nothing back: 40 MB of events wait for it), ``hour of
audio`` (one client, turn detection off, appends 60 minutes of loud noise in 3-minute events and commits; the
probe keeps going for ``--audio-seconds`` after).

Run: ``python benchmarks/server_limits.py [--idle-seconds 15] [--flood-items 20000] [--audio-seconds 60]``. Prints a
table; asserts nothing. Needs the ``speech`` extra. Takes about three minutes; ``run(quick)``, what
``python -m benchmarks`` calls, under a minute (shorter idle, flood and probing).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import needs
from benchmarks.table import Table, ratio
from realtime_widget.server.launcher import LocalServer
from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.voice.tts import EspeakSynthesizer

TURN_TIMEOUT_S = 60.0
#: What ``python -m benchmarks`` allows it (seconds; about 80 on a quiet 2-core machine).
BUDGET_S = 180
TURN_DETECTION_OFF = {"transcription": {"model": "whisper-1"}, "turn_detection": None}


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (the recognition worker), in MB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


async def connect(http: aiohttp.ClientSession, server: LocalServer) -> aiohttp.ClientWebSocketResponse:
    url = server.base_url.replace("http", "ws", 1) + "/realtime?model=gpt-realtime"
    ws = await http.ws_connect(url, headers={"Authorization": f"Bearer {server.api_key}"}, max_msg_size=0)
    await ws.send_json(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": TURN_DETECTION_OFF}}}
    )
    return ws


async def next_of(ws: aiohttp.ClientWebSocketResponse, *types: str) -> dict[str, Any]:
    while True:
        message = await ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"the probe's socket ended ({message.type.name})")
        event: dict[str, Any] = json.loads(message.data)
        if event["type"] in types:
            return event


class Probe:
    """Spoken turns, one after another, until stopped: their latencies and failures."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, speech_b64: str) -> None:
        self.ws = ws
        self.speech = speech_b64
        self.latencies_ms: list[float] = []
        self.failures = 0
        self.stopping = False

    async def turn(self) -> None:
        await self.ws.send_json({"type": "input_audio_buffer.append", "audio": self.speech})
        started = time.perf_counter()
        await self.ws.send_json({"type": "input_audio_buffer.commit"})
        heard = await next_of(
            self.ws,
            "conversation.item.input_audio_transcription.completed",
            "conversation.item.input_audio_transcription.failed",
        )
        await self.ws.send_json({"type": "response.create", "response": {"output_modalities": ["text"]}})
        await next_of(self.ws, "response.done")
        if heard["type"].endswith(".failed"):
            self.failures += 1
        else:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)

    async def run(self) -> None:
        while not self.stopping:
            try:
                await asyncio.wait_for(self.turn(), TURN_TIMEOUT_S)
            except TimeoutError:
                self.failures += 1
                return  # the socket is out of step now; the row says so


def flood(items: int) -> Callable[[aiohttp.ClientSession, LocalServer], Awaitable[str]]:
    async def scenario(http: aiohttp.ClientSession, server: LocalServer) -> str:
        ws = await connect(http, server)
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
        started = time.perf_counter()
        reader = asyncio.ensure_future(_count_until(ws, "conversation.item.done", items))
        for _ in range(items):
            await ws.send_json({"type": "conversation.item.create", "item": item})
        await reader
        await ws.close()
        return f"{items / 1000:g}k items in {time.perf_counter() - started:.1f} s"

    return scenario


async def _count_until(ws: aiohttp.ClientWebSocketResponse, event_type: str, count: int) -> None:
    seen = 0
    while seen < count:
        if (await next_of(ws, event_type))["type"] == event_type:
            seen += 1


async def never_reads(http: aiohttp.ClientSession, server: LocalServer) -> str:
    ws = await connect(http, server)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x" * 200_000}]}
    sent = 0
    with contextlib.suppress(ConnectionError, aiohttp.ClientError):
        for _ in range(100):
            await ws.send_json({"type": "conversation.item.create", "item": item})
            sent += 1
            await asyncio.sleep(0.05)
    await asyncio.sleep(5)  # what the server holds for the client once it has sent everything
    dropped = sent < 100 or ws.closed or ws.close_code is not None
    outcome = "then the server dropped it" if dropped else "still connected"
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 5)
    return f"{sent} items sent, {outcome}"


def hour_of_audio(seconds_after: float) -> Callable[[aiohttp.ClientSession, LocalServer], Awaitable[str]]:
    async def scenario(http: aiohttp.ClientSession, server: LocalServer) -> str:
        ws = await connect(http, server)
        noise = np.random.default_rng(1).normal(0, 3000, 180 * SAMPLE_RATE).clip(-32768, 32767).astype(np.int16)
        chunk = base64.b64encode(noise.tobytes()).decode()
        errors: list[str] = []
        reader = asyncio.ensure_future(_collect_errors(ws, errors))
        for _ in range(20):  # 20 x 3 minutes
            await ws.send_json({"type": "input_audio_buffer.append", "audio": chunk})
        await ws.send_json({"type": "input_audio_buffer.commit"})
        await asyncio.sleep(seconds_after)  # the probe keeps taking turns meanwhile
        reader.cancel()
        await ws.close()
        refused = sum(1 for code in errors if code == "input_audio_buffer_full")
        return f"{20 - refused} of 20 appends taken, then {seconds_after:g} s of probing"

    return scenario


async def _collect_errors(ws: aiohttp.ClientWebSocketResponse, errors: list[str]) -> None:
    with contextlib.suppress(ConnectionError):
        while True:
            errors.append(str((await next_of(ws, "error"))["error"]["code"]))


def idle(seconds: float) -> Callable[[aiohttp.ClientSession, LocalServer], Awaitable[str]]:
    async def scenario(http: aiohttp.ClientSession, server: LocalServer) -> str:
        await asyncio.sleep(seconds)
        return f"the probe alone for {seconds:g} s"

    return scenario


async def measure(
    name: str,
    scenario: Callable[[aiohttp.ClientSession, LocalServer], Awaitable[str]],
    server: LocalServer,
    speech_b64: str,
) -> dict[str, Any]:
    assert server.pid is not None
    async with aiohttp.ClientSession() as http:
        probe = Probe(await connect(http, server), speech_b64)
        await next_of(probe.ws, "session.updated")
        rss = [rss_mb(server.pid)]
        sampling = True

        async def sample() -> None:
            while sampling:
                rss.append(rss_mb(server.pid or 0))
                await asyncio.sleep(0.1)

        sampler = asyncio.ensure_future(sample())
        probing = asyncio.ensure_future(probe.run())
        started = time.perf_counter()
        note = await scenario(http, server)
        elapsed = time.perf_counter() - started
        probe.stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(probing), TURN_TIMEOUT_S)
        sampling = False
        await sampler
        await probe.ws.close()
    lat = probe.latencies_ms
    return {
        "scenario": name,
        "note": note,
        "seconds": elapsed,
        "rss_start": rss[0],
        "rss_peak": max(rss),
        "turns": len(lat),
        "failed": probe.failures,
        "median": statistics.median(lat) if lat else float("nan"),
        "max": max(lat) if lat else float("nan"),
    }


async def collect(idle_seconds: float, flood_items: int, audio_seconds: float) -> Table:
    """The four scenarios, one after another, on one server."""
    voice = EspeakSynthesizer()
    sentence = voice.synthesize("What is the weather like in Paris today?", "alloy", 0.9).samples
    pad = np.zeros(SAMPLE_RATE // 4, dtype=np.int16)
    speech_b64 = base64.b64encode(np.concatenate([pad, sentence, pad]).tobytes()).decode()
    load_before = os.getloadavg()[0]
    server = LocalServer.start()
    try:
        rows = []
        scenarios: list[tuple[str, Callable[[aiohttp.ClientSession, LocalServer], Awaitable[str]]]] = [
            ("idle", idle(idle_seconds)),
            ("flood", flood(flood_items)),
            ("never reads", never_reads),
            ("hour of audio", hour_of_audio(audio_seconds)),
        ]
        for name, scenario in scenarios:
            rows.append(await measure(name, scenario, server, speech_b64))
            print(f"  done: {name}", flush=True)
    finally:
        server.stop()
    table = Table(
        "Local server: what one abusive client costs the others",
        f"python benchmarks/server_limits.py --idle-seconds {idle_seconds:g} --flood-items {flood_items} "
        f"--audio-seconds {audio_seconds:g}",
        [
            "scenario",
            "what the client did",
            "s",
            "server RSS MB start → peak",
            "probe turns ok",
            "failed",
            "turn ms median",
            "max",
            "median vs idle",
        ],
        notes=[
            "A probe session takes spoken turns back to back (commit → `response.done`) while one other client "
            f"misbehaves; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after. Compare the "
            "ratios to `idle` and the failures rather than absolute times."
        ],
    )
    idle_median = rows[0]["median"]
    for r in rows:
        table.add(
            r["scenario"],
            r["note"],
            f"{r['seconds']:.0f}",
            f"{r['rss_start']:.0f} → {r['rss_peak']:.0f}",
            r["turns"],
            r["failed"],
            f"{r['median']:.0f}",
            f"{r['max']:.0f}",
            ratio(r["median"], idle_median if not np.isnan(idle_median) else None),
        )
    return table


def run(quick: bool) -> Table:
    """For ``python -m benchmarks``: 8 s idle, 6,000 items, 10 s of probing after the hour (``quick``: 5 s,
    2,000 items, 10 s), so that every benchmark fits in ten minutes."""
    needs.speech()
    return asyncio.run(collect(5.0, 2_000, 10.0) if quick else collect(8.0, 6_000, 10.0))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="the probe alone (default 15)")
    parser.add_argument("--flood-items", type=int, default=20_000, help="items the flood sends (default 20,000)")
    parser.add_argument("--audio-seconds", type=float, default=60.0, help="probing after the hour is committed")
    args = parser.parse_args()
    print(asyncio.run(collect(args.idle_seconds, args.flood_items, args.audio_seconds)).markdown())
