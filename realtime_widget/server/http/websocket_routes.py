"""The WebSocket routes: ``GET /v1/realtime?model=...`` opens a session over a WebSocket, and ``?call_id=rtc_...``
the sideband of a WebRTC call (events only, beside the call's data channel)."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType, web

from realtime_widget.protocol.rules import DEFAULT_MODEL
from realtime_widget.server.http.errors import error_response, invalid_api_key
from realtime_widget.server.http.state import server_of
from realtime_widget.server.session.config import default_session
from realtime_widget.server.session.ids import new_id
from realtime_widget.server.transports.websocket import WebSocketCall

#: WebSocket sessions are listed among the calls under ids of their own (they are not WebRTC calls).
WS_PREFIX = "ws"
#: The largest event a client may send (a 15 MiB audio append, base64, with room to spare).
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


def _bearer_from_subprotocols(request: web.Request) -> str | None:
    # Browsers cannot set headers on a WebSocket; the API also takes the key as an "openai-insecure-api-key." protocol.
    for offered in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
        protocol = offered.strip()
        if protocol.startswith("openai-insecure-api-key."):
            return "Bearer " + protocol.removeprefix("openai-insecure-api-key.")
    return None


async def realtime_websocket(request: web.Request) -> web.StreamResponse:
    """``GET /v1/realtime?model=...`` (a new session) or ``?call_id=rtc_...`` (the sideband of a WebRTC call)."""
    server = server_of(request)
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
    ws = web.WebSocketResponse(protocols=("realtime",), max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    call = WebSocketCall(
        new_id(WS_PREFIX),
        ws,
        session,
        checker=server.checker,
        deps=await server.get_deps(),
        max_session_s=server.max_session_s,
        timing=server.timing,
        drop_connection=lambda: request.transport.abort() if request.transport is not None else None,
    )
    server.calls[call.call_id] = call
    try:
        await call.serve()
    finally:
        server.calls.pop(call.call_id, None)
    return ws


async def _sideband(request: web.Request, call_id: str) -> web.StreamResponse:
    server = server_of(request)
    call = server.calls.get(call_id)
    if call is None:
        return error_response(
            404, "No session found for the provided call_id", code="call_id_not_found", param="call_id"
        )
    ws = web.WebSocketResponse(protocols=("realtime",), max_msg_size=MAX_MESSAGE_BYTES)
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
