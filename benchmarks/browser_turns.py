"""Reply latency where users hear it: Debian's Chromium talks to the local server over WebRTC, its fake
microphone speaking eSpeak turns, and the page times each reply as it plays (``pages/turns.js``).

Used by ``voice_turn_latency.py --browser`` (and its ``run(quick)``). The page connects as any page does
(ephemeral key from ``/v1/realtime/client_secrets``, ``getUserMedia``, the offer POSTed to ``/v1/realtime/calls``,
the ``oai-events`` channel) and notes, on one clock (epoch ms): every server event's arrival; each onset of reply
audio at an AudioWorklet on the remote track, mapped to when the output plays it; and the inbound audio RTP's
jitter-buffer counters every 100 ms. Each turn is then measured from its ``speech_stopped`` arriving in the page.
"""

from __future__ import annotations

import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.connect_time import PAGES, static_server
from realtime_widget.server.launcher import LocalServer
from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.transports.paced_audio import TRACK_RATE, upsample_to_track_rate
from realtime_widget.server.voice.tts import EspeakSynthesizer
from tests.e2e.harness import chromium_context

#: Silence before the first turn (the call connects meanwhile) and after each (the reply plays in it).
LEAD_S = 2.0
GAP_S = 6.0
#: The session the page's key is minted with: transcription on, so the model's recognition shows as a stage.
SESSION = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
#: The window after a reply's first loud audio over which its jitter-buffer delay is averaged.
JITTER_WINDOW_MS = 1000


def microphone_wav(path: Path, sentences: list[str]) -> float:
    """Writes the fake microphone's file (48 kHz mono): each sentence in eSpeak's alloy voice at 0.9 speed,
    ``GAP_S`` of silence after it; returns its length in seconds. Chromium loops the file: the page hangs up first."""
    voice = EspeakSynthesizer()
    parts = [np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16)]
    for sentence in sentences:
        parts += [voice.synthesize(sentence, "alloy", 0.9).samples, np.zeros(int(GAP_S * SAMPLE_RATE), np.int16)]
    audio = upsample_to_track_rate(np.concatenate(parts))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(TRACK_RATE)
        out.writeframes(audio.tobytes())
    return audio.size / TRACK_RATE


@dataclass
class BrowserTurns:
    """What the page noted, and each turn's stages in ms after its ``speech_stopped`` arrived."""

    stages: dict[str, list[float]] = field(default_factory=dict)
    jitter_delay_ms: list[float] = field(default_factory=list)
    jitter_target_ms: list[float] = field(default_factory=list)
    output_latency_ms: float | None = None
    log: list[str] = field(default_factory=list)


#: The page's stages, in order: a server event's arrival, or an onset of the reply's audio: where Web Audio takes
#: it from Chromium's jitter buffer and decoder ("rendered"), or as the output plays it (the AudioContext's
#: reported output latency later: the platform's part).
BROWSER_STAGES = {
    "transcribed": "conversation.item.input_audio_transcription.completed",
    "created": "response.created",
    "buffer": "output_audio_buffer.started",
    "rendered_sound": "rendered:sound",
    "rendered_loud": "rendered:loud",
    "heard_loud": "heard:loud",
}


def measure(sentences: list[str]) -> BrowserTurns:
    """One call from Chromium to a fresh local server, a turn per sentence."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        seconds = microphone_wav(tmp / "turns.wav", sentences)
        with LocalServer.start() as server, static_server(PAGES) as pages:
            args = [f"--use-file-for-fake-audio-capture={tmp / 'turns.wav'}"]
            with chromium_context(tmp / "profile", args) as context:
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda err: errors.append(str(err)))
                page.goto(f"{pages}/turns.html")
                page.wait_for_function("() => typeof window.runTurns === 'function'")
                config = {"base": server.base_url, "apiKey": server.api_key, "session": SESSION, "seconds": seconds}
                try:
                    noted = page.evaluate("(config) => window.runTurns(config)", config)
                except Exception as exc:
                    raise RuntimeError(f"the turns page failed: {exc}; page errors: {errors}") from exc
    return turns_from(noted)


def turns_from(noted: dict[str, Any]) -> BrowserTurns:
    """Each turn's stages from what the page noted (pure, for the measurement's own checks)."""
    result = BrowserTurns(output_latency_ms=noted.get("outputLatencyMs"))
    result.stages = {key: [] for key in BROWSER_STAGES}
    events: list[dict[str, Any]] = noted["events"]
    latency = result.output_latency_ms or 0.0
    marks = [(e["t"], e["type"]) for e in events]
    for onset in noted["onsets"]:
        marks += [(onset["t"], f"heard:{onset['kind']}"), (onset["t"] - latency, f"rendered:{onset['kind']}")]
    stops = [e["t"] for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    for index, stopped in enumerate(stops):
        before_next = stops[index + 1] if index + 1 < len(stops) else float("inf")
        found: dict[str, float] = {}
        for key, kind in BROWSER_STAGES.items():
            at = min((t for t, k in marks if k == kind and stopped < t < before_next), default=None)
            if at is not None:
                found[key] = at - stopped
                result.stages[key].append(at - stopped)
        result.log.append(f"turn {index}: " + ", ".join(f"{k} +{v:.0f} ms" for k, v in found.items()))
        if "heard_loud" in found:
            delay, target = jitter_over(noted["stats"], stopped + found["heard_loud"])
            if delay is not None:
                result.jitter_delay_ms.append(delay)
            if target is not None:
                result.jitter_target_ms.append(target)
    return result


def jitter_over(stats: list[dict[str, Any]], start: float) -> tuple[float | None, float | None]:
    """The mean jitter-buffer delay (and target delay) per emitted sample over ``JITTER_WINDOW_MS`` from ``start``,
    from the cumulative ``inbound-rtp`` counters sampled before and after the window."""
    before = [s for s in stats if s["t"] <= start and s.get("emitted") is not None]
    after = [s for s in stats if s["t"] >= start + JITTER_WINDOW_MS and s.get("emitted") is not None]
    if not before or not after:
        return None, None
    first, last = before[-1], after[0]
    emitted = last["emitted"] - first["emitted"]
    if emitted <= 0:
        return None, None

    def mean_ms(name: str) -> float | None:
        if first.get(name) is None or last.get(name) is None:
            return None
        return float((last[name] - first[name]) / emitted * 1000)

    return mean_ms("delay"), mean_ms("target")
