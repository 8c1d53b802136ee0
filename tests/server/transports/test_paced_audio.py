"""The paced track's 24 → 48 kHz upsampling: integer arithmetic that gives what linear interpolation gives."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_widget.server.transports.paced_audio import TRACK_RATE, mono_frame, upsample_to_track_rate


def interpolated(samples: np.ndarray) -> np.ndarray:
    """The definition: linear interpolation at every half sample, rounded half to even, the last one held."""
    positions = np.arange(samples.size * 2, dtype=np.float64) / 2.0
    resampled = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    return np.rint(resampled).astype(np.int16)


@pytest.mark.parametrize("size", [1, 2, 3, 480, 4801])
def test_upsampling_matches_linear_interpolation(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(50):
        samples = rng.integers(-32768, 32768, size).astype(np.int16)
        assert np.array_equal(upsample_to_track_rate(samples), interpolated(samples))


def test_upsampling_rounds_halves_to_even_and_keeps_the_extremes() -> None:
    samples = np.array([-32768, -32767, 32767, 32766, 0, 1, -1, -2, 3, 32767, 32767, -32768], dtype=np.int16)
    out = upsample_to_track_rate(samples)
    assert np.array_equal(out, interpolated(samples))
    assert out.dtype == np.int16
    assert out.size == 2 * samples.size


def test_upsampling_nothing_gives_nothing() -> None:
    assert upsample_to_track_rate(np.zeros(0, dtype=np.int16)).size == 0


def test_frames_carry_the_track_clock() -> None:
    frame = mono_frame(np.zeros(960, dtype=np.int16), 1920)
    assert (frame.sample_rate, frame.pts, frame.samples) == (TRACK_RATE, 1920, 960)
    assert frame.time_base * TRACK_RATE == 1
