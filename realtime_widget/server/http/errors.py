"""HTTP error answers in the API's shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

_log = logging.getLogger(__name__)


def error_response(
    status: int, message: str, *, code: str | None, param: str | None = None, error_type: str = "invalid_request_error"
) -> web.Response:
    """A JSON error response with the API's body shape."""
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return web.json_response(body, status=status)


def invalid_api_key() -> web.Response:
    """401 for a missing, wrong or expired key."""
    return error_response(
        401,
        "Incorrect API key provided. You can find or mint your key where you started this server.",
        code="invalid_api_key",
    )


def expired_ephemeral_key() -> web.Response:
    """401 for an ephemeral key this server minted that has expired. The API answers a bad key with 401
    ``invalid_api_key``; its words for an expired ``ek_`` key are not documented (reference protocol-facts §1), so
    the code is the API's and the message says what happened."""
    return error_response(
        401,
        "The ephemeral key has expired. Mint a new one with POST /v1/realtime/client_secrets.",
        code="invalid_api_key",
    )


def internal_server_error() -> web.Response:
    """500 in the API's shape: ``type`` ``server_error``, the API's own words, no code."""
    message = "The server had an error while processing your request. Sorry about that!"
    return error_response(500, message, code=None, error_type="server_error")


@web.middleware
async def json_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every HTTP error answers in the API's JSON error shape instead of aiohttp's plain text: unknown paths and
    methods, a body too large (413), a body that cannot be read (400), any other refusal, and an unexpected
    exception (500, logged)."""
    from realtime_widget.server.http.bodies import BadBodyError  # noqa: PLC0415  # bodies builds on this module

    try:
        return await handler(request)
    except BadBodyError as exc:
        return exc.response
    except web.HTTPNotFound as exc:
        if exc.content_type == "application/json":
            raise
        return error_response(404, f"Invalid URL ({request.method} {request.path})", code=None)
    except web.HTTPMethodNotAllowed:
        return error_response(405, f"Method {request.method} is not allowed for {request.path}.", code=None)
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, f"The request body is too large: {exc.text}", code="request_too_large")
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return error_response(exc.status, exc.text or exc.reason, code=None)
    except Exception:
        _log.exception("%s %s failed", request.method, request.path)
        message = "The server had an error while processing your request."
        return error_response(500, message, code="server_error", error_type="server_error")
