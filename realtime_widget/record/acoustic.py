"""Turn latency as a person heard it, found in the recorded sound rather than in the events.

The events say when the server decided the user stopped (``speech_stopped``, after its silence wait) and when reply
audio started (``output_audio_buffer.started``, or the first delta); neither is when the sound stopped or started.
Here both come from the audio: the user's speech ends at the end of the last audible window of the user's track
before ``speech_stopped``, and the reply starts at the first audible window of the assistant's track after that.
The windows are short (5 ms) and "audible" is an RMS energy above -46 dBFS, below the quietest syllable of speech
and above codec noise, so the figure is within a few milliseconds of the sound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from realtime_widget.record.audio import SessionAudio, turn_spans
from realtime_widget.record.audio_track import AudioTrack

__all__ = ["WINDOW_MS", "acoustic_turns", "audible_windows"]

WINDOW_MS = 5
#: RMS energy of a window that counts as sound: -46 dBFS (half the sample level that headless playback calls
#: audible, realtime_widget.headless.audible, as RMS sits below the peaks).
AUDIBLE_RMS = 164.0


def audible_windows(samples: npt.NDArray[np.int16], sample_rate: int) -> npt.NDArray[np.bool_]:
    """For each whole window of :data:`WINDOW_MS`, whether its RMS energy is at or above :data:`AUDIBLE_RMS`."""
    size = max(1, sample_rate * WINDOW_MS // 1000)
    count = len(samples) // size
    if count == 0:
        return np.zeros(0, dtype=bool)
    windows = np.asarray(samples[: count * size], dtype=np.float64).reshape(count, size)
    loud: npt.NDArray[np.bool_] = np.sqrt(np.mean(windows * windows, axis=1)) >= AUDIBLE_RMS
    return loud


def _loud_windows(track: AudioTrack | None) -> npt.NDArray[np.intp]:
    """The indices of ``track``'s audible windows (none for a side not recorded)."""
    if track is None:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(audible_windows(track.samples, track.sample_rate))


def _last_sound_end(track: AudioTrack | None) -> pd.Timestamp | None:
    loud = _loud_windows(track)
    if track is None or loud.size == 0:
        return None
    return track.start + pd.Timedelta(milliseconds=float((loud[-1] + 1) * WINDOW_MS))


def _first_sound_start(track: AudioTrack | None) -> pd.Timestamp | None:
    loud = _loud_windows(track)
    if track is None or loud.size == 0:
        return None
    return track.start + pd.Timedelta(milliseconds=float(loud[0] * WINDOW_MS))


def acoustic_turns(audio: SessionAudio, turns: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``turns``: ``speech_end`` (the user's last sound) and ``reply_start`` (the reply's first sound),
    ``datetime64[us, UTC]``, and ``acoustic_latency_ms`` (float64) between them; NaT/NaN where the audio does not
    show one (that side not recorded, a typed turn, no reply)."""
    ends: list[pd.Timestamp | None] = []
    starts: list[pd.Timestamp | None] = []
    stopped = turns["speech_stopped"].tolist() if len(turns) else []
    for (turn_start, turn_end), speech_stopped in zip(turn_spans(turns), stopped, strict=True):
        limit = speech_stopped if not pd.isna(speech_stopped) else turn_end
        speech_end = _last_sound_end(audio.clip(start=turn_start, end=limit).user)
        reply_start = None
        if speech_end is not None:
            reply_start = _first_sound_start(audio.clip(start=speech_end, end=turn_end).assistant)
        ends.append(speech_end)
        starts.append(reply_start)
    end_times = pd.to_datetime(pd.Series(ends, dtype=object), utc=True).astype("datetime64[us, UTC]")
    start_times = pd.to_datetime(pd.Series(starts, dtype=object), utc=True).astype("datetime64[us, UTC]")
    latency = (start_times - end_times).dt.total_seconds() * 1000.0
    return pd.DataFrame(
        {"speech_end": end_times, "reply_start": start_times, "acoustic_latency_ms": latency.astype("float64")}
    )
