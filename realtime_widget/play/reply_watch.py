"""Following the live record during a play: when a step's reply has been given and heard, when its audio began
(a barge-in waits for that), what the browser said of the speech it played, and whether the person pressed Stop.

Pure: fed the wire items the widget records (docs/wire.md), in the order they reach the kernel. Batches can come
out of order, so nothing here depends on the order of items from different batches beyond what the API itself
guarantees within one reply (``response.created`` before its ``response.done``); the sets below only ever ask
"has it happened", never "what came first".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReplyWatch", "Spoken"]


@dataclass(frozen=True)
class Spoken:
    """The browser's ``play_spoken`` for one step: when the speech began and ended sounding (browser epoch ms),
    and whether it played to the end (False: cut off by Stop)."""

    step: int
    started_t: float | None
    ended_t: float | None
    played: bool


@dataclass
class _Turn:
    """One user step, from the moment it began: what happened since."""

    spoken: bool
    #: Browser time of the user message a typed step (or an image) sent, as the browser reported it.
    sent_t: float | None = None
    committed: bool = False
    responses: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    audio_started: bool = False


class ReplyWatch:
    """What a play needs to know about the live session, from the items the widget records."""

    def __init__(self, play_id: str, *, websocket: bool = False) -> None:
        self.play_id = play_id
        self._turn: _Turn | None = None
        self._active: set[str] = set()
        self._awaiting_follow_up: set[str] = set()
        self._playing: set[str] = set()
        self._ws_playing = False
        #: Over WebSocket the browser plays the reply, and its timeline says when (no output_audio_buffer events).
        self.websocket = websocket
        self.spoken: dict[int, Spoken] = {}
        self.stopped = False
        self.browser_errors: list[str] = []
        #: The browser found no live connection to play into: the call dropped (the status trait may say so later).
        self.browser_disconnected = False

    # ---- the user's side -------------------------------------------------------------------------------------

    def begin_turn(self, *, spoken: bool) -> None:
        """A user step begins now: the reply looked for from here on answers it. A spoken turn is answered by a
        response to its committed audio (not by one it cut off), a typed one by the next response."""
        self._turn = _Turn(spoken=spoken)

    # ---- questions ------------------------------------------------------------------------------------------

    def reply_heard(self) -> bool:
        """The current turn's reply is done, no other response is running or expected (a tool call's follow-up),
        and its audio has finished playing (or was cut off)."""
        turn = self._turn
        if turn is None or not turn.done or self._active or self._awaiting_follow_up:
            return False
        if turn.spoken and not turn.committed:
            return False
        return not (self._playing or self._ws_playing)

    def turn_sent_t(self) -> float | None:
        """When the browser sent the current typed turn's message (browser epoch ms), once it has reported it."""
        return self._turn.sent_t if self._turn is not None else None

    def reply_audio_started(self) -> bool:
        """The current turn's reply has begun to sound (a barge-in counts its delay from here)."""
        return self._turn is not None and self._turn.audio_started

    # ---- what arrives ---------------------------------------------------------------------------------------

    def feed(self, item: dict[str, Any]) -> None:
        """One wire item the widget recorded."""
        kind = item.get("k")
        if kind == "timeline":
            self._timeline(str(item.get("what")), item.get("detail") or {})
        elif kind == "event" and item.get("dir") == "server" and isinstance(item.get("event"), dict):
            self._server_event(item["event"])
        elif kind == "event" and item.get("dir") == "client" and isinstance(item.get("event"), dict):
            turn = self._turn
            if item["event"].get("type") == "conversation.item.create" and turn is not None and turn.sent_t is None:
                turn.sent_t = _number(item.get("t"))

    def _timeline(self, what: str, detail: dict[str, Any]) -> None:
        if what == "transport":
            self.websocket = detail.get("transport") == "websocket"
        elif what == "playback_started":  # WebSocket: the browser's player began sounding a reply
            self._ws_playing = True
            if self._turn is not None and self._turn.responses:
                self._turn.audio_started = True
        elif what == "playback_drained":
            self._ws_playing = False
        if detail.get("play_id") != self.play_id:
            return
        if what == "play_spoken":
            step = int(detail.get("step") or 0)
            self.spoken[step] = Spoken(
                step, _number(detail.get("started_t")), _number(detail.get("ended_t")), detail.get("played") is True
            )
        elif what == "play_stopped":
            self.stopped = True
        elif what == "play_error":
            self.browser_errors.append(str(detail.get("message") or "the browser could not play the audio"))
            self.browser_disconnected = self.browser_disconnected or detail.get("reason") == "not_connected"

    def _server_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        found = event.get("response")
        response: dict[str, Any] = found if isinstance(found, dict) else {}
        response_id = str(response.get("id") or event.get("response_id") or "")
        turn = self._turn
        if kind == "input_audio_buffer.committed" and turn is not None:
            turn.committed = True
        elif kind == "response.created":
            self._active.add(response_id)
            self._awaiting_follow_up.clear()
            if turn is not None and (turn.committed or not turn.spoken):
                turn.responses.add(response_id)
        elif kind == "response.done":
            self._active.discard(response_id)
            if turn is not None and response_id in turn.responses:
                turn.done.add(response_id)
            # The kernel answers a completed response's function calls with a follow-up response.create.
            calls = any(part.get("type") == "function_call" for part in response.get("output") or [])
            if calls and response.get("status") == "completed":
                self._awaiting_follow_up.add(response_id)
        elif kind == "output_audio_buffer.started":
            self._playing.add(response_id)
            if turn is not None and response_id in turn.responses:
                turn.audio_started = True
        elif kind == "output_audio_buffer.stopped":
            self._playing.discard(response_id)
        elif kind == "output_audio_buffer.cleared":
            self._playing.clear()
        elif kind == "response.output_audio_transcript.delta" and self.websocket and turn is not None:
            # Over WebSocket the browser plays each reply as its deltas arrive, with its transcript.
            turn.audio_started = turn.audio_started or response_id in turn.responses


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
