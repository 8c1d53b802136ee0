"""Turn latency of the local server's offline voice model: end of user speech to the first response audio.

"End of speech" is when the server VAD reports ``speech_stopped`` (after its silence wait); the clock stops when
the first piece of reply audio exists. Between them, and timed separately:

- recognition: ``stream.finish()`` when the turn was decoded while spoken (``StreamingSpeechRecognizer``), and,
  for comparison, ``transcribe()`` of the whole turn after it ended (what an engine without streaming does);
- responder: ``RuleResponder.respond``;
- synthesis to first audio: the first sentence from ``synthesize_stream`` (24 kHz, resampled), and, for
  comparison, the whole reply from ``synthesize``.

The user's speech is eSpeak NG (voice alloy at 0.9 speed) fed in 20 ms chunks at real-time pace, as a WebRTC
transport would, with 0.3 s of silence before and the VAD's silence wait after. Also prints what recognition
heard. Needs the speech extra. Bounded: ``--turns`` turns of about three seconds each (default 10).

``--webrtc`` measures the same thing through the whole local server as a browser would meet it: an in-process
server with the offline voice model, an aiortc client whose microphone plays the eSpeak speech, and the time from
the ``speech_stopped`` event arriving on the data channel to the first loud 20 ms frame arriving on the audio
track (with the engine's event gaps alongside). That number includes whatever recognition strategy the engine
uses today.

``--browser`` measures it where users hear it: Debian's Chromium connects to a local server as any page does, its
fake microphone speaking the turns, and the page times each reply as it comes out of Chromium's jitter buffer and
as the output plays it, with the jitter buffer's own delay (``browser_turns.py``, ``pages/turns.js``). With
``--webrtc`` too, the aiortc client's rows are printed beside it. Needs Chromium and a loopback-only network
namespace (``scripts/in-loopback-netns``).

    python benchmarks/voice_turn_latency.py [--turns 10] [--in-process] [--webrtc] [--browser]

``run(quick)`` is what ``python -m benchmarks`` calls: the browser measure, 6 turns (``quick``: 3), with the aiortc
rows of 4 turns beside it, each stage on a row of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import browser_turns, needs
from benchmarks.table import Table, median_or_none, ratio, spread
from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.voice.interfaces import ResponseContext, Speech, StreamingSpeechRecognizer
from realtime_widget.server.voice.loader import load_voice_model
from realtime_widget.server.voice.responder import RuleResponder
from realtime_widget.server.voice.tts import EspeakSynthesizer
from realtime_widget.server.voice.vad import energy_vad_factory

SENTENCES = [
    "What time is it?",
    "What is the weather in Paris today?",
    "Hello there, how are you?",
    "My name is John and I live in New York.",
    "Please turn on the lights in the kitchen.",
    "Thank you very much.",
]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
CHUNK = SAMPLE_RATE // 50  # 20 ms
REPO_ROOT = str(Path(__file__).resolve().parents[1])
SILENCE_MS = 500
#: Peak amplitude above which decoded audio is sound rather than the codec's noise floor.
NOISE_FLOOR = 64


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def first_piece(synthesizer: EspeakSynthesizer, text: str) -> Speech:
    return next(iter(synthesizer.synthesize_stream(text, "marin")))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000


def run_model(turns: int, in_process: bool) -> None:
    model = load_voice_model(speech=True, recognition_in_process=in_process)
    print(model.describe(), "(recognition in process)" if in_process else "(recognition in a worker process)")
    recognizer = model.recognizer
    assert isinstance(recognizer, StreamingSpeechRecognizer)
    user_voice = EspeakSynthesizer()
    reply_voice = EspeakSynthesizer()
    responder = RuleResponder()
    rows: dict[str, list[float]] = {k: [] for k in ("stream", "batch", "respond", "first", "whole")}
    heard_hits = heard_total = 0
    try:
        for turn in range(turns):
            sentence = SENTENCES[turn % len(SENTENCES)]
            speech = user_voice.synthesize(sentence, "alloy", 0.9).samples
            pad = np.zeros(SAMPLE_RATE * 3 // 10, dtype=np.int16)
            tail = np.zeros(SAMPLE_RATE * (SILENCE_MS + 300) // 1000, dtype=np.int16)
            audio = np.concatenate([pad, speech, tail])
            vad = energy_vad_factory(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=SILENCE_MS)
            stream = recognizer.start_stream()
            start_ms: int | None = None
            stop_ms: int | None = None
            begin = time.perf_counter()
            for index, offset in enumerate(range(0, audio.size, CHUNK)):
                # Real-time pace: chunk n arrives 20 ms after chunk n-1, as from a microphone.
                time.sleep(max(0.0, begin + index * 0.02 - time.perf_counter()))
                chunk = audio[offset : offset + CHUNK]
                for event in vad.feed(chunk):
                    if event.kind == "speech_started":
                        start_ms = event.audio_ms
                        stream.feed(audio[start_ms * SAMPLE_RATE // 1000 : offset + chunk.size])
                    else:
                        stop_ms = event.audio_ms
                if stop_ms is not None:
                    break
                if start_ms is not None:
                    stream.feed(chunk)
            if start_ms is None or stop_ms is None:
                stream.cancel()
                print(f"turn {turn}: the VAD found no complete turn in {sentence!r}; skipped")
                continue
            heard, stream_ms = timed(stream.finish)
            turn_audio = audio[start_ms * SAMPLE_RATE // 1000 : stop_ms * SAMPLE_RATE // 1000]
            batch_heard, batch_ms = timed(partial(recognizer.transcribe, turn_audio))
            context = ResponseContext("", TOOLS, "auto", [], heard, [], turn == 0)
            reply, respond_ms = timed(partial(responder.respond, context))
            text = reply.text or f"Calling {reply.function_call.name}."
            _, first_ms = timed(partial(first_piece, reply_voice, text))
            _, whole_ms = timed(partial(reply_voice.synthesize, text, "marin"))
            for key, value in zip(rows, (stream_ms, batch_ms, respond_ms, first_ms, whole_ms), strict=True):
                rows[key].append(value)
            expected = words(sentence)
            heard_hits += len(set(expected) & set(words(heard)))
            heard_total += len(expected)
            print(f"turn {turn}: said {sentence!r} heard {heard!r} (whole-turn decode: {batch_heard!r})")
    finally:
        model.close()
    if not rows["stream"]:
        print("no turns completed")
        return
    totals_stream = [a + b + c for a, b, c in zip(rows["stream"], rows["respond"], rows["first"], strict=True)]
    totals_batch = [a + b + c for a, b, c in zip(rows["batch"], rows["respond"], rows["whole"], strict=True)]
    table = [
        ("recognition: finish streamed turn", rows["stream"]),
        ("recognition: decode whole turn", rows["batch"]),
        ("responder", rows["respond"]),
        ("synthesis to first audio (1st sentence)", rows["first"]),
        ("synthesis of whole reply", rows["whole"]),
        ("TOTAL streamed (finish+respond+1st)", totals_stream),
        ("TOTAL unstreamed (decode+respond+whole)", totals_batch),
    ]
    print(f"\nend of speech (speech_stopped) -> first response audio, {len(rows['stream'])} turns, ms")
    print(f"{'stage':<42}{'min':>9}{'median':>9}{'max':>9}")
    for name, values in table:
        print(f"{name:<42}{min(values):>9.1f}{statistics.median(values):>9.1f}{max(values):>9.1f}")
    print(f"\nword recall of recognition (streamed): {heard_hits}/{heard_total} = {heard_hits / heard_total:.0%}")


async def run_webrtc(turns: int) -> dict[str, list[float]]:
    """Turns over real WebRTC on loopback against an in-process server with the offline voice model."""
    import json

    from realtime_widget.server.http.app import RealtimeServer
    from realtime_widget.server.voice.loader import load_voice_model
    from tests.server.clients import RtcClient  # the test suite's aiortc client stands in for the browser

    class TimedClient(RtcClient):
        def __init__(self, base_url: str, key: str) -> None:
            super().__init__(base_url, key)
            self.arrivals: list[tuple[float, dict[str, Any]]] = []
            self.loud_at: list[float] = []
            self.sound_at: list[float] = []
            self.speech_packet_at: list[float] = []
            self.loud_packet_at: list[float] = []

        def watch_rtp(self) -> None:
            """Notes when RTP packets of sound, and of loud sound, arrive: decoded here as they come, before
            aiortc's jitter buffer holds them (a private hook, for this measurement only). Judged by the decoded
            sound, not the packet's size: how many bytes an encoder spends on silence is its own business."""
            from aiortc.codecs.opus import OpusDecoder
            from aiortc.jitterbuffer import JitterFrame

            decoder = OpusDecoder()
            for receiver in self.pc.getReceivers():
                handle = receiver._handle_rtp_packet

                async def noted(packet: Any, arrival_time_ms: int, handle: Any = handle) -> None:
                    now = time.perf_counter()
                    for frame in decoder.decode(JitterFrame(packet.payload, packet.timestamp)):
                        samples = frame.to_ndarray().astype(np.float64)
                        if samples.size and np.abs(samples).max() > NOISE_FLOOR:
                            self.speech_packet_at.append(now)
                        if samples.size and np.sqrt(np.mean(samples**2)) > 1000:
                            self.loud_packet_at.append(now)
                    await handle(packet, arrival_time_ms)

                receiver._handle_rtp_packet = noted

        def _on_message(self, message: str | bytes) -> None:
            self.arrivals.append((time.perf_counter(), json.loads(message)))
            super()._on_message(message)

        async def _read_audio(self, track: Any) -> None:
            while True:
                try:
                    frame = await track.recv()
                except Exception:  # the track ends when the call does
                    return
                samples = frame.to_ndarray().astype(np.float64)
                if samples.size and np.sqrt(np.mean(samples**2)) > 1000:
                    self.loud_at.append(time.perf_counter())
                if samples.size and np.abs(samples).max() > NOISE_FLOOR:
                    self.sound_at.append(time.perf_counter())

        def first(self, kind: str, after: float) -> float | None:
            return next((t for t, e in self.arrivals if t > after and e.get("type") == kind), None)

    deps = load_voice_model()
    server = RealtimeServer("sk-bench", deps=deps)
    await server.start()
    client = TimedClient(server.base_url, "sk-bench")
    voice = EspeakSynthesizer()
    gaps: dict[str, list[float]] = {k: [] for k in STAGES}
    try:
        session = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
        response = await client.connect(session)
        assert response.status == 201, await response.text()
        await asyncio.wait_for(client.channel_open.wait(), 10)
        client.watch_rtp()
        for turn in range(turns):
            sentence = SENTENCES[turn % len(SENTENCES)]
            mark = time.perf_counter()
            client.mic.play(
                np.concatenate([voice.synthesize(sentence, "alloy", 0.9).samples, np.zeros(7200, np.int16)])
            )
            await client.wait_for("output_audio_buffer.stopped", within=60, after=len(client.events))
            stopped = client.first("input_audio_buffer.speech_stopped", mark)
            if stopped is None:
                print(f"turn {turn}: no speech_stopped", file=sys.stderr)
                continue
            marks = {
                "transcribed": client.first("conversation.item.input_audio_transcription.completed", stopped),
                "created": client.first("response.created", stopped),
                "buffer": client.first("output_audio_buffer.started", stopped),
                "packet": next((t for t in client.speech_packet_at if t > stopped), None),
                "loud_packet": next((t for t in client.loud_packet_at if t > stopped), None),
                "sound": next((t for t in client.sound_at if t > stopped), None),
                "loud": next((t for t in client.loud_at if t > stopped), None),
            }
            for key, at in marks.items():
                if at is not None:
                    gaps[key].append((at - stopped) * 1000)
            print(
                f"turn {turn}: " + ", ".join(f"{k} +{(v - stopped) * 1000:.0f} ms" for k, v in marks.items() if v),
                file=sys.stderr,
            )
            await asyncio.sleep(0.3)
    finally:
        await client.close()
        await server.stop()
        deps.close()
    return gaps


