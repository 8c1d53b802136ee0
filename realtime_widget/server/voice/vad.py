"""Server VAD for the local voice model: frame energy against a threshold, with hysteresis and a minimum speech
duration so a click or a cough does not start a turn.

The API's ``threshold`` (0..1) has no unit; here it maps linearly onto frame RMS level in dBFS::

    level_dbfs = -70 + 60 * threshold      # 0.0 -> -70 dBFS, 0.5 -> -40 dBFS, 1.0 -> -10 dBFS

so, as in the API, a higher threshold needs louder audio. At the default 0.5 a quiet room (about -60 dBFS) stays
silent while speech into a microphone with automatic gain control (about -30 to -15 dBFS) is heard. Once speech
has started, a frame still counts as speech down to ``HANGOVER_DB`` below that level, so soft word endings do not
cut a turn short.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.interfaces import VadEvent

FRAME_MS = 10
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
#: Speech must last this long (voiced frames, small gaps allowed) before ``speech_started`` is reported.
MIN_SPEECH_MS = 100
#: A gap longer than this before speech is confirmed discards the candidate (it was a noise burst).
MAX_CANDIDATE_GAP_MS = 60
#: How far below the start level a frame may fall and still count as continuing speech.
HANGOVER_DB = 6.0
_FLOOR_DBFS = -70.0
_SPAN_DB = 60.0
_FULL_SCALE = 32768.0

#: Silence waited for by ``semantic_vad`` per eagerness: a stand-in, since this model cannot judge whether the user
#: has finished a thought. The API caps its waits at 8 s (low), 4 s (medium) and 2 s (high).
SEMANTIC_VAD_SILENCE_MS = {"low": 1500, "medium": 800, "auto": 800, "high": 400}


def threshold_to_dbfs(threshold: float) -> float:
    """The frame level (dBFS) that the API's ``threshold`` (clamped to 0..1) stands for here."""
    return _FLOOR_DBFS + _SPAN_DB * min(1.0, max(0.0, threshold))


def semantic_vad_silence_ms(eagerness: str) -> int:
    """The silence wait used for ``semantic_vad`` with this eagerness (unknown values act as ``auto``)."""
    return SEMANTIC_VAD_SILENCE_MS.get(eagerness, SEMANTIC_VAD_SILENCE_MS["auto"])


def frame_levels_dbfs(samples: Pcm16) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    """RMS level of each whole 10 ms frame of ``samples`` in dBFS (digital silence reads as -120)."""
    count = samples.size // FRAME_SAMPLES
    frames = samples[: count * FRAME_SAMPLES].astype(np.float64).reshape(count, FRAME_SAMPLES)
    rms = np.sqrt(np.mean(frames * frames, axis=1)) / _FULL_SCALE
    levels: np.ndarray[tuple[int], np.dtype[np.float64]] = 20.0 * np.log10(np.maximum(rms, 1e-6))
    return levels


@dataclass
class _State:
    in_speech: bool = False
    candidate_start: int | None = None  # frame index where unconfirmed speech began
    voiced_frames: int = 0  # voiced frames since candidate_start
    last_voiced: int = -1  # frame index of the most recent voiced frame


class EnergyVad:
    """Energy VAD implementing ``VoiceActivityDetector``.

    ``feed`` takes audio in chunks of any size (PCM16 24 kHz mono) and returns the boundaries found in it.
    ``speech_started.audio_ms`` is where speech began minus ``prefix_padding_ms`` (never below 0), like the API's
    ``audio_start_ms``; it is reported once ``MIN_SPEECH_MS`` of speech has been heard. ``speech_stopped.audio_ms``
    is the end of the last speech frame, reported once ``silence_duration_ms`` of silence has followed it. All
    times count from the first sample ever fed (``reset`` clears the state but not that clock).
    """

    def __init__(self, *, threshold: float, prefix_padding_ms: int, silence_duration_ms: int) -> None:
        self.start_dbfs = threshold_to_dbfs(threshold)
        self.continue_dbfs = self.start_dbfs - HANGOVER_DB
        self.prefix_padding_ms = max(0, prefix_padding_ms)
        self.silence_frames = max(1, -(-silence_duration_ms // FRAME_MS))
        self._min_speech_frames = MIN_SPEECH_MS // FRAME_MS
        self._max_gap_frames = MAX_CANDIDATE_GAP_MS // FRAME_MS
        self._pending = np.zeros(0, dtype=np.int16)
        self._frame_index = 0  # frames consumed since the first feed
        self._state = _State()

    @property
    def in_speech(self) -> bool:
        """Whether a confirmed turn is in progress (``speech_started`` sent, ``speech_stopped`` not yet)."""
        return self._state.in_speech

    def reset(self) -> None:
        """Forget any turn in progress (after a commit or clear); the audio clock keeps running."""
        self._state = _State()

    def feed(self, samples: Pcm16) -> list[VadEvent]:
        """Consume audio; return the speech boundaries it completes, in order."""
        audio = np.concatenate([self._pending, samples.astype(np.int16, copy=False)])
        usable = audio.size - audio.size % FRAME_SAMPLES
        self._pending = audio[usable:].copy()
        events: list[VadEvent] = []
        for level in frame_levels_dbfs(audio[:usable]):
            event = self._step(float(level))
            if event is not None:
                events.append(event)
            self._frame_index += 1
        return events

    def _step(self, level: float) -> VadEvent | None:
        state, index = self._state, self._frame_index
        if state.in_speech:
            if level >= self.continue_dbfs:
                state.last_voiced = index
                return None
            if index - state.last_voiced >= self.silence_frames:
                end_ms = (state.last_voiced + 1) * FRAME_MS
                self._state = _State()
                return VadEvent("speech_stopped", end_ms)
            return None
        voiced = level >= (self.continue_dbfs if state.candidate_start is not None else self.start_dbfs)
        if not voiced:
            if state.candidate_start is not None and index - state.last_voiced > self._max_gap_frames:
                self._state = _State()  # too short to be speech: a burst of noise
            return None
        if state.candidate_start is None:
            state.candidate_start = index
            state.voiced_frames = 0
        state.voiced_frames += 1
        state.last_voiced = index
        if state.voiced_frames < self._min_speech_frames:
            return None
        state.in_speech = True
        start_ms = max(0, state.candidate_start * FRAME_MS - self.prefix_padding_ms)
        return VadEvent("speech_started", start_ms)


def energy_vad_factory(*, threshold: float, prefix_padding_ms: int, silence_duration_ms: int) -> EnergyVad:
    """A ``VadFactory`` making ``EnergyVad`` instances."""
    return EnergyVad(threshold=threshold, prefix_padding_ms=prefix_padding_ms, silence_duration_ms=silence_duration_ms)
