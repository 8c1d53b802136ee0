"""The fake microphone's sound: a phrase spoken by eSpeak NG between silences, which Chromium plays in a loop."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.voice.tts import EspeakSynthesizer

MIC_PHRASE = "what are the total sales in the north"


def write_mic_wav(path: Path, phrase: str = MIC_PHRASE, *, lead_s: float = 2.5, tail_s: float = 6.0) -> Path:
    """Writes a mono 16-bit WAV: ``lead_s`` of silence, ``phrase``, ``tail_s`` of silence."""
    speech = EspeakSynthesizer().synthesize(phrase, "alloy").samples
    silence = lambda seconds: np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)  # noqa: E731
    samples = np.concatenate([silence(lead_s), speech, silence(tail_s)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return path