STAGES = {
    "transcribed": "`conversation.item.input_audio_transcription.completed`",
    "created": "`response.created`",
    "buffer": "`output_audio_buffer.started`",
    "packet": "first RTP packet of sound arrives (before the client's jitter buffer)",
    "loud_packet": "**first RTP packet of loud speech arrives** (the floor a client hears it at)",
    "sound": "first decoded audio frame above the noise floor (after aiortc's jitter buffer)",
    "loud": "**first loud audio frame at the client**",
}
#: Whose time each step is: the offline model's (what the real API spends thinking), the server's own (synthesis,
#: pacing, encoding, sending), the sound's (a reply's first syllable rises over a few frames) or the client's.
OWNERS = {
    "transcribed": "model: finish recognizing the turn",
    "created": "model: the responder",
    "buffer": "server: synthesize the first sentence, queue it, wait for the next 20 ms frame",
    "packet": "server: encode, send; loopback",
    "loud_packet": "the sound: its first syllable rising",
    "sound": "client: aiortc's jitter buffer (holds 4 frames)",
    "loud": "the sound, after the jitter buffer",
}


def webrtc_table(gaps: dict[str, list[float]], load_before: float) -> Table:
    table = Table(
        "Local server: reply latency over WebRTC",
        "python benchmarks/voice_turn_latency.py --webrtc",
        [
            "stage (ms after `speech_stopped` reached the client)",
            "min / median / max",
            "step (median)",
            "whose step",
            "median ÷ 120 ms aim",
        ],
        notes=[
            "An in-process local server with the offline voice model and an aiortc client on loopback whose "
            f'microphone plays eSpeak sentences; {len(gaps["loud"])} turns. "step" is the median time since the '
            "stage above. Loud: a 20 ms frame with RMS over 1000 (of 32767). The server VAD's silence wait "
            "(`silence_duration_ms`, the API's 500 ms default) comes before `speech_stopped`, so it is not counted.",
            f"Load average (1 min) before and after: {load_before:.1f}, {os.getloadavg()[0]:.1f}.",
        ],
    )
    previous = 0.0
    for key, label in STAGES.items():
        mid = median_or_none(gaps[key])
        step = "-" if mid is None else f"{mid - previous:+.0f}"
        table.add(
            label, spread(gaps[key]), step, OWNERS[key], ratio(mid, 120) if key in ("loud", "loud_packet") else ""
        )
        # The decoded frames come after the packets: their steps count from the last packet stage.
        previous = mid if mid is not None and key != "loud_packet" else previous
    return table


