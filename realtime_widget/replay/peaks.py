"""Waveform peaks: the minimum and maximum sample under each pixel column of a time window.

The replay view draws a waveform from these instead of the samples, so an hour of audio crosses the comm as a few
kilobytes per redraw, and zooming in asks for finer peaks of a shorter window. Peaks go over the wire as ``int16``
pairs ``(min, max)`` per column, little-endian; a column with no audio under it (before the track starts, after it
ends) is ``(1, -1)``, a pair no real column can have, so the view leaves it blank instead of drawing silence.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["ABSENT", "BLOCK", "PeakIndex"]

ABSENT = (1, -1)
"""The ``(min, max)`` of a column with no audio under it."""

BLOCK = 1024
"""Samples per precomputed block: a zoomed-out view reduces block peaks instead of every sample."""


class PeakIndex:
    """Peaks of one track's samples, over any window, at any number of columns.

    The first zoomed-out request computes each :data:`BLOCK`'s min and max once (one pass over the samples); later
    requests of four blocks or more per column reduce those, so a 60-minute track redraws in milliseconds.
    """

    def __init__(self, samples: npt.NDArray[np.int16]) -> None:
        self.samples = np.ascontiguousarray(samples, dtype=np.int16)
        self._block_min: npt.NDArray[np.int16] | None = None
        self._block_max: npt.NDArray[np.int16] | None = None

    def _blocks(self) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
        if self._block_min is None or self._block_max is None:
            n = len(self.samples)
            starts = np.arange(0, n, BLOCK)
            self._block_min = np.minimum.reduceat(self.samples, starts) if n else self.samples[:0]
            self._block_max = np.maximum.reduceat(self.samples, starts) if n else self.samples[:0]
        return self._block_min, self._block_max

    def peaks(self, first_sample: float, samples_per_column: float, columns: int) -> npt.NDArray[np.int16]:
        """``(columns, 2)`` int16: the min and max of the samples under each column.

        Column ``k`` covers samples ``[first_sample + k * samples_per_column, first_sample + (k + 1) *
        samples_per_column)`` (fractional, and may lie partly or wholly outside the track). A column narrower than
        one sample takes the sample it falls on; a column with no sample under it is :data:`ABSENT`. Zoomed out (four
        blocks or more per column) a column's range is widened to whole blocks (:data:`BLOCK`), so it may take in up to
        one block of its neighbours, a small fraction of the column.
        """
        out = np.empty((max(columns, 0), 2), dtype=np.int16)
        out[:] = ABSENT
        n = len(self.samples)
        if columns <= 0 or n == 0 or samples_per_column <= 0:
            return out
        edges = first_sample + samples_per_column * np.arange(columns + 1, dtype=np.float64)
        starts = np.floor(edges[:-1])
        ends = np.maximum(np.floor(edges[1:]), starts + 1)  # at least the sample the column starts on
        inside = (ends > 0) & (starts < n)
        if not inside.any():
            return out
        lo = np.clip(starts[inside], 0, n - 1).astype(np.int64)
        hi = np.clip(ends[inside], 1, n).astype(np.int64)
        if samples_per_column >= 4 * BLOCK:
            block_min, block_max = self._blocks()
            lo_b = lo // BLOCK
            hi_b = np.maximum(-(-hi // BLOCK), lo_b + 1)  # ceiling: a partial block counts whole
            out[inside, 0] = _reduce(np.minimum, block_min, lo_b, hi_b)
            out[inside, 1] = _reduce(np.maximum, block_max, lo_b, hi_b)
        else:
            out[inside, 0] = _reduce(np.minimum, self.samples, lo, hi)
            out[inside, 1] = _reduce(np.maximum, self.samples, lo, hi)
        return out


def _reduce(
    ufunc: np.ufunc, values: npt.NDArray[np.int16], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> npt.NDArray[np.int16]:
    """``ufunc`` over each ``values[lo[i]:hi[i]]`` (every range non-empty, ``lo`` non-decreasing).

    ``reduceat`` reduces from each index to the next one, so ranges that touch end to end need one call; ranges
    that overlap (a column narrower than a sample repeats it) or leave gaps are reduced over the starts and ends
    interleaved, keeping every other result. ``reduceat`` cannot take the end of ``values`` as an index, so a range
    ending there is reduced on its own.
    """
    # Only the stretch under the columns: reduceat's last range runs to the end of what it is given, which for a
    # zoomed-in window of an hour-long track would otherwise be the rest of the hour.
    first = int(lo[0])
    values = values[first : int(hi.max())]
    lo, hi = lo - first, hi - first
    if len(lo) > 1 and np.array_equal(lo[1:], hi[:-1]):
        result: npt.NDArray[np.int16] = ufunc.reduceat(values, lo)
        # The last range ends at hi[-1], not at the end of values.
        result[-1] = ufunc.reduce(values[lo[-1] : hi[-1]])
        return result
    bounds = np.empty(2 * len(lo), dtype=np.int64)
    bounds[0::2] = lo
    bounds[1::2] = hi
    # reduceat needs indices below len(values); a range ending at the end is reduced separately.
    at_end = hi >= len(values)
    bounds[1::2][at_end] = lo[at_end]
    reduced: npt.NDArray[np.int16] = ufunc.reduceat(values, bounds)[0::2]
    for i in np.flatnonzero(at_end):
        reduced[i] = ufunc.reduce(values[lo[i] : hi[i]])
    return reduced
