"""What the simulated user says, as mono PCM16 at 24 kHz (the API's ``audio/pcm``).

Text is spoken by a text-to-speech callable: eSpeak NG by default (the ``speech`` extra), or your own. A WAV file
or a NumPy array is used as it is, resampled to 24 kHz when it has another rate.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16

#: Your own text-to-speech: text in, mono audio at 24 kHz out (int16, or float in -1..1).
TextToSpeech = Callable[[str], npt.NDArray[Any]]

#: The eSpeak NG voice of the simulated user (a Realtime voice name, rendered as in the local server): the one
#: the local server's offline recognizer understands best.
DEFAULT_USER_VOICE = "alloy"


def espeak(voice: str = DEFAULT_USER_VOICE) -> TextToSpeech:
    """eSpeak NG as a :data:`TextToSpeech` (needs the ``speech`` extra: ``pip install realtime-widget[speech]``)."""
    from realtime_widget.server.voice.tts import (  # noqa: PLC0415 - ctypes loading only when speech is wanted
        EspeakSynthesizer,
        EspeakUnavailableError,
    )

    try:
        synthesizer = EspeakSynthesizer()
    except EspeakUnavailableError as exc:
        raise RuntimeError(
            "Speaking text needs eSpeak NG: pip install 'realtime-widget[speech]', or pass tts= (your own "
            "text-to-speech) or a WAV path or an array to say()."
        ) from exc
    return lambda text: synthesizer.synthesize(text, voice).samples


def as_pcm16(samples: npt.NDArray[Any], sample_rate: int = SAMPLE_RATE) -> Pcm16:
    """Mono PCM16 at 24 kHz from an array: int16 as is, floats in -1..1 scaled; stereo is mixed down."""
    array = np.asarray(samples)
    if array.ndim == 2:  # (frames, channels), or (channels, frames) for a wide one
        mixed = array.mean(axis=1 if array.shape[1] <= 2 else 0)
        array = mixed if np.issubdtype(array.dtype, np.floating) else np.rint(mixed).astype(np.int32)
    if array.ndim != 1:
        raise ValueError(f"audio must be a 1-D (mono) or 2-D (stereo) array; got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating):
        pcm = np.clip(np.rint(array * 32767.0), -32768, 32767).astype(np.int16)
    elif array.dtype == np.int16:
        pcm = array
    elif np.issubdtype(array.dtype, np.integer):
        pcm = np.clip(array, -32768, 32767).astype(np.int16)
    else:
        raise TypeError(f"audio must be integer PCM or floats in -1..1; got {array.dtype}")
    if sample_rate != SAMPLE_RATE:
        from realtime_widget.server.voice.resample import resample  # noqa: PLC0415 - PyAV only when needed

        pcm = resample(pcm, sample_rate, SAMPLE_RATE)
    return pcm


def read_wav(path: Path) -> Pcm16:
    """A PCM16 WAV file (any rate, mono or stereo) as mono PCM16 at 24 kHz."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(
                f"{path}: only 16-bit PCM WAV files are supported (this one has {wav.getsampwidth() * 8} bits)"
            )
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        channels, rate = wav.getnchannels(), wav.getframerate()
    return as_pcm16(frames.reshape(-1, channels) if channels > 1 else frames, rate)


def user_speech(what: str | Path | npt.NDArray[Any], tts: TextToSpeech, sample_rate: int = SAMPLE_RATE) -> Pcm16:
    """The audio of ``what``: text (spoken by ``tts``), a WAV file path (:class:`pathlib.Path`) or an array."""
    if isinstance(what, str):
        if not what.strip():
            raise ValueError("say() needs something to say; got empty text")
        return as_pcm16(tts(what))
    if isinstance(what, Path):
        return read_wav(what)
    if isinstance(what, np.ndarray):
        return as_pcm16(what, sample_rate)
    raise TypeError(f"say() takes text, a WAV path (pathlib.Path) or a NumPy array; got {type(what).__name__}")
