"""The HTTP endpoints of the Realtime API: client secrets, calls (SDP offer/answer) and hang-up."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from realtime_widget.server.http import bodies
from realtime_widget.server.http.auth import DEFAULT_TTL_S, MAX_TTL_S, MIN_TTL_S
from realtime_widget.server.http.errors import (
    error_response,
    expired_ephemeral_key,
    internal_server_error,
    invalid_api_key,
)
from realtime_widget.server.http.faults import unreachable_candidates
from realtime_widget.server.http.state import server_of
from realtime_widget.server.session.config import SessionConfigError, apply_update, default_session


def _new_session(update: dict[str, Any] | None) -> dict[str, Any]:
    model = update.get("model") if update else None
    base = default_session(model if isinstance(model, str) else "gpt-realtime")
    return apply_update(base, update) if update else base


def _ttl_seconds(expires_after: Any) -> int:
    if expires_after is None:
        return DEFAULT_TTL_S
    if not isinstance(expires_after, dict):
        raise SessionConfigError(
            "Invalid type for 'expires_after': expected an object.", "expires_after", "invalid_type"
        )
    if expires_after.get("anchor", "created_at") != "created_at":
        raise SessionConfigError(
            f"Invalid value: '{expires_after.get('anchor')}'. Supported values are: 'created_at'.",
            "expires_after.anchor",
        )
    seconds = expires_after.get("seconds", DEFAULT_TTL_S)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not MIN_TTL_S <= seconds <= MAX_TTL_S:
        raise SessionConfigError(
            f"Invalid 'expires_after.seconds': {seconds!r}. Expected an integer between {MIN_TTL_S} and {MAX_TTL_S}.",
            "expires_after.seconds",
            "integer_out_of_range",
        )
    return seconds


async def create_client_secret(request: web.Request) -> web.Response:
    """``POST /v1/realtime/client_secrets``: mint an ephemeral key carrying a session configuration."""
    server = server_of(request)
    if server.keys.check(request.headers.get("Authorization"), allow_ephemeral=False) is None:
        return invalid_api_key()
    body = await bodies.json_object(request)
    session_update = body.get("session")
    if session_update is not None and not isinstance(session_update, dict):
        return error_response(
            400, "Invalid type for 'session': expected an object.", code="invalid_type", param="session"
        )
    try:
        ttl = _ttl_seconds(body.get("expires_after"))
        session = _new_session(session_update)
    except SessionConfigError as exc:
        return error_response(400, exc.message, code=exc.code, param=exc.param)
    key = server.keys.mint(ttl, session)
    return web.json_response({"value": key.value, "expires_at": key.expires_at, "session": session})


def _looks_like_offer(sdp: str) -> bool:
    return sdp.lstrip().startswith("v=0") and "\nm=" in sdp


async def _read_offer(request: web.Request) -> tuple[str, dict[str, Any] | None]:
    """The SDP offer and, for the multipart variant, the ``session`` part."""
    if request.content_type != "multipart/form-data":
        return await bodies.text(request, param="sdp"), None
    parts = await bodies.multipart_parts(request)
    session = bodies.parse_json_object(parts["session"], param="session") if "session" in parts else None
    return bodies.decode_utf8(parts.get("sdp", b""), param="sdp"), session


async def create_call(request: web.Request) -> web.Response:
    """``POST /v1/realtime/calls``: answer a WebRTC offer; 201 with the SDP answer and the call in ``Location``."""
    server = server_of(request)
    authorization = request.headers.get("Authorization")
    credential = server.keys.check(authorization, allow_ephemeral=True)
    if credential is None:
        return expired_ephemeral_key() if server.keys.is_expired(authorization) else invalid_api_key()
    fault = server.faults.take_next_call()
    if fault == "server_error":
        return internal_server_error()
    try:
        sdp, session_update = await _read_offer(request)
        if not _looks_like_offer(sdp):
            return error_response(400, "The request body must be an SDP offer.", code="invalid_offer", param="sdp")
        base = dict(credential.session) if credential.session else None
        if base is None:
            session = _new_session(session_update)
        else:
            base = {
                **base,
                **{
                    k: v
                    for k, v in default_session(base.get("model", "gpt-realtime")).items()
                    if k in ("id", "expires_at")
                },
            }
            session = apply_update(base, session_update) if session_update else base
    except SessionConfigError as exc:
        return error_response(400, exc.message, code=exc.code, param=exc.param)
    try:
        call_id, answer = await server.open_call(sdp, session)
    except ValueError as exc:
        return error_response(400, f"The SDP offer was rejected: {exc}", code="invalid_offer", param="sdp")
    if fault == "unreachable_ice":
        answer = unreachable_candidates(answer)
    return web.Response(
        status=201,
        text=answer,
        content_type="application/sdp",
        headers={"Location": f"/v1/realtime/calls/{call_id}"},
    )


async def hangup_call(request: web.Request) -> web.Response:
    """``POST /v1/realtime/calls/{call_id}/hangup``: end the call. Only the standard key may hang up, as with the
    API (an ephemeral key opens one call and is then spent)."""
    server = server_of(request)
    if server.keys.check(request.headers.get("Authorization"), allow_ephemeral=False) is None:
        return invalid_api_key()
    call_id = request.match_info["call_id"]
    if not await server.end_call(call_id):
        return error_response(404, f"No call found with id '{call_id}'.", code="call_id_not_found", param="call_id")
    return web.json_response({})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/realtime/client_secrets", create_client_secret)
    app.router.add_post("/v1/realtime/calls", create_call)
    app.router.add_post("/v1/realtime/calls/{call_id}/hangup", hangup_call)
