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

    python benchmarks/voice_turn_latency.py [--turns 10] [--in-process]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from realtime_widget.server.model import SAMPLE_RATE, ResponseContext, Speech, StreamingSpeechRecognizer
from realtime_widget.server.responder import RuleResponder
from realtime_widget.server.tts import EspeakSynthesizer
from realtime_widget.server.vad import energy_vad_factory
from realtime_widget.server.voice import load_voice_model

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
SILENCE_MS = 500


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def first_piece(synthesizer: EspeakSynthesizer, text: str) -> Speech:
    return next(iter(synthesizer.synthesize_stream(text, "marin")))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000


def run(turns: int, in_process: bool) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=10, help="turns to time (about 3 s each)")
    parser.add_argument("--in-process", action="store_true", help="decode in this process instead of a worker")
    args = parser.parse_args()
    run(max(1, min(args.turns, 60)), args.in_process)


if __name__ == "__main__":
    main()
