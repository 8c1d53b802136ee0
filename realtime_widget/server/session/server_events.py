"""Building and checking the server events the engine sends."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from realtime_widget.protocol import ValidationError, validate_server_event
from realtime_widget.server.session.ids import new_id

log = logging.getLogger(__name__)


def error_event(
    message: str,
    *,
    code: str | None,
    param: str | None = None,
    event_id: str | None = None,
    error_type: str = "invalid_request_error",
) -> dict[str, Any]:
    """An ``error`` server event; ``event_id`` is the client event it answers, when known."""
    return {
        "type": "error",
        "error": {"type": error_type, "code": code, "message": message, "param": param, "event_id": event_id},
    }


@dataclass
class EventChecker:
    """Validates outgoing events against ``openai.types.realtime`` when ``strict``; keeps what failed.

    Tests run the server strict and assert ``violations`` stays empty, so every event any test provokes is checked.
    """

    strict: bool = False
    violations: list[str] = field(default_factory=list)

    def stamp(self, event: dict[str, Any]) -> dict[str, Any]:
        """Give ``event`` a fresh ``event_id`` (first key, as the API sends it) and check it."""
        stamped = {"event_id": new_id("event"), **event}
        if self.strict:
            try:
                validate_server_event(stamped)
            except ValidationError as exc:
                problem = f"{stamped.get('type')}: {exc.errors()[:3]}"
                log.error("server event failed validation: %s", problem)
                self.violations.append(problem + " in " + json.dumps(stamped)[:2000])
        return stamped
