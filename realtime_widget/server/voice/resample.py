"""Sample-rate conversion of mono PCM16 for the voice model, with libswresample (through PyAV, which aiortc
already needs) so the filtering is done properly rather than by interpolation."""

from __future__ import annotations

import av
import numpy as np

from realtime_widget.server.pcm import Pcm16


class StreamResampler:
    """Converts a stream of mono PCM16 chunks from ``from_rate`` to ``to_rate``, keeping filter state across
    chunks. ``flush`` returns the tail held back by the filter; the resampler is then finished."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
        self._pts = 0

    def convert(self, samples: Pcm16) -> Pcm16:
        """Resample one chunk; the output may lag the input by a few milliseconds of filter delay."""
        if samples.size == 0:
            return np.zeros(0, dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = self.from_rate
        frame.pts = self._pts  # monotonic timestamps keep swresample from inserting or dropping samples
        self._pts += samples.size
        return _join(self._resampler.resample(frame))

    def flush(self) -> Pcm16:
        """Return what the filter still holds."""
        return _join(self._resampler.resample(None))


def _join(frames: list[av.AudioFrame]) -> Pcm16:
    if not frames:
        return np.zeros(0, dtype=np.int16)
    out: Pcm16 = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16, copy=False)
    return out


def resample(samples: Pcm16, from_rate: int, to_rate: int) -> Pcm16:
    """Resample a whole mono PCM16 signal."""
    if from_rate == to_rate:
        return samples.astype(np.int16, copy=True)
    stream = StreamResampler(from_rate, to_rate)
    return np.concatenate([stream.convert(samples), stream.flush()])
