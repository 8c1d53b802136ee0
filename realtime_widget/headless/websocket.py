"""A session over one WebSocket, with the standard key (it never leaves the process): JSON events both ways,
audio as base64 PCM16 inside them (``GET /v1/realtime?model=...``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp

from realtime_widget.errors import ErrorInfo, RealtimeWidgetError

from . import failures

#: The largest event accepted (a long reply's audio delta, base64, with room to spare).
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


def websocket_url(base_url: str, model: str) -> str:
    """``https://api.openai.com/v1`` → ``wss://api.openai.com/v1/realtime?model=...``."""
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/realtime?model={model}"


class WebSocketLink:
    """One WebSocket to the Realtime API. ``on_message`` gets every text message, ``on_lost`` a dropped
    connection (not one :meth:`close` ended)."""

    name = "WebSocket"

    def __init__(self, on_message: Callable[[str], None], on_lost: Callable[[ErrorInfo], None]) -> None:
        self._on_message = on_message
        self._on_lost = on_lost
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._closing = False
        self.call_id: str | None = None

    async def open(self, base_url: str, key: str, session: dict[str, Any]) -> None:
        """Connect; the session config follows as the first ``session.update`` (sent by the caller)."""
        url = websocket_url(base_url, str(session.get("model", "gpt-realtime")))
        self._http = aiohttp.ClientSession()
        try:
            self._ws = await self._http.ws_connect(
                url, headers={"Authorization": f"Bearer {key}"}, max_msg_size=MAX_MESSAGE_BYTES, heartbeat=None
            )
        except aiohttp.WSServerHandshakeError as exc:
            await self._http.close()
            raise RealtimeWidgetError(failures.refused(exc.status, exc.message, "The Realtime server")) from None
        except (aiohttp.ClientError, OSError) as exc:
            await self._http.close()
            raise RealtimeWidgetError(failures.unreachable(url.split("?")[0], exc)) from None
        self._reader = asyncio.ensure_future(self._read(self._ws))
        self._writer = asyncio.ensure_future(self._write(self._ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self._on_message(message.data)
        if not self._closing:
            code = ws.close_code
            reason = f"closed by the server (code {code})" if code is not None else "the connection dropped"
            self._on_lost(failures.lost(self.name, reason))

    async def _write(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # One writer, so events leave in the order they were sent; a failed write is a lost connection, which
        # the reader reports.
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                await ws.send_str(await self._outbox.get())

    def send(self, text: str) -> None:
        if self._ws is None or self._ws.closed:
            raise RealtimeWidgetError(failures.lost(self.name, "it is closed"))
        self._outbox.put_nowait(text)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        for task in (self._writer, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._http is not None:
            await self._http.close()
