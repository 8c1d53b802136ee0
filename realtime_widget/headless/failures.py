"""A headless session's failures as :class:`ErrorInfo`: what happened, in words a person can act on."""

from __future__ import annotations

import json
import re

from realtime_widget.errors import ErrorInfo

_KEYLIKE = re.compile(r"\b(sk|ek)[-_][A-Za-z0-9_-]{6,}")


def _server_said(body: str) -> str:
    # OpenAI answers errors as {"error": {"message", ...}}; a key the server echoes back is never passed on.
    try:
        error = json.loads(body).get("error")
        message = str(error.get("message") or "") if isinstance(error, dict) else body
    except (ValueError, AttributeError):
        message = body
    message = _KEYLIKE.sub("[redacted key]", message.strip()[:300])
    return f" The server said: {message}" if message else ""


def refused(status: int, body: str, where: str) -> ErrorInfo:
    """The server refused to open the session (the WebSocket handshake or the WebRTC call's POST)."""
    said = _server_said(body)
    if status == 401:
        return ErrorInfo(
            "bad_key",
            f"The API key was rejected (401). Check OPENAI_API_KEY or the api_key argument.{said}",
            "Create or copy a key at https://platform.openai.com/api-keys, then set OPENAI_API_KEY or pass api_key=.",
        )
    if status == 403:
        return ErrorInfo("no_access", f"This API key has no access to this Realtime model (403).{said}", "")
    if status == 429:
        return ErrorInfo("rate_limited", f"This API key is being rate-limited (429).{said}", "Wait, then try again.")
    if status >= 500:
        return ErrorInfo("server_error", f"{where} had an error ({status}).{said}", "Try again in a minute.")
    return ErrorInfo("unknown", f"{where} refused the session ({status}).{said}", "Check the session options.")


def unreachable(url: str, reason: object) -> ErrorInfo:
    return ErrorInfo(
        "network",
        f"Could not reach {url}: {reason or 'connection failed'}.",
        "Check that the server is running, the base_url, and any proxy or firewall.",
    )


def lost(transport: str, detail: str) -> ErrorInfo:
    """The connection ended without the session closing it."""
    return ErrorInfo(
        "channel_closed",
        f"The {transport} connection was lost: {detail}. Everything received until then is in session.record.",
        "Open a new Session to continue; the record of this one stays complete.",
    )
