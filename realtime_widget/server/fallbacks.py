"""The voice model used when the offline speech engines (the ``speech`` extra) are not installed.

Honest stand-ins: no recognition (every turn is heard as ""), a tone for speech with the length the words would
take, and a responder that acknowledges the user and reports tool results. The protocol behaves exactly as with
the real engines; only what is said differs.
"""

from __future__ import annotations

import json

import numpy as np

from realtime_widget.server.model import SAMPLE_RATE, Pcm16, Reply, ResponseContext, Speech

#: Tone length per character of text at speed 1.0 (about 150 words a minute).
MS_PER_CHAR = 65
TONE_HZ = 440.0
TONE_LEVEL = 0.25


class SilentRecognizer:
    """A ``SpeechRecognizer`` that hears no words."""

    def transcribe(self, samples: Pcm16) -> str:
        return ""


class ToneSynthesizer:
    """A ``SpeechSynthesizer`` that "speaks" a 440 Hz tone lasting as long as the text would, with word timings."""

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> Speech:
        ms_per_char = MS_PER_CHAR / max(0.25, min(1.5, speed))
        duration_ms = max(200, int(len(text) * ms_per_char))
        t = np.arange(duration_ms * SAMPLE_RATE // 1000) / SAMPLE_RATE
        envelope = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)  # 10 ms fades avoid clicks
        samples = (np.sin(2 * np.pi * TONE_HZ * t) * envelope * TONE_LEVEL * 32767).astype(np.int16)
        word_starts: list[tuple[str, int]] = []
        offset = 0
        for word in text.split(" "):
            if word:
                word_starts.append((word, int(text.index(word, offset) * ms_per_char)))
            offset += len(word) + 1
        return Speech(samples=samples, word_starts_ms=word_starts)


class PlainResponder:
    """A ``Responder`` that acknowledges what the user said and reports function results; never calls tools."""

    def respond(self, context: ResponseContext) -> Reply:
        if context.pending_function_outputs:
            outputs = [str(item.get("output", "")) for item in context.pending_function_outputs]
            return Reply(text="The tool returned " + "; ".join(_short(o) for o in outputs) + ".")
        if context.last_user_text:
            return Reply(text=f"You said: {context.last_user_text}")
        if context.is_first_response:
            return Reply(text="Hello! How can I help?")
        return Reply(text="I'm listening.")


def _short(output: str) -> str:
    try:
        value = json.loads(output)
    except ValueError:
        value = output
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."
