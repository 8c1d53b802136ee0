"""Speech recognition for the local voice model: CMU PocketSphinx with the US English model its wheel ships.

Honest about quality: PocketSphinx is a 2000s-era HMM recogniser and hears eSpeak NG's robotic voice poorly.
On short eSpeak sentences (voice ``alloy`` at speed 0.9, which it hears best) it got 40-75% of the words in our
runs, other voices 25-50%; eSpeak's output varies slightly from call to call, and so does what is heard
(``benchmarks/voice_turn_latency.py`` prints it). Good enough to answer greetings and catch keywords like a
tool's name, not to take dictation.

Speed: one decoder takes about half a second to load, so decoders are loaded once and pooled. The second
("fwdflat") search pass is off: on our eSpeak sentences it added about a tenth to word recall but tripled the
work left when a turn ends. At most 5000 HMMs are searched per frame (``maxhmmpf``): on the same sentences that cut
decoding CPU by a third (0.72 to 0.48 of real time) for about 3 points of word recall, which matters on a busy
2-core machine where the decoder must keep up with live audio. ``start_stream`` decodes while the user speaks,
so finishing a turn costs tens of ms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.resample import StreamResampler, resample
from realtime_widget.server.voice.vad import frame_levels_dbfs

DECODER_RATE = 16_000
#: Audio must have at least ``MIN_VOICED_MS`` above ``SPEECH_DBFS`` to be decoded: PocketSphinx "hears" words in
#: pure silence (digital zeros decode as "dog"), and the API returns an empty transcript there.
SPEECH_DBFS = -50.0
MIN_VOICED_MS = 80
_FRAME_MS = 10


def voiced_ms(samples: Pcm16) -> int:
    """How many ms of ``samples`` are louder than ``SPEECH_DBFS`` (10 ms frames)."""
    return int(np.count_nonzero(frame_levels_dbfs(samples) >= SPEECH_DBFS)) * _FRAME_MS


class RecognizerUnavailableError(RuntimeError):
    """PocketSphinx is not installed or its model failed to load."""


class RecognitionFailedError(RecognizerUnavailableError):
    """The recognizer is working but failed on one turn (the worker answered ``FAILED``)."""


class _DecoderPool:
    """Loaded decoders, lent to one user at a time. A decoder is not thread-safe; separate decoders are."""

    def __init__(self, options: dict[str, Any]) -> None:
        try:
            from pocketsphinx import Config, Decoder  # noqa: PLC0415  # optional extra
        except ImportError as exc:
            raise RecognizerUnavailableError(
                "pocketsphinx is not installed (pip install 'realtime-widget[speech]')"
            ) from exc
        self._make: Callable[[], Any] = lambda: Decoder(Config(samprate=DECODER_RATE, loglevel="FATAL", **options))
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self.give_back(self.borrow())  # load the model now, not on the first turn

    def borrow(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return self._make()
        except RuntimeError as exc:
            raise RecognizerUnavailableError(f"PocketSphinx failed to load its model: {exc}") from exc

    def give_back(self, decoder: Any) -> None:
        with self._lock:
            self._idle.append(decoder)


def _hypothesis(decoder: Any) -> str:
    hyp = decoder.hyp()
    return str(hyp.hypstr).strip() if hyp is not None else ""


class PocketsphinxStream:
    """One turn decoded as it arrives (``RecognitionStream``). Takes a pooled decoder until finished."""

    def __init__(self, pool: _DecoderPool) -> None:
        self._pool = pool
        self._decoder: Any = None
        self._resampler = StreamResampler(SAMPLE_RATE, DECODER_RATE)
        self._voiced_ms = 0
        self._done = False

    def feed(self, samples: Pcm16) -> None:
        """Decode more of the turn (24 kHz PCM16)."""
        if self._done or samples.size == 0:
            return
        self._voiced_ms += voiced_ms(samples)
        if self._decoder is None:
            self._decoder = self._pool.borrow()
            self._decoder.start_utt()
        self._decoder.process_raw(self._resampler.convert(samples).tobytes(), False, False)

    def finish(self) -> str:
        """End the turn; the words heard, or "" for silence."""
        if self._done:
            return ""
        self._done = True
        if self._decoder is None:
            return ""
        self._decoder.process_raw(self._resampler.flush().tobytes(), False, False)
        self._decoder.end_utt()
        text = _hypothesis(self._decoder) if self._voiced_ms >= MIN_VOICED_MS else ""
        self._release()
        return text

    def cancel(self) -> None:
        """Drop the turn and return the decoder to the pool."""
        if not self._done and self._decoder is not None:
            self._decoder.end_utt()
            self._release()
        self._done = True

    def _release(self) -> None:
        self._pool.give_back(self._decoder)
        self._decoder = None


class PocketsphinxRecognizer:
    """``SpeechRecognizer`` and ``StreamingSpeechRecognizer`` backed by PocketSphinx's US English model.

    Thread-safe: every call borrows its own decoder from a pool (loading another when all are busy), so
    concurrent sessions do not wait for each other. Construction loads the first decoder (about 0.5 s) and raises
    ``RecognizerUnavailableError`` when PocketSphinx is missing.
    """

    def __init__(self, **decoder_options: Any) -> None:
        """``decoder_options`` are PocketSphinx config values (``fwdflat``, ``beam``, ...) over our defaults."""
        self._pool = _DecoderPool({"fwdflat": False, "bestpath": True, "maxhmmpf": 5000, **decoder_options})

    def transcribe(self, samples: Pcm16) -> str:
        """Recognise a whole committed turn (24 kHz PCM16); "" when it holds no speech."""
        if voiced_ms(samples) < MIN_VOICED_MS:
            return ""
        decoder = self._pool.borrow()
        try:
            decoder.start_utt()
            decoder.process_raw(resample(samples, SAMPLE_RATE, DECODER_RATE).tobytes(), False, True)
            decoder.end_utt()
            return _hypothesis(decoder)
        finally:
            self._pool.give_back(decoder)

    def start_stream(self) -> PocketsphinxStream:
        """Begin recognising a turn incrementally; see ``RecognitionStream``."""
        return PocketsphinxStream(self._pool)
