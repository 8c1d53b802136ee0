"""Live edits of a connected session that cannot drift: each ``session.update`` the kernel sends is matched with
the server's answer, so Python's config always describes the session that exists.

The server answers every ``session.update`` in order, with ``session.updated`` or with an ``error`` that names the
update's ``event_id``; confirmations carry no id, so they are matched first in, first out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ErrorInfo, RealtimeWidgetError

if TYPE_CHECKING:
    from .config import SessionConfig

#: How long awaiting an update waits for the server's answer before raising ``TimeoutError``.
ANSWER_TIMEOUT_S = 30.0


class SessionUpdate:
    """The outcome of ``widget.update_session(...)``: ``await`` it for the config the server confirmed; it raises
    :class:`RealtimeWidgetError` (with the API's code) when the server refused the update, after the widget's
    config and UI were rolled back. Not awaiting it is fine: the update and any rollback happen either way."""

    def __init__(self, config: SessionConfig) -> None:
        self._config = config
        self._refusal: ErrorInfo | None = None
        self._answered = False

    @property
    def done(self) -> bool:
        """Whether the server has answered (or nothing had to be sent)."""
        return self._answered

    @property
    def refusal(self) -> ErrorInfo | None:
        """The server's refusal (code, message, hint), or ``None``."""
        return self._refusal

    def confirm(self) -> None:
        self._answered = True

    def refuse(self, refusal: ErrorInfo) -> None:
        self._refusal = refusal
        self._answered = True

    def __await__(self) -> Generator[Any, None, SessionConfig]:
        return self._outcome().__await__()

    async def _outcome(self) -> SessionConfig:
        # Polled, like widget.wait_for: the answer arrives in a browser batch, whichever message carries it.
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while not self._answered:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not answer the session.update within {ANSWER_TIMEOUT_S:g} s")
            await asyncio.sleep(0.05)
        if self._refusal is not None:
            raise RealtimeWidgetError(self._refusal)
        return self._config

    def __repr__(self) -> str:
        state = "pending" if not self._answered else "refused" if self._refusal else "confirmed"
        return f"<SessionUpdate {state}>"


@dataclass
class _Sent:
    event_id: str
    update: SessionUpdate | None
    #: The changed options' values before the update, to restore if it is refused.
    previous: dict[str, Any]


class LiveUpdates:
    """The kernel's ``session.update`` events awaiting the server's answer, oldest first."""

    def __init__(self) -> None:
        self._waiting: list[_Sent] = []

    def sent(self, event_id: str, previous: dict[str, Any], update: SessionUpdate | None = None) -> None:
        self._waiting.append(_Sent(event_id, update, previous))

    def on_server_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Follows the server's answers; returns the values to restore when it refused one of ours."""
        kind = event.get("type")
        if kind == "session.updated" and self._waiting:
            sent = self._waiting.pop(0)
            if sent.update is not None:
                sent.update.confirm()
        elif kind == "error":
            raw = event.get("error")
            error: dict[str, Any] = raw if isinstance(raw, dict) else {}
            refused = next((s for s in self._waiting if s.event_id == error.get("event_id")), None)
            if refused is not None:
                self._waiting.remove(refused)
                if refused.update is not None:
                    code = str(error.get("code") or error.get("type") or "session_update_rejected")
                    message = str(error.get("message") or "The server refused the session update.")
                    hint = "The widget's config was rolled back to what the session still uses."
                    refused.update.refuse(ErrorInfo(code, message, hint))
                return refused.previous
        return None

    def forget(self) -> None:
        """The connection is gone: nothing will answer what is waiting (the config stays as the user set it)."""
        for sent in self._waiting:
            if sent.update is not None:
                sent.update.confirm()
        self._waiting.clear()
