"""The WebSocket transport: ``GET /v1/realtime?model=...`` carrying JSON events (audio as base64 PCM16 24 kHz)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from realtime_widget.server.deps import EngineDeps
from realtime_widget.server.engine import DEFAULT_MAX_SESSION_S, SessionEngine
from realtime_widget.server.events import EventChecker
from realtime_widget.server.http_api import SERVER_KEY
from realtime_widget.server.http_errors import error_response, invalid_api_key
from realtime_widget.server.ids import new_id
from realtime_widget.server.session_config import DEFAULT_MODEL, default_session

log = logging.getLogger(__name__)

#: WebSocket sessions are listed among the calls under ids of their own (they are not WebRTC calls).
WS_PREFIX = "ws"


class WebSocketCall:
    """One WebSocket session: the socket, a send queue (so a slow reader never blocks the engine) and the engine."""

    def __init__(
        self,
        call_id: str,
        ws: web.WebSocketResponse,
        session: dict[str, Any],
        *,
        checker: EventChecker,
        deps: EngineDeps,
        max_session_s: float = DEFAULT_MAX_SESSION_S,
    ) -> None:
        self.call_id = call_id
        self.ws = ws
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.engine = SessionEngine(
            session,
            self._outbox.put_nowait,
            transport="websocket",
            checker=checker,
            deps=deps,
            call_id=call_id,
            max_session_s=max_session_s,
            on_expired=lambda: self._outbox.put_nowait(None),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "transport": "websocket",
            "connection_state": "closed" if self.ws.closed else "connected",
            "channel_open": not self.ws.closed,
            "session_id": self.engine.session["id"],
        }

    async def _pump(self) -> None:
        while (text := await self._outbox.get()) is not None:
            await self.ws.send_str(text)
        await self.ws.close()

    async def serve(self) -> None:
        """Run until the client closes the socket (or the session expires)."""
        pump = asyncio.ensure_future(self._pump())
        self.engine.open()
        try:
            async for message in self.ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self.engine.receive(message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            await self.engine.close()
            self._outbox.put_nowait(None)
            try:
                await asyncio.wait_for(pump, 2)
            except (TimeoutError, ConnectionError):
                pump.cancel()

    async def close(self) -> None:
        await self.engine.close()
        await self.ws.close()

    async def drop(self) -> None:
        await self.close()

    def close_channel(self) -> None:
        self._outbox.put_nowait(None)


def _bearer_from_subprotocols(request: web.Request) -> str | None:
    # Browsers cannot set headers on a WebSocket; the API also takes the key as an "openai-insecure-api-key." protocol.
    for offered in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
        protocol = offered.strip()
        if protocol.startswith("openai-insecure-api-key."):
            return "Bearer " + protocol.removeprefix("openai-insecure-api-key.")
    return None


async def realtime_websocket(request: web.Request) -> web.StreamResponse:
    """``GET /v1/realtime?model=...`` (a new session) or ``?call_id=rtc_...`` (the sideband of a WebRTC call)."""
    server = request.app[SERVER_KEY]
    authorization = request.headers.get("Authorization") or _bearer_from_subprotocols(request)
    call_id = request.query.get("call_id")
    credential = server.keys.check(authorization, allow_ephemeral=call_id is None)
    if credential is None:
        return invalid_api_key()
    if call_id is not None:
        return await _sideband(request, call_id)
    model = request.query.get("model")
    if credential.session is not None:
        session = {**credential.session, **{k: v for k, v in default_session().items() if k in ("id", "expires_at")}}
    else:
        session = default_session(model or DEFAULT_MODEL)
    ws = web.WebSocketResponse(protocols=("realtime",), max_msg_size=32 * 1024 * 1024)
    await ws.prepare(request)
    call = WebSocketCall(
        new_id(WS_PREFIX),
        ws,
        session,
        checker=server.checker,
        deps=await server.get_deps(),
        max_session_s=server.max_session_s,
    )
    server.calls[call.call_id] = call
    try:
        await call.serve()
    finally:
        server.calls.pop(call.call_id, None)
    return ws


async def _sideband(request: web.Request, call_id: str) -> web.StreamResponse:
    server = request.app[SERVER_KEY]
    call = server.calls.get(call_id)
    if call is None:
        return error_response(
            404, "No session found for the provided call_id", code="call_id_not_found", param="call_id"
        )
    ws = web.WebSocketResponse(protocols=("realtime",), max_msg_size=32 * 1024 * 1024)
    await ws.prepare(request)
    outbox: asyncio.Queue[str | None] = asyncio.Queue()

    async def pump() -> None:
        while (text := await outbox.get()) is not None:
            await ws.send_str(text)

    listener = outbox.put_nowait
    call.engine.listeners.append(listener)
    pumping = asyncio.ensure_future(pump())
    try:
        async for message in ws:
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await call.engine.receive(message.data)
    finally:
        call.engine.listeners.remove(listener)
        pumping.cancel()
    return ws
