"""One time axis for a headless session: epoch milliseconds that never go backwards.

The record keeps epoch times; the audio is timed on the monotonic clock. The session reads both from here, so the
end of the user's speech and the first audible reply sample are measured on the same clock as the events.
"""

from __future__ import annotations

import time


class SessionClock:
    """Epoch milliseconds, anchored once to the wall clock and advanced by the monotonic clock."""

    def __init__(self) -> None:
        self._wall_ms = time.time() * 1000.0
        self._mono = time.monotonic()

    def now_ms(self) -> float:
        return self._wall_ms + (time.monotonic() - self._mono) * 1000.0

    def monotonic_of(self, epoch_ms: float) -> float:
        """The ``time.monotonic()`` value at ``epoch_ms`` (for sleeping until then)."""
        return self._mono + (epoch_ms - self._wall_ms) / 1000.0
