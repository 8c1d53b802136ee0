"""The input audio buffer: audio written since the last commit, on the session's input audio clock."""

from __future__ import annotations

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16

SAMPLES_PER_MS = SAMPLE_RATE // 1000
#: The most audio the buffer holds before a commit: 15 minutes (43 MB of PCM16). The API documents only the 15 MiB
#: limit per ``input_audio_buffer.append`` event, not one for the buffer, so this bound is ours: far past any spoken
#: turn, and it keeps a client that never commits (turn detection off) from growing the server without end, and any
#: one turn's recognition bounded.
MAX_BUFFER_MS = 15 * 60 * 1000


class InputAudioBuffer:
    """Mono PCM16 24 kHz audio not yet committed. Positions are sample counts from the first sample ever written
    in the session (``clock``), so they match the VAD's and the API's ``audio_start_ms``/``audio_end_ms``."""

    def __init__(self) -> None:
        self._chunks: list[Pcm16] = []
        self._size = 0
        self.start = 0  # clock position of the first sample held
        self.clock = 0  # clock position just after the last sample written

    def __len__(self) -> int:
        return self._size

    @property
    def duration_ms(self) -> int:
        return self._size // SAMPLES_PER_MS

    @property
    def clock_ms(self) -> int:
        return self.clock // SAMPLES_PER_MS

    def has_room_for(self, samples: Pcm16) -> bool:
        """Whether ``samples`` fit under ``MAX_BUFFER_MS``."""
        return self._size + samples.size <= MAX_BUFFER_MS * SAMPLES_PER_MS

    def write(self, samples: Pcm16) -> None:
        if samples.size:
            self._chunks.append(samples)
            self._size += samples.size
            self.clock += samples.size

    def _joined(self) -> Pcm16:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.int16)

    def peek_from(self, start_ms: int) -> Pcm16:
        """A copy of the audio held from clock time ``start_ms`` (clamped) to the end; nothing is dropped."""
        audio = self._joined()
        return audio[max(0, start_ms * SAMPLES_PER_MS - self.start) :].copy()

    def take_all(self) -> Pcm16:
        """Everything held; the buffer is then empty."""
        audio = self._joined()
        self.clear()
        return audio

    def take_until(self, start_ms: int, end_ms: int) -> Pcm16:
        """The audio between two clock times (clamped to what is held); everything before ``end_ms`` is dropped."""
        audio = self._joined()
        first = max(0, start_ms * SAMPLES_PER_MS - self.start)
        last = min(audio.size, max(first, end_ms * SAMPLES_PER_MS - self.start))
        taken = audio[first:last].copy()
        rest = audio[last:]
        self._chunks = [rest] if rest.size else []
        self._size = rest.size
        self.start = self.clock - rest.size
        return taken

    def keep_last(self, ms: int) -> None:
        """Forget all but the last ``ms`` (audio the VAD can no longer reach back to)."""
        keep = ms * SAMPLES_PER_MS
        if self._size > 2 * keep:
            audio = self._joined()[-keep:]
            self._chunks = [audio]
            self._size = audio.size
            self.start = self.clock - audio.size

    def clear(self) -> None:
        self._chunks = []
        self._size = 0
        self.start = self.clock
