"""One side of a session's recorded audio: the value that recording produces and the replay view consumes.

Kept apart from the recorder and the files it writes so that every part that reads recorded audio (``record.audio``,
clips, acoustic latency, the replay view) shares one small, dependency-free type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["AudioSide", "AudioTrack"]

AudioSide = Literal["user", "assistant"]
"""``"user"``: the microphone as sent to the model; ``"assistant"``: the model's audio as played."""


@dataclass(frozen=True, eq=False)
class AudioTrack:
    """Mono 16-bit PCM of one side, placed on the record's clock.

    Attributes:
        side: ``"user"`` (the microphone as sent) or ``"assistant"`` (the reply as played).
        samples: The samples, ``int16``, one channel; silence fills any gap between recorded chunks, so sample ``i``
            sounded at ``start + i / sample_rate``.
        sample_rate: Samples per second.
        start: When the first sample sounded, a UTC timestamp on the same clock as ``record.events.time``.
    """

    side: AudioSide
    samples: npt.NDArray[np.int16]
    sample_rate: int
    start: pd.Timestamp

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0

    @property
    def end(self) -> pd.Timestamp:
        """When the last sample ended, on the record's clock."""
        return self.start + pd.Timedelta(seconds=self.duration_s)

    def times(self) -> pd.DatetimeIndex:
        """Each sample's time on the record's clock (for plotting; allocates one timestamp per sample)."""
        offsets = pd.to_timedelta(np.arange(len(self.samples)) / self.sample_rate, unit="s")
        return pd.DatetimeIndex(self.start + offsets)

    def __repr__(self) -> str:
        return (
            f"AudioTrack(side={self.side!r}, {self.duration_s:.2f} s at {self.sample_rate} Hz, "
            f"start={self.start.isoformat()})"
        )