BROWSER_OWNERS = {
    "transcribed": "model: finish recognizing the turn",
    "created": "model: the responder",
    "buffer": "server: synthesize the first sentence, queue it, wait for the next 20 ms frame",
    "rendered_sound": "server: encode, send; loopback; Chromium: jitter buffer, decode, Web Audio",
    "rendered_loud": "the sound: its first syllable rising",
    "heard_loud": "the platform: the audio output's latency (as the AudioContext reports it)",
}
BROWSER_LABELS = {
    "transcribed": "`conversation.item.input_audio_transcription.completed` arrives",
    "created": "`response.created` arrives",
    "buffer": "`output_audio_buffer.started` arrives",
    "rendered_sound": "first reply audio above the noise floor, out of Chromium's jitter buffer",
    "rendered_loud": "**first loud reply audio, out of Chromium's jitter buffer** (what the page can play)",
    "heard_loud": "first loud reply audio as the output plays it",
}


def browser_table(turns: browser_turns.BrowserTurns, aiortc: dict[str, list[float]] | None, load: float) -> Table:
    """The browser's stages, then its jitter buffer, then (when measured in the same run) the aiortc client's
    rows for comparison."""
    table = Table(
        "Local server: reply latency in the browser (WebRTC)",
        "scripts/in-loopback-netns python benchmarks/voice_turn_latency.py --browser",
        [
            "stage (ms after `speech_stopped` reached the page)",
            "min / median / max",
            "step (median)",
            "whose step",
            "median ÷ 120 ms aim",
        ],
    )
    previous = 0.0
    for key, label in BROWSER_LABELS.items():
        values = turns.stages.get(key, [])
        mid = median_or_none(values)
        step = "-" if mid is None else f"{mid - previous:+.0f}"
        aim = ratio(mid, 120) if key in ("rendered_loud", "heard_loud") else ""
        table.add(label, spread(values), step, BROWSER_OWNERS[key], aim)
        previous = mid if mid is not None else previous
    table.add(
        "Chromium's jitter buffer: mean delay over the reply's first second",
        spread(turns.jitter_delay_ms),
        "(within the stage above)",
        "client: NetEQ's adaptive buffer (`jitterBufferDelay` ÷ `jitterBufferEmittedCount`)",
        "",
    )
    table.add(
        "Chromium's jitter buffer: its target delay then",
        spread(turns.jitter_target_ms),
        "",
        "client: what NetEQ aims for (`jitterBufferTargetDelay`)",
        "",
    )
    if aiortc is not None:
        for key in ("loud_packet", "loud"):
            mid = median_or_none(aiortc[key])
            table.add(f"for comparison, aiortc client: {STAGES[key]}", spread(aiortc[key]), "", OWNERS[key],
                      ratio(mid, 120))  # fmt: skip
    latency = turns.output_latency_ms
    heard = len(turns.stages.get("rendered_loud", []))
    gap = browser_turns.GAP_S
    table.notes = [
        "Debian Chromium connects to a local server (a child process, as the widget starts it) over loopback "
        "WebRTC as any page does (`pages/turns.js`: ephemeral key, `getUserMedia`, the offer POST, the "
        f"`oai-events` channel), its fake microphone playing eSpeak sentences with {gap:.0f} s of silence after "
        f"each; {heard} turns. The page notes every server event's arrival and, from an AudioWorklet on the remote "
        "track (played through an audio element, as a page does), each onset of reply audio: the first "
        "128-sample block over the level after 200 ms under it, mapped through the AudioContext's output "
        'timestamp to when the output plays it; "out of Chromium\'s jitter buffer" is that time less the output '
        "latency the context reports"
        + ("" if latency is None else f" ({latency:.0f} ms here, Chromium's fake audio output)")
        + ". Loud: RMS over 1000 of 32767, as the aiortc rows; the noise floor: a peak over 64. One clock for all: "
        "the page's epoch milliseconds. The VAD's silence wait (`silence_duration_ms`, 500 ms) comes before "
        "`speech_stopped` and is not counted.",
        f"Load average (1 min) before and after: {load:.1f}, {os.getloadavg()[0]:.1f}.",
    ]
    return table


