"""A listener's real-time playback of the reply audio, as a WebSocket client must simulate it.

Over WebSocket the API streams a reply faster than it is spoken and leaves playback to the client (unlike WebRTC,
where the server paces the audio and reports ``output_audio_buffer.*``). This plays each
``response.output_audio.delta`` on a simulated speaker: a delta starts when it arrives or when the audio before it
ends, whichever is later. It answers what a listener would know: when the first audible sample sounded, how much
of an item has been heard (for ``conversation.item.truncate`` at a barge-in), and when the reply ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16

from .audible import first_audible


@dataclass
class _Item:
    response_id: str
    #: (start in session ms, samples) of each delta as scheduled on the speaker.
    pieces: list[tuple[float, int]] = field(default_factory=list)

    def heard_ms(self, now_ms: float) -> float:
        return sum(min(max(now_ms - start, 0.0), n * 1000.0 / SAMPLE_RATE) for start, n in self.pieces)


class Playback:
    """The simulated speaker of one session (times are session epoch ms)."""

    def __init__(self) -> None:
        self._ends_at = 0.0
        self._items: dict[str, _Item] = {}
        self._current: str | None = None

    def play(self, item_id: str, response_id: str, samples: Pcm16, now_ms: float) -> float | None:
        """Schedule a delta; returns when its first audible sample sounds, if it has one."""
        start = max(now_ms, self._ends_at)
        item = self._items.setdefault(item_id, _Item(response_id))
        item.pieces.append((start, samples.size))
        self._ends_at = start + samples.size * 1000.0 / SAMPLE_RATE
        self._current = item_id
        loud = first_audible(samples)
        return None if loud is None else start + loud * 1000.0 / SAMPLE_RATE

    def playing(self, now_ms: float) -> bool:
        return self._ends_at > now_ms

    @property
    def ends_at(self) -> float:
        """When everything scheduled so far has been played."""
        return self._ends_at

    def stop(self, now_ms: float) -> tuple[str, int] | None:
        """Stop at once (a barge-in, a cancel): returns the item that was playing and the whole milliseconds of it
        heard, or ``None`` when nothing was playing."""
        if not self.playing(now_ms) or self._current is None:
            return None
        item_id = self._current
        heard = int(self._items[item_id].heard_ms(now_ms))
        # What was not heard never will be: cut every piece at now.
        for item in self._items.values():
            item.pieces = [
                (start, min(n, max(0, int((now_ms - start) * SAMPLE_RATE / 1000.0)))) for start, n in item.pieces
            ]
        self._ends_at = now_ms
        return item_id, heard

    def heard_ms(self, item_id: str, now_ms: float) -> float:
        item = self._items.get(item_id)
        return 0.0 if item is None else item.heard_ms(now_ms)
