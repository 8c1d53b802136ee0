"""What a headless session's steps return: an utterance spoken, and a reply heard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Utterance:
    """One thing the simulated user said. Times are epoch milliseconds on the session's clock (the record's)."""

    #: When the first sample sounded.
    started_ms: float
    #: When the last speech sample sounded (known exactly: the session played it); trailing silence not included.
    ended_ms: float
    duration_ms: float


@dataclass(frozen=True)
class Reply:
    """The assistant's answer to one user turn, once it is done and (for audio) heard to the end or cut off.

    ``text`` is what the assistant said (the transcripts of its audio, or its text), joined across the turn's
    responses (a tool call's follow-up included); ``latency_ms`` runs from the end of the user's speech to the first
    audible reply sample (``None`` for typed turns and replies without audio); ``interrupted`` is true when the
    user cut a reply off; ``statuses`` are the responses' final statuses in order.
    """

    text: str
    response_ids: list[str]
    statuses: list[str]
    latency_ms: float | None
    interrupted: bool
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        """The last response's status (``"completed"``, ``"cancelled"``, ...)."""
        return self.statuses[-1] if self.statuses else None
