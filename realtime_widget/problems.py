"""What went wrong in a session, as a person should hear it: a server ``error`` event, a response that failed or
was cut short, a turn that could not be transcribed. One table of hints serves the kernel (``widget.on("error")``,
``record.problems``) and the widget, which receives it in the ``problem_hints`` trait and shows each problem live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: What to do next, by the API's error code (or type, or incomplete reason). Codes are those of the API's error
#: events and HTTP errors; an unknown code gets ``DEFAULT_HINT``.
HINTS: dict[str, str] = {
    "insufficient_quota": "The account is out of credit: check the plan and billing of the key's project.",
    "rate_limit_exceeded": "Too many requests or tokens per minute: wait a moment, or ask for a higher limit.",
    "server_error": "The server failed on its side: try again; if it keeps failing, check the provider's status.",
    "content_filter": "The safety filter stopped the reply: rephrase the request or adjust the instructions.",
    "max_output_tokens": "The reply reached max_output_tokens: raise it in the session config for longer replies.",
    "session_expired": "The session reached its time limit: connect again for a new session.",
    "conversation_already_has_active_response": "A response was still running: wait for response.done first.",
    "cannot_update_voice": "The voice can change only before the assistant has spoken: set it before connecting.",
    "invalid_value": "A value in the event was refused: the message names the field.",
    "unknown_parameter": "The event has a field the API does not know: check its spelling.",
    "transcription_failed": "This turn's words could not be recognised; the turn itself still counts.",
}
DEFAULT_HINT = "The event log has the event that caused it."


@dataclass(frozen=True)
class Problem:
    """One problem: ``source`` is the server event that reported it, ``level`` ``"error"`` or ``"warning"``."""

    source: str
    level: Literal["error", "warning"]
    code: str
    message: str
    hint: str
    response_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "response_id": self.response_id,
        }


def problem_of(event: dict[str, Any]) -> Problem | None:
    """The problem a server event reports, or ``None``: an ``error`` event; a ``response.done`` whose status is
    ``failed`` or ``incomplete`` (a cancelled response is an interruption, not a problem); a failed input audio
    transcription."""
    kind = event.get("type")
    if kind == "error":
        return _problem("error", "error", _dict(event.get("error")), None)
    if kind == "conversation.item.input_audio_transcription.failed":
        error = {"code": "transcription_failed", **_dict(event.get("error"))}
        return _problem(str(kind), "warning", error, None)
    if kind != "response.done":
        return None
    response = _dict(event.get("response"))
    details = _dict(response.get("status_details"))
    response_id = response.get("id") if isinstance(response.get("id"), str) else None
    if response.get("status") == "failed":
        return _problem("response.done", "error", _dict(details.get("error")), response_id)
    if response.get("status") == "incomplete":
        reason = str(details.get("reason") or "incomplete")
        error = {"code": reason, "message": f"The reply was cut short ({reason.replace('_', ' ')})."}
        return _problem("response.done", "warning", error, response_id)
    return None


def _problem(
    source: str, level: Literal["error", "warning"], error: dict[str, Any], response_id: str | None
) -> Problem:
    code = str(error.get("code") or error.get("type") or "unknown")
    message = str(error.get("message") or "The server reported a problem.")
    return Problem(source, level, code, message, HINTS.get(code, DEFAULT_HINT), response_id)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
