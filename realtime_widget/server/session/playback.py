"""The assistant's audio as the client hears it: what is playing, how long each item's audio is, which words
were said when, and truncation to what was heard.

Over WebRTC the server owns the output buffer (the outgoing track), so it reports ``output_audio_buffer.started``
and ``.stopped`` and clears the buffer on a barge-in. Over WebSocket the client plays the audio; only item lengths
and word timings are kept here, for ``conversation.item.truncate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from realtime_widget.server.pcm import Pcm16, duration_ms
from realtime_widget.server.session.conversation import Conversation
from realtime_widget.server.voice.interfaces import Speech


class AudioPlayer(Protocol):
    """The WebRTC outgoing track as the engine sees it."""

    def enqueue(self, samples_24k: Pcm16) -> None: ...

    def clear(self) -> int: ...

    @property
    def played_ms(self) -> int: ...

    @property
    def queued_ms(self) -> int: ...

    @property
    def playing(self) -> bool: ...


@dataclass
class _Segment:
    """One response's audio in the output buffer: where it starts on the track's clock (ms played since the track
    last started), and whether the client has been told it started."""

    response_id: str
    item_id: str
    start_ms: int
    announced: bool = False


class Playback:
    """Output audio bookkeeping for one session. ``emit`` sends a server event; ``player`` is the WebRTC track
    (``None`` over WebSocket, or over WebRTC when the client offered no audio).

    Replies are generated faster than they play, so a new response's audio can queue behind the one still
    playing: each is a segment of the buffer, ``output_audio_buffer.started`` is sent as each begins to play,
    ``.stopped`` once the buffer has drained with nothing more to come, and a barge-in cuts the segment playing.
    """

    def __init__(
        self, conversation: Conversation, emit: Callable[[dict[str, Any]], object], player: AudioPlayer | None
    ) -> None:
        self.player = player
        self._conversation = conversation
        self._emit = emit
        #: Whether the assistant has produced audio yet (after which the voice cannot change).
        self.audio_output_done = False
        self._audio_ms: dict[str, int] = {}
        self._spoken: dict[str, list[tuple[str, int]]] = {}
        self._truncated_ms: dict[str, int] = {}
        self._segments: list[_Segment] = []  # oldest first; empty when nothing is in the buffer

    @property
    def playing_response(self) -> str | None:
        """The response whose audio the client is hearing, or is about to (WebRTC only)."""
        current = self._current()
        return current.response_id if current is not None else None

    def audio_ms(self, item_id: str) -> int | None:
        """How long an item's audio is (after any truncation), if it has audio."""
        return self._audio_ms.get(item_id)

    def note_input_audio(self, item_id: str, samples: Pcm16) -> None:
        """Remember how long a user item's audio is (for input token counts)."""
        self._audio_ms[item_id] = duration_ms(samples)

    def began(self, response_id: str, item_id: str, speech: Speech) -> None:
        """A response's audio starts (``speech`` is its first piece): the voice is locked and its timings are kept
        for truncation."""
        self.audio_output_done = True
        self._audio_ms[item_id] = duration_ms(speech.samples)
        self._spoken[item_id] = speech.word_starts_ms
        if self.player is not None:
            # Behind whatever is still queued; at 0 when the track is idle (its clock restarts when it starts).
            start = self.player.played_ms + self.player.queued_ms if self.player.playing else 0
            self._segments.append(_Segment(response_id, item_id, start))

    def continued(self, item_id: str, speech: Speech) -> None:
        """More of an item's audio was synthesized (``speech``'s word starts count from the item's first sample):
        replies are spoken a sentence at a time."""
        self._spoken.setdefault(item_id, []).extend(speech.word_starts_ms)
        if item_id not in self._truncated_ms:  # a cut item's length stays where it was cut
            self._audio_ms[item_id] = self._audio_ms.get(item_id, 0) + duration_ms(speech.samples)

    def track_started(self) -> None:
        """The WebRTC track began sending audio after silence."""
        self.track_progress()

    def track_progress(self) -> None:
        """The track sent another frame: announce each segment whose audio has begun to play."""
        # The track may run dry and restart within one response when generation lags (a loaded machine); the
        # client still hears one stretch of audio per response, announced once.
        played = self.player.played_ms if self.player is not None else 0
        for segment in self._segments:
            if not segment.announced and segment.start_ms <= played:
                segment.announced = True
                self._emit({"type": "output_audio_buffer.started", "response_id": segment.response_id})

    def track_drained(self, generating: str | None) -> bool:
        """The WebRTC track ran out of queued audio. Unless ``generating`` (the active response's id) will queue
        more, playback has stopped: says so and returns ``True``."""
        if not self._segments:
            return False
        last = self._segments[-1]
        if generating == last.response_id:
            return False
        self.track_progress()
        self._segments.clear()
        self._emit({"type": "output_audio_buffer.stopped", "response_id": last.response_id})
        return True

    def finished_generating(self, response_id: str) -> bool:
        """A response's generation ended; returns ``True`` when its audio has already finished playing (or there
        was none to play), so the session is idle again."""
        if not self._segments or self._segments[-1].response_id != response_id:
            return True
        if self.player is not None and not self.player.playing and self.player.queued_ms == 0:
            return self.track_drained(None)
        return False

    def clear(self, *, truncate: bool) -> None:
        """Clear the output buffer (``output_audio_buffer.cleared``); with ``truncate``, cut the item playing at
        what was played (``conversation.item.truncated``), as the API does on a barge-in. Replies queued behind
        it were not heard at all."""
        current = self._current()
        if self.player is None or current is None:
            return
        played_ms = self.player.clear()
        later = self._segments[self._segments.index(current) + 1 :]
        self._segments.clear()
        self._emit({"type": "output_audio_buffer.cleared", "response_id": current.response_id})
        if not truncate:
            return
        for segment, heard_ms in [(current, max(0, played_ms - current.start_ms)), *((s, 0) for s in later)]:
            if segment.item_id in self._conversation:
                self.truncate(segment.item_id, heard_ms)
                truncated = {"item_id": segment.item_id, "content_index": 0, "audio_end_ms": heard_ms}
                self._emit({"type": "conversation.item.truncated", **truncated})

    def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """Cut an item's audio and transcript at ``audio_end_ms``."""
        # What was not heard is dropped from the transcript too, so the context holds only what the user heard.
        # An item still being generated gets its content at the end: remember the cut and apply it again then.
        self._truncated_ms[item_id] = audio_end_ms
        item = self._conversation.get(item_id)
        words = self._spoken.get(item_id, [])
        heard = " ".join(word for word, start in words if start < audio_end_ms)
        for part in item.get("content") or []:
            if part.get("type") == "output_audio":
                part["transcript"] = heard
        self._audio_ms[item_id] = min(self._audio_ms.get(item_id, audio_end_ms), audio_end_ms)

    def reapply_truncations(self, items: list[dict[str, Any]]) -> None:
        """Apply cuts made while these items were still being generated (their content was written afterwards)."""
        for item in items:
            if item["id"] in self._truncated_ms and item["id"] in self._conversation:
                self.truncate(item["id"], self._truncated_ms[item["id"]])

    def _current(self) -> _Segment | None:
        """The segment playing now: the last one whose start has been reached (the first while none has)."""
        if not self._segments:
            return None
        played = self.player.played_ms if self.player is not None and self.player.playing else 0
        reached = [s for s in self._segments if s.start_ms <= played]
        return reached[-1] if reached else self._segments[0]