def run(quick: bool) -> Table:
    needs.speech()
    needs.chromium()
    load = os.getloadavg()[0]
    # Sized for python -m benchmarks' ten minutes: a browser turn takes about eight seconds (the sentence and the
    # silence the reply plays in); the aiortc rows are there for comparison. --turns gives a larger run.
    turns = 3 if quick else 6
    aiortc = asyncio.run(run_webrtc(4))
    return browser_table(browser_turns.measure(browser_sentences(turns)), aiortc, load)


def browser_sentences(turns: int) -> list[str]:
    return [SENTENCES[turn % len(SENTENCES)] for turn in range(turns)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=10, help="turns to time (about 3 s each)")
    parser.add_argument("--in-process", action="store_true", help="decode in this process instead of a worker")
    parser.add_argument("--webrtc", action="store_true", help="measure through the whole server over WebRTC")
    parser.add_argument("--browser", action="store_true", help="measure in Chromium over WebRTC (and --webrtc too)")
    args = parser.parse_args()
    turns = max(1, min(args.turns, 60))
    if args.browser:
        load = os.getloadavg()[0]
        aiortc = asyncio.run(run_webrtc(turns)) if args.webrtc else None
        measured = browser_turns.measure(browser_sentences(turns))
        print("\n".join(measured.log), file=sys.stderr)
        print(browser_table(measured, aiortc, load).markdown())
    elif args.webrtc:
        load = os.getloadavg()[0]
        print(webrtc_table(asyncio.run(run_webrtc(turns)), load).markdown())
    else:
        run_model(turns, args.in_process)


if __name__ == "__main__":
    main()
