"""The WebSocket transport: a session's JSON events (audio as base64 PCM16 24 kHz) over one socket; the HTTP layer
(``http/websocket_routes.py``) authenticates the upgrade and hands the socket over."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from realtime_widget.server.session.engine import DEFAULT_MAX_SESSION_S, SessionEngine
from realtime_widget.server.session.responses import GenerationTiming
from realtime_widget.server.session.server_events import EventChecker
from realtime_widget.server.transports.call import CallSummary
from realtime_widget.server.voice.model import VoiceModel

log = logging.getLogger(__name__)


class WebSocketCall:
    """One WebSocket session: the socket, a send queue (so a slow reader never blocks the engine) and the engine."""

    def __init__(
        self,
        call_id: str,
        ws: web.WebSocketResponse,
        session: dict[str, Any],
        *,
        checker: EventChecker,
        deps: VoiceModel,
        max_session_s: float = DEFAULT_MAX_SESSION_S,
        timing: GenerationTiming | None = None,
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
            timing=timing,
            on_expired=lambda: self._outbox.put_nowait(None),
        )

    @property
    def frame_send_times(self) -> list[float]:
        return []  # audio goes out as events

    def describe(self) -> CallSummary:
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
