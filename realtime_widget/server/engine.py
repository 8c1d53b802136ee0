"""The transport-agnostic session engine: session config, conversation, input audio, turns, responses, errors.

A transport (WebRTC data channel, WebSocket) hands the engine client events as text and input audio as PCM16
24 kHz; the engine answers through ``send`` with plain-dict server events. Nothing here knows about sockets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from realtime_widget.protocol import CLIENT_EVENT_TYPES, validate_client_event
from realtime_widget.server.events import EventChecker, error_event
from realtime_widget.server.model import Pcm16
from realtime_widget.server.session_config import SessionConfigError, apply_update

log = logging.getLogger(__name__)

TransportKind = Literal["webrtc", "websocket"]


def _param_from_loc(loc: tuple[int | str, ...]) -> str | None:
    # pydantic's first loc entry is the union tag (the event type); the API's param starts after it.
    parts = [str(p) for p in loc[1:] if not str(p).startswith("function-")]
    return ".".join(parts) or None


class SessionEngine:
    """One Realtime session. Construct, call ``open()`` when the event path is up, then ``receive()`` each
    client event and ``feed_audio()`` each chunk of input audio; ``close()`` ends it."""

    def __init__(
        self,
        session: dict[str, Any],
        send: Callable[[dict[str, Any]], None],
        *,
        transport: TransportKind,
        checker: EventChecker | None = None,
    ) -> None:
        self.session = session
        self.transport: TransportKind = transport
        self._send = send
        self._checker = checker or EventChecker()
        self.input_audio: list[Pcm16] = []
        self.closed = False

    # ---- outgoing -------------------------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> dict[str, Any]:
        """Stamp, check and send one server event; returns it as sent."""
        stamped = self._checker.stamp(event)
        if not self.closed:
            self._send(stamped)
        return stamped

    def emit_error(
        self, message: str, *, code: str | None, param: str | None = None, event_id: str | None = None
    ) -> None:
        self.emit(error_event(message, code=code, param=param, event_id=event_id))

    # ---- lifecycle ------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Announce the session (``session.created``), as the API does first on every connection."""
        self.emit({"type": "session.created", "session": self.session})

    async def close(self) -> None:
        self.closed = True

    # ---- incoming -------------------------------------------------------------------------------------------
    async def receive(self, raw: str | bytes) -> None:
        """Handle one client event given as JSON text. Bad input is answered with an ``error`` event."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self.emit_error(f"Invalid JSON: {exc}", code="invalid_json")
            return
        if not isinstance(data, dict):
            self.emit_error("Expected an event object.", code="invalid_json")
            return
        await self.receive_event(data)

    async def receive_event(self, data: dict[str, Any]) -> None:
        """Handle one client event already parsed from JSON."""
        raw_event_id = data.get("event_id")
        event_id = raw_event_id if isinstance(raw_event_id, str) else None
        event_type = data.get("type")
        if not isinstance(event_type, str):
            self.emit_error(
                "Missing required parameter: 'type'.",
                code="missing_required_parameter",
                param="type",
                event_id=event_id,
            )
            return
        if event_type not in CLIENT_EVENT_TYPES:
            self.emit_error(
                f"Invalid value: '{event_type}'. Supported values are: {', '.join(sorted(CLIENT_EVENT_TYPES))}.",
                code="invalid_value",
                param="type",
                event_id=event_id,
            )
            return
        try:
            validate_client_event(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            param = _param_from_loc(first["loc"])
            code = "missing_required_parameter" if first["type"] == "missing" else "invalid_type"
            self.emit_error(f"Invalid '{param}': {first['msg']}.", code=code, param=param, event_id=event_id)
            return
        handler = getattr(self, "_on_" + event_type.replace(".", "_"), None)
        if handler is None:
            self.emit_error(
                f"'{event_type}' is not supported by this server yet.", code="unsupported_event", event_id=event_id
            )
            return
        await handler(data, event_id)

    def feed_audio(self, samples: Pcm16) -> None:
        """Input audio from the transport (mono PCM16 24 kHz)."""
        if samples.dtype != np.int16:
            raise TypeError("input audio must be int16")
        self.input_audio.append(samples)

    # ---- handlers -------------------------------------------------------------------------------------------
    async def _on_session_update(self, data: dict[str, Any], event_id: str | None) -> None:
        try:
            self.session = apply_update(self.session, data["session"])
        except SessionConfigError as exc:
            self.emit_error(exc.message, code=exc.code, param=exc.param, event_id=event_id)
            return
        self.emit({"type": "session.updated", "session": self.session})
