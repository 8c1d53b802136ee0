"""Where sound begins in PCM16: the first sample loud enough to hear."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

#: A sample at or above 1 % of full scale (-40 dBFS) counts as audible: above codec noise and the dither of
#: silence, well below the quietest syllable of speech.
AUDIBLE_LEVEL = 328


def first_audible(samples: npt.NDArray[Any]) -> int | None:
    """The index of the first sample at or above :data:`AUDIBLE_LEVEL` (in absolute value), or ``None``."""
    if samples.size == 0:
        return None
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= AUDIBLE_LEVEL)
    return int(loud[0]) if loud.size else None
