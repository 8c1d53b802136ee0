"""The WebSocket transport: a session's JSON events (audio as base64 PCM16 24 kHz) over one socket; the HTTP layer
(``http/websocket_routes.py``) authenticates the upgrade and hands the socket over."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from realtime_widget.background import BackgroundTasks
from realtime_widget.server.session.engine import DEFAULT_MAX_SESSION_S, SessionEngine
from realtime_widget.server.session.responses import GenerationTiming
from realtime_widget.server.session.server_events import EventChecker
from realtime_widget.server.transports.call import MAX_UNSENT_BYTES, CallSummary
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
        drop_connection: Callable[[], None] | None = None,
    ) -> None:
        self.call_id = call_id
        self.ws = ws
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._drop_connection = drop_connection
        self._unsent_bytes = 0
        self._stalled = False
        self._pump_task: asyncio.Future[None] | None = None
        self._tasks = BackgroundTasks(f"WebSocket call {call_id}", log)
        self.engine = SessionEngine(
            session,
            self._send,
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

    def _send(self, text: str) -> None:
        if self._stalled:
            return
        self._unsent_bytes += len(text)
        if self._unsent_bytes > MAX_UNSENT_BYTES:
            # The client stopped reading: drop what waits for it and end the call instead of buffering forever.
            self._stalled = True
            log.warning("call %s: the client is not reading events (%d bytes waiting); closing", self.call_id,
                        self._unsent_bytes)  # fmt: skip
            while not self._outbox.empty():
                self._outbox.get_nowait()
            self._tasks.spawn(self._disconnect_stalled())
            return
        self._outbox.put_nowait(text)

    async def _disconnect_stalled(self) -> None:
        if self._pump_task is not None:
            self._pump_task.cancel()  # it waits for the client to take an event, which it will not
        if self._drop_connection is not None:
            # Not a close handshake: the close frame would wait behind everything the client has not read.
            self._drop_connection()
        else:
            await asyncio.wait_for(self.ws.close(code=1008, message=b"the client is not reading events"), 5)

    async def _pump(self) -> None:
        while (text := await self._outbox.get()) is not None:
            await self.ws.send_str(text)
            self._unsent_bytes -= len(text)
        await self.ws.close()

    async def serve(self) -> None:
        """Run until the client closes the socket (or the session expires)."""
        pump = self._pump_task = asyncio.ensure_future(self._pump())
        self.engine.open()
        try:
            async for message in self.ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self.engine.receive(message.data)
                    # A burst already in the socket's buffer is read without suspending: give the other sessions
                    # their turn between events, so one client's flood cannot hold the event loop.
                    await asyncio.sleep(0)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            await self.engine.close()
            self._outbox.put_nowait(None)
            if not pump.done():  # done already when a stalled client's pump was cancelled
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
