"""CORS the way a public API answers it, so a notebook page on another origin can call the server."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"


def _add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Access-Control-Expose-Headers"] = "Location"
    response.headers["Vary"] = "Origin"


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer preflights for any path (allowing whatever headers are asked for) and tag every answer."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        preflight = web.Response(status=204)
        preflight.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        preflight.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Content-Type"
        )
        preflight.headers["Access-Control-Max-Age"] = "600"
        # Chromium's Private Network Access asks before a page reaches a loopback server from elsewhere.
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            preflight.headers["Access-Control-Allow-Private-Network"] = "true"
        _add_cors_headers(request, preflight)
        return preflight
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _add_cors_headers(request, exc)
        raise
    if not response.prepared:
        _add_cors_headers(request, response)
    return response
