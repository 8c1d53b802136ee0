"""The numpy audio level the server gives aiortc's sender: the same number as RFC 6465's loop over the samples."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from aiortc import rtp
from av import AudioFrame

from realtime_widget.server.transports import audio_level


def level_by_loop(frame: AudioFrame) -> int:
    """The definition, a sample at a time (as aiortc computes it): RMS of every sample in the plane, in dBov."""
    energy = 0.0
    for (sample,) in struct.iter_unpack("h", bytes(frame.planes[0])):
        energy += sample * sample
    rms = math.sqrt(energy / (frame.samples * 32767 * 32767))
    return round(min(max(20 * math.log10(rms), -127), 0)) if rms > 0 else -127


@pytest.mark.parametrize("layout", ["mono", "stereo"])
@pytest.mark.parametrize("amplitude", [0, 1, 30, 3000, 32767])
def test_level_is_the_rfc_6465_loop(layout: str, amplitude: int) -> None:
    channels = 2 if layout == "stereo" else 1
    rng = np.random.default_rng(amplitude)
    for size in (960, 480, 7):
        samples = rng.integers(-amplitude, amplitude + 1, size * channels).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(samples, format="s16", layout=layout)
        assert audio_level.frame_level_dbov(frame) == level_by_loop(frame)


def test_full_scale_and_silence_are_the_ends_of_the_range() -> None:
    loud = AudioFrame.from_ndarray(np.full((1, 960), -32768, dtype=np.int16), format="s16", layout="mono")
    silent = AudioFrame.from_ndarray(np.zeros((1, 960), dtype=np.int16), format="s16", layout="mono")
    assert audio_level.frame_level_dbov(loud) == 0
    assert audio_level.frame_level_dbov(silent) == -127


def test_install_makes_aiortc_use_it() -> None:
    audio_level.install()
    assert rtp.compute_audio_level_dbov is audio_level.frame_level_dbov
