"""Where the routes find the server they serve: the aiohttp application key and a typed accessor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from realtime_widget.server.http.app import RealtimeServer

SERVER_KEY: web.AppKey[RealtimeServer] = web.AppKey("realtime_server")


def server_of(request: web.Request) -> RealtimeServer:
    """The ``RealtimeServer`` behind ``request``'s application (or the parent's, for the control sub-app)."""
    return request.app[SERVER_KEY]
