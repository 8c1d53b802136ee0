"""How many concurrent WebRTC calls the local server holds with real-time audio, and engine throughput.

Starts the server as a child process (as the widget does), connects N aiortc clients from this process (each
sending microphone audio and hearing the assistant speak continuously), and times every call's 20 ms frames on both
sides: when the server's track hands each outgoing frame to aiortc (its sending clock, ``--record-timing``) and when
the client's track delivers each frame it received. A call is "held" when, on both sides, the p99 gap between
frames is under 30 ms and no gap is over 60 ms; a gap over 30 ms is a late frame. The call count steps up until a
count is not held (one more count after that shows the trend), and the table says the most held. The server's CPU
per call is its process's CPU time (user + system, from ``/proc``, its recognition worker not included) over the
measurement's wall time, divided by the count. Then drives the engine directly (no transport) to count server
events per second for text responses.

Run: ``.venv/bin/python benchmarks/server_concurrency.py [--counts 1,2,4,6,8,10,12,16] [--seconds 6]``. Prints
tables; asserts nothing. Bounded: about 10 s per call count plus start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from benchmarks.table import Table, ratio, spread
from realtime_widget.server.launcher import LocalServer
from realtime_widget.server.transports import audio_level
from realtime_widget.server.transports.loopback_ice import restrict_ice_to_loopback

BUDGET_S = 180
#: A call holds real time when its p99 frame gap is under this...
HELD_P99_MS = 30.0
#: ...and no gap is over this; a gap over ``LATE_MS`` (1.5 frames) is a late frame.
HELD_MAX_MS = 60.0
LATE_MS = 30.0

LONG_REPLY = " ".join(["This sentence keeps the assistant talking for the whole measurement."] * 12)


class ToneMic(AudioStreamTrack):  # type: ignore[misc]
    """A microphone that sends silence, or a 220 Hz tone (speech to the VAD) while ``talking`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.talking = False
        self._phase = 0

    async def recv(self) -> Any:
        frame = await super().recv()  # paced silence at 8 kHz
        if self.talking:
            n = frame.samples
            t = (np.arange(n) + self._phase) / frame.sample_rate
            self._phase += n
            tone = (np.sin(2 * np.pi * 220 * t) * 0.3 * 32767).astype(np.int16)
            frame.planes[0].update(tone.tobytes())
        return frame


class Caller:
    """One benchmark call: a mic, the events channel (arrival time of each event type's latest), and the frames
    heard (with the time of the last loud one)."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.mic = ToneMic()
        self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel("oai-events")
        self.opened = asyncio.Event()
        self.channel.on("open", self.opened.set)
        self.channel.on("message", self._on_message)
        self.event_times: dict[str, float] = {}
        self.reply_over = asyncio.Event()
        self.frames_heard = 0
        #: When each received frame came out of the client's track (``time.monotonic()``); the
        #: measurement clears it when it starts.
        self.receipt_times: list[float] = []
        self.first_loud_after: float | None = None
        self.listen_from = float("inf")
        self.call_id = ""
        self._reader: asyncio.Task[None] | None = None
        self.pc.on("track", lambda track: setattr(self, "_reader", asyncio.ensure_future(self._read(track))))

    def _on_message(self, message: str) -> None:
        event_type = json.loads(message)["type"]
        self.event_times[event_type] = time.perf_counter()
        if event_type == "output_audio_buffer.stopped":
            self.reply_over.set()

    async def _read(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            self.frames_heard += 1
            self.receipt_times.append(time.monotonic())
            now = time.perf_counter()
            if self.first_loud_after is None and now >= self.listen_from:
                samples = frame.to_ndarray().astype(np.float64)
                if np.sqrt(np.mean(samples**2)) > 1000:
                    self.first_loud_after = now

    async def connect(self, http: aiohttp.ClientSession, server: LocalServer) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with http.post(
            f"{server.base_url}/realtime/calls",
            data=self.pc.localDescription.sdp,
            headers={"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/sdp"},
        ) as response:
            answer = await response.text()
            self.call_id = response.headers["Location"].rsplit("/", 1)[-1]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(self.opened.wait(), 20)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.pc.close()


def gap_stats(times: list[float]) -> dict[str, float]:
    """p99 and largest gap (ms) between consecutive ``times`` (seconds), and how many gaps were late; the same
    percentile as the server's ``/_local/calls/ID/stats``."""
    gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(times))
    if not gaps:
        return {"p99": 0.0, "max": 0.0, "late": 0}
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
    return {"p99": p99, "max": gaps[-1], "late": sum(g > LATE_MS for g in gaps)}


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process (Linux ``/proc``), in seconds."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(server: LocalServer, count: int, seconds: float) -> dict[str, Any]:
    callers = [Caller() for _ in range(count)]
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(c.connect(http, server) for c in callers))
        await asyncio.sleep(1.0)  # let every track settle before measuring
        for caller in callers:
            await asyncio.to_thread(server.say, caller.call_id, LONG_REPLY)
        heard_before = [c.frames_heard for c in callers]
        cpu_before = cpu_seconds(server.pid)
        for caller in callers:
            await asyncio.to_thread(server.call_stats, caller.call_id, True)
            caller.receipt_times.clear()
        await asyncio.sleep(seconds)
        cpu_used = cpu_seconds(server.pid) - cpu_before
        stats = [await asyncio.to_thread(server.call_stats, c.call_id) for c in callers]
        heard = [(c.frames_heard - b) / seconds for c, b in zip(callers, heard_before, strict=True)]
        received = [gap_stats(list(c.receipt_times)) for c in callers]
    await asyncio.gather(*(c.close() for c in callers))
    p99 = [s["interval_ms"]["p99"] for s in stats]
    worst = [s["interval_ms"]["max"] for s in stats]
    late = [s["late_frames"] for s in stats]
    client_p99 = max(r["p99"] for r in received)
    client_max = max(r["max"] for r in received)
    held = max([*p99, client_p99]) < HELD_P99_MS and max([*worst, client_max]) < HELD_MAX_MS
    return {
        "calls": count,
        "p99_gap_ms": max(p99),
        "max_gap_ms": max(worst),
        "late_frames": sum(late),
        "client_p99_gap_ms": client_p99,
        "client_max_gap_ms": client_max,
        "client_late_frames": sum(r["late"] for r in received),
        "frames_heard_per_s": round(statistics.mean(heard), 1),
        "server_cpu_%_per_call": round(100 * cpu_used / seconds / count, 1),
        "held": held,
    }


async def turn_latency(server: LocalServer, turns: int) -> dict[str, Any]:
    """One call: speak 600 ms, go quiet, and time the reply from the server's ``speech_stopped``."""
    caller = Caller()
    to_started: list[float] = []
    to_sound: list[float] = []
    async with aiohttp.ClientSession() as http:
        await caller.connect(http, server)
        caller.channel.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        await asyncio.sleep(1.0)
        for _ in range(turns):
            caller.event_times.clear()
            caller.reply_over.clear()
            caller.first_loud_after = None
            caller.mic.talking = True
            await asyncio.sleep(0.6)
            caller.mic.talking = False
            caller.listen_from = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(caller.reply_over.wait(), 10)
            stopped = caller.event_times.get("input_audio_buffer.speech_stopped")
            started = caller.event_times.get("output_audio_buffer.started")
            if stopped is not None and started is not None and caller.first_loud_after is not None:
                to_started.append((started - stopped) * 1000)
                to_sound.append((caller.first_loud_after - stopped) * 1000)
            await asyncio.sleep(0.5)
    await caller.close()

    return {
        "turns": f"{len(to_started)} of {turns}",
        "speech_stopped→output_audio_buffer.started ms (min/median/max)": spread(to_started),
        "speech_stopped→reply audible ms": spread(to_sound),
    }


async def engine_events_per_second(seconds: float = 2.0) -> tuple[float, float]:
    """Events/s and responses/s of one engine answering text turns back to back, no transport."""
    from realtime_widget.server.session.config import default_session
    from realtime_widget.server.session.engine import SessionEngine
    from realtime_widget.server.session.server_events import EventChecker
    from realtime_widget.server.voice.loader import fallback_voice_model

    events: list[str] = []
    session = {**default_session(), "output_modalities": ["text"]}
    engine = SessionEngine(
        session, events.append, transport="websocket", checker=EventChecker(), deps=fallback_voice_model()
    )
    engine.open()
    item = json.dumps(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "what is the weather today"}],
            },
        }
    )
    responses = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        await engine.receive(item)
        await engine.receive('{"type": "response.create"}')
        await engine.idle()
        responses += 1
    elapsed = time.perf_counter() - start
    await engine.close()
    return len(events) / elapsed, responses / elapsed


async def collect(counts: list[int], seconds: float, turns: int = 5) -> list[Table]:
    restrict_ice_to_loopback()
    # The clients stand in for browsers, each of which has its own process and a native WebRTC stack: they share
    # one event loop here, so they skip aiortc's Python loop over every sample for each frame's level, as the server
    # does, and leave the cores to what is measured.
    audio_level.install()
    load_before = os.getloadavg()[0]
    rows = []
    with LocalServer.start(extra_args=["--record-timing"], timeout=60) as server:
        latency = await turn_latency(server, turns)
        print("  measured turn latency", file=sys.stderr, flush=True)
        for count in counts:
            rows.append(await measure(server, count, seconds))
            print(f"  measured {count} calls", file=sys.stderr, flush=True)
            if sum(not r["held"] for r in rows) >= 2:
                break  # a second count past the limit shows the trend; more would only take longer
    calls = Table(
        "Local server: concurrent WebRTC calls",
        "python benchmarks/server_concurrency.py",
        [
            "calls",
            "sent: p99 gap ms",
            "max gap ms",
            "late frames",
            "received: p99 gap ms",
            "max gap ms",
            "late frames",
            "frames heard/s per call",
            "server CPU % per call",
            "p99 ÷ 30 ms aim",
            "max ÷ 60 ms aim",
            "real time held",
        ],
        notes=[
            f"Calls with audio both ways (aiortc clients on the same cores as the server), {seconds:g} s each "
            "while every call plays a long reply. Sent: gaps between the 20 ms frames the server's track hands to "
            "aiortc; received: gaps between the frames each client's track delivers. The worst call of each count; "
            "late frames summed over the calls (a gap over 30 ms). Held: p99 gap under 30 ms and no gap over 60 ms "
            "on both sides of every call (the ratios take the worse side). Server CPU: its process's CPU time over "
            "wall time, per call. All the clients share one process (unlike browsers), so the received gaps "
            "include their own event loop's delays. Most calls held: "
            + str(max((r["calls"] for r in rows if r["held"]), default=0))
            + ".",
            f"Load average (1 min) before and after: {load_before:.1f}, {os.getloadavg()[0]:.1f} "
            f"({os.cpu_count()} CPUs).",
        ],
    )
    for r in rows:
        calls.add(
            r["calls"],
            f"{r['p99_gap_ms']:.1f}",
            f"{r['max_gap_ms']:.1f}",
            r["late_frames"],
            f"{r['client_p99_gap_ms']:.1f}",
            f"{r['client_max_gap_ms']:.1f}",
            r["client_late_frames"],
            r["frames_heard_per_s"],
            r["server_cpu_%_per_call"],
            ratio(max(r["p99_gap_ms"], r["client_p99_gap_ms"]), HELD_P99_MS),
            ratio(max(r["max_gap_ms"], r["client_max_gap_ms"]), HELD_MAX_MS),
            "yes" if r["held"] else "no",
        )
    turn = Table(
        "Local server: turn latency, one call",
        "python benchmarks/server_concurrency.py",
        list(latency),
        notes=["The offline voice model; after the VAD's silence wait."],
    )
    turn.add(*latency.values())
    events_s, responses_s = await engine_events_per_second()
    engine = Table(
        "Local server: the engine alone",
        "python benchmarks/server_concurrency.py",
        ["events/s", "responses/s"],
        notes=["Text responses, no transport, one call."],
    )
    engine.add(f"{events_s:,.0f}", f"{responses_s:.1f}")
    return [calls, turn, engine]


def run(quick: bool) -> list[Table]:
    counts = [1, 4, 8] if quick else [1, 2, 4, 6, 8, 10, 12, 16]
    return asyncio.run(collect(counts, 4.0 if quick else 6.0, 3 if quick else 5))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", default="1,2,4,6,8,10,12,16")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    for t in asyncio.run(collect([int(c) for c in args.counts.split(",")], args.seconds)):
        print(t.markdown(), end="\n\n")
    print(f"{os.cpu_count()} CPUs; load average (1, 5, 15 min) at the end: {load}")
