"""The audio level aiortc puts in every outgoing audio packet (RFC 6465), computed with numpy.

aiortc's sender computes each frame's level on the event loop before encoding it, by unpacking and squaring every
sample in a Python loop: about 70 µs per 20 ms frame, for every call's every frame. ``frame_level_dbov`` gives the
same number (the same sum, exact in either form, then the same arithmetic) in a few microseconds, and
``install`` makes aiortc's sender use it.
"""

from __future__ import annotations

import math

import numpy as np
from aiortc import rtp
from av import AudioFrame

_MAX_SAMPLE_VALUE = 32767
_MIN_AUDIO_LEVEL = -127
_MAX_AUDIO_LEVEL = 0


def frame_level_dbov(frame: AudioFrame) -> int:
    """The level of an s16 frame in -dBov, as ``aiortc.rtp.compute_audio_level_dbov`` computes it (which divides
    the energy of every sample in the first plane by the samples per channel, as it does)."""
    samples = np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16).astype(np.int64)
    energy = float(np.dot(samples, samples))  # exact: under 2**53 for any frame aiortc sends
    rms = math.sqrt(energy / (frame.samples * _MAX_SAMPLE_VALUE * _MAX_SAMPLE_VALUE))
    if rms <= 0:
        return _MIN_AUDIO_LEVEL
    return round(min(max(20 * math.log10(rms), _MIN_AUDIO_LEVEL), _MAX_AUDIO_LEVEL))


def install() -> None:
    """Make aiortc's sender (which looks the function up in ``aiortc.rtp`` for each frame) use ``frame_level_dbov``."""
    rtp.compute_audio_level_dbov = frame_level_dbov
