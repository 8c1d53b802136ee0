"""Speech synthesis for the local voice model: eSpeak NG through ctypes, or a tone when eSpeak is not installed.

eSpeak NG comes from the ``espeakng-loader`` wheel (library and voice data inside it), which is in the optional
``speech`` extra because eSpeak NG is GPL-3.0. Without it, ``ToneSynthesizer`` answers with a hum of a plausible
duration so the server still produces audio and word timings.

eSpeak keeps global state (one voice, one callback per process) and is not re-entrant, so every synthesis runs
under one module-wide lock. A sentence takes a few milliseconds, so the lock is held only briefly. eSpeak also
carries a little state from one utterance to the next, so the same text is not bit-identical audio twice (its
length varies by a few samples); word timings and the text spoken are stable.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.interfaces import Speech
from realtime_widget.server.voice.resample import resample

#: eSpeak's words per minute at speed 1.0 (its own default) and the range it accepts.
BASE_WPM = 175
MIN_WPM = 80
MAX_WPM = 450


@dataclass(frozen=True)
class VoiceStyle:
    """How a Realtime voice name is rendered: an eSpeak language voice plus variant, base pitch (0-100) and
    pitch range (0-100). The tone fallback uses ``tone_hz``."""

    language: str
    variant: str
    pitch: int
    pitch_range: int
    tone_hz: float

    @property
    def espeak_name(self) -> str:
        return f"{self.language}+{self.variant}"


#: Each Realtime voice gets its own sound. ``alloy`` is the default, as in the API.
VOICE_STYLES: dict[str, VoiceStyle] = {
    "alloy": VoiceStyle("en-us", "f2", 50, 50, 220.0),
    "ash": VoiceStyle("en-us", "m3", 40, 40, 130.0),
    "ballad": VoiceStyle("en-gb-x-rp", "m1", 45, 70, 140.0),
    "coral": VoiceStyle("en-us", "f3", 60, 60, 240.0),
    "echo": VoiceStyle("en-us", "m1", 35, 50, 120.0),
    "sage": VoiceStyle("en", "f4", 55, 40, 230.0),
    "shimmer": VoiceStyle("en-us", "f5", 65, 70, 260.0),
    "verse": VoiceStyle("en-us", "m7", 50, 80, 150.0),
    "marin": VoiceStyle("en-us", "f1", 55, 55, 210.0),
    "cedar": VoiceStyle("en-us", "m2", 40, 45, 110.0),
}
DEFAULT_VOICE = "alloy"

#: Below this amplitude (about -54 dBFS) a reply's first samples are silence: eSpeak starts some utterances with
#: up to 50 ms of it (the closure before a first "k" or "t", a pause before "h"), which only delays the reply.
LEADING_SILENCE_AMPLITUDE = 64

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")
_WORD = re.compile(r"\S+")


def voice_style(voice: str) -> VoiceStyle:
    """The style for a Realtime voice name; unknown names (or custom voice ids) get the default voice."""
    return VOICE_STYLES.get(voice, VOICE_STYLES[DEFAULT_VOICE])


def words_per_minute(speed: float) -> int:
    """The API's ``speed`` (0.25-1.5, 1.0 normal) as eSpeak words per minute, within eSpeak's 80-450."""
    return int(min(MAX_WPM, max(MIN_WPM, round(BASE_WPM * speed))))


def split_sentences(text: str) -> list[str]:
    """Split a reply where a sentence or clause ends, so the first piece can be spoken while the rest is made."""
    return [piece for piece in (p.strip() for p in _SENTENCE_END.split(text)) if piece]


def trim_leading_silence(speech: Speech, amplitude: int = LEADING_SILENCE_AMPLITUDE) -> Speech:
    """``speech`` without the silent samples it starts with (all below ``amplitude``), its word starts moved to
    match. Nothing is cut once sound has begun, so the audio heard is unchanged; it only begins sooner."""
    loud = np.flatnonzero(np.abs(speech.samples.astype(np.int32)) >= amplitude)
    cut = int(loud[0]) if loud.size else speech.samples.size
    if cut == 0:
        return speech
    cut_ms = cut * 1000 // SAMPLE_RATE
    words = [(word, max(0, start - cut_ms)) for word, start in speech.word_starts_ms]
    return Speech(speech.samples[cut:], words)


def _tokens_at(text: str, events: list[tuple[int, int]]) -> list[tuple[str, int]]:
    """Give every whitespace-separated token of ``text`` a start time from word events ``(char index, ms)``.

    eSpeak may report several events for one token ("21" is spoken as two words) and none for others (a lone
    dash); the first event inside a token sets its time, a token without one starts when the previous did. So
    joining the tokens with spaces gives back the text, which is what transcript deltas need.
    """
    result: list[tuple[str, int]] = []
    pending = sorted(events)
    last_ms = 0
    for match in _WORD.finditer(text):
        inside = [ms for index, ms in pending if match.start() <= index < match.end()]
        last_ms = max(last_ms, min(inside)) if inside else last_ms
        result.append((match.group(), last_ms))
    return result


def _join_pieces(pieces: Iterator[Speech]) -> Speech:
    samples: list[Pcm16] = []
    words: list[tuple[str, int]] = []
    offset = 0
    for piece in pieces:
        words += [(word, start + offset * 1000 // SAMPLE_RATE) for word, start in piece.word_starts_ms]
        samples.append(piece.samples)
        offset += piece.samples.size
    return Speech(np.concatenate(samples) if samples else np.zeros(0, dtype=np.int16), words)


# ---- eSpeak NG through ctypes ----------------------------------------------------------------------------------
# Constants and layouts from eSpeak NG's public header speak_lib.h (API revision 12).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4


class _EventId(ctypes.Union):
    _fields_ = (("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8))


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),  # the word's length in characters (word events)
        ("audio_position", ctypes.c_int),  # ms from the start of this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakUnavailableError(RuntimeError):
    """eSpeak NG could not be loaded (the ``speech`` extra is not installed, or its library failed to load)."""


class _Espeak:
    """The process-wide eSpeak NG instance. Use only while holding ``_LOCK``."""

    def __init__(self) -> None:
        try:
            import espeakng_loader  # noqa: PLC0415  # optional extra: imported only when speech is wanted
        except ImportError as exc:
            raise EspeakUnavailableError(
                "espeakng-loader is not installed (pip install 'realtime-widget[speech]')"
            ) from exc
        try:
            self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise EspeakUnavailableError(f"eSpeak NG failed to load: {exc}") from exc
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if rate <= 0:
            raise EspeakUnavailableError(f"eSpeak NG did not initialise with data at {data_path}")
        self.sample_rate: int = rate
        self._chunks: list[Pcm16] = []
        self._events: list[tuple[int, int, int]] = []  # (text_position, length, audio_ms) of word events
        self._callback = _Callback(self._on_audio)  # kept referenced: eSpeak calls it from C
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: tuple[str, int, int, int] | None = None

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16, copy=True))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._events.append((event.text_position, event.length, event.audio_position))
            index += 1
        return 0

    def _select(self, style: VoiceStyle, wpm: int) -> None:
        key = (style.espeak_name, style.pitch, style.pitch_range, wpm)
        if key == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(style.espeak_name.encode()) != 0:
            self._lib.espeak_SetVoiceByName(style.language.encode())
        self._lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        self._lib.espeak_SetParameter(_PARAM_PITCH, style.pitch, 0)
        self._lib.espeak_SetParameter(_PARAM_RANGE, style.pitch_range, 0)
        self._voice = key

    def speak(self, text: str, style: VoiceStyle, wpm: int, *, end_pause: bool) -> tuple[Pcm16, list[tuple[str, int]]]:
        """Synthesise at eSpeak's own rate; returns samples and (word, start ms) pairs."""
        self._select(style, wpm)
        self._chunks, self._events = [], []
        encoded = text.encode("utf-8")
        flags = _CHARS_UTF8 | (_ENDPAUSE if end_pause else 0)
        self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        return samples, _tokens_at(text, [(pos - 1, ms) for pos, _, ms in self._events])


_LOCK = threading.Lock()
_ENGINE: _Espeak | None = None


def _engine() -> _Espeak:
    global _ENGINE  # noqa: PLW0603  # one eSpeak per process: it has global state of its own
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


class EspeakSynthesizer:
    """``SpeechSynthesizer`` (and ``StreamingSpeechSynthesizer``) speaking with eSpeak NG, resampled to 24 kHz.

    Thread-safe: calls are serialised on one lock because eSpeak is not re-entrant. Construction loads eSpeak
    and raises ``EspeakUnavailableError`` when it cannot.
    """

    def __init__(self) -> None:
        with _LOCK:
            self.native_rate = _engine().sample_rate

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> Speech:
        """The whole reply as one ``Speech``; word starts are ms from its first sample."""
        return _join_pieces(self.synthesize_stream(text, voice, speed))

    def synthesize_stream(self, text: str, voice: str, speed: float = 1.0) -> Iterator[Speech]:
        """The reply a sentence at a time (each piece's word starts count from that piece's first sample). The
        reply starts at its first sound: the silence eSpeak puts before it is trimmed (the pauses between
        sentences are kept)."""
        style, wpm = voice_style(voice), words_per_minute(speed)
        sentences = split_sentences(text)
        for index, sentence in enumerate(sentences):
            with _LOCK:
                native, words = _engine().speak(sentence, style, wpm, end_pause=index < len(sentences) - 1)
            piece = Speech(resample(native, self.native_rate, SAMPLE_RATE), words)
            yield trim_leading_silence(piece) if index == 0 else piece


class ToneSynthesizer:
    """``SpeechSynthesizer`` used when eSpeak NG is not installed: a hum per word, as long as speech would be.

    Each word lasts ``60 / words_per_minute(speed)`` seconds (a voiced part then a short gap), at a pitch that
    depends on the voice, so durations, word timings and voice differences behave like real speech.
    """

    amplitude = 6000

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> Speech:
        """A tone of plausible duration for ``text``; word starts are ms from its first sample."""
        return _join_pieces(self.synthesize_stream(text, voice, speed))

    def synthesize_stream(self, text: str, voice: str, speed: float = 1.0) -> Iterator[Speech]:
        """The tone a sentence at a time, like ``EspeakSynthesizer.synthesize_stream``."""
        hz = voice_style(voice).tone_hz
        word_samples = SAMPLE_RATE * 60 // words_per_minute(speed)
        voiced = word_samples * 3 // 4
        t = np.arange(voiced) / SAMPLE_RATE
        envelope = np.sin(np.pi * np.arange(voiced) / voiced)  # soft onset and release: no clicks
        hum = (self.amplitude * envelope * np.sin(2 * np.pi * hz * t)).astype(np.int16)
        word_audio = np.concatenate([hum, np.zeros(word_samples - voiced, dtype=np.int16)])
        for sentence in split_sentences(text):
            words = _WORD.findall(sentence)
            starts = [(word, i * word_samples * 1000 // SAMPLE_RATE) for i, word in enumerate(words)]
            yield Speech(np.tile(word_audio, len(words)), starts)
