"""The local Realtime-compatible server: its state (keys, calls, voice model) and the aiohttp application."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from realtime_widget.server.http import realtime_routes
from realtime_widget.server.http.auth import KeyStore
from realtime_widget.server.http.control_routes import control_app
from realtime_widget.server.http.cors import cors_middleware
from realtime_widget.server.http.errors import json_errors_middleware
from realtime_widget.server.http.faults import Faults
from realtime_widget.server.http.state import SERVER_KEY
from realtime_widget.server.http.websocket_routes import realtime_websocket
from realtime_widget.server.session.engine import DEFAULT_MAX_SESSION_S
from realtime_widget.server.session.ids import new_id
from realtime_widget.server.session.responses import GenerationTiming
from realtime_widget.server.session.server_events import EventChecker
from realtime_widget.server.transports import prompt_ice
from realtime_widget.server.transports.call import Call
from realtime_widget.server.transports.loopback_ice import restrict_ice_to_loopback
from realtime_widget.server.transports.webrtc import WebRtcCall
from realtime_widget.server.voice.loader import load_voice_model
from realtime_widget.server.voice.model import VoiceModel

log = logging.getLogger(__name__)


class RealtimeServer:
    """A Realtime-compatible server bound to ``host``; use in-process (tests) or via the CLI.

    ``strict`` validates every server event against ``openai.types.realtime`` and records failures in
    ``checker.violations``. ``deps`` is the voice model (default: the offline one when installed, else the
    fallbacks). ``max_session_s`` ends sessions like the API's 60-minute limit. ``record_timing`` keeps the send
    time of every outgoing WebRTC audio frame (for the concurrency benchmark). ``timing`` says how fast replies are
    generated: faster than real time by default, as the real API does.
    """

    def __init__(
        self,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = False,
        deps: VoiceModel | None = None,
        max_session_s: float = DEFAULT_MAX_SESSION_S,
        record_timing: bool = False,
        timing: GenerationTiming | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.keys = KeyStore(api_key)
        self.faults = Faults()
        self.checker = EventChecker(strict=strict)
        self._owns_deps = deps is None
        self._deps = deps
        self._deps_loading: asyncio.Future[VoiceModel] | None = None
        self.max_session_s = max_session_s
        self.record_timing = record_timing
        self.timing = timing or GenerationTiming()
        self.calls: dict[str, Call] = {}
        self.app = create_app(self)
        self._runner: web.AppRunner | None = None

    @property
    def deps(self) -> VoiceModel:
        """The voice model; only once loaded (``start()`` begins loading it; ``await get_deps()`` waits)."""
        if self._deps is None:
            raise RuntimeError("the voice model is still loading; await get_deps()")
        return self._deps

    async def get_deps(self) -> VoiceModel:
        """The voice model, waiting for it to finish loading if need be."""
        if self._deps is None:
            if self._deps_loading is None:
                self._deps_loading = asyncio.ensure_future(asyncio.to_thread(load_voice_model))
            self._deps = await asyncio.shield(self._deps_loading)
        return self._deps

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    async def start(self) -> int:
        """Bind and serve; returns the bound port (a free one when ``port`` was 0). The voice model loads in the
        background meanwhile (a second or more with the speech engines); the first call waits for it."""
        # Applied now rather than on import, so that merely importing the server (as the kernel's launcher does)
        # patches nothing.
        restrict_ice_to_loopback()
        prompt_ice.install()  # connected when nominated, not at aioice's next 20 ms step
        if self._deps is None and self._deps_loading is None:
            self._deps_loading = asyncio.ensure_future(asyncio.to_thread(load_voice_model))
        self._runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server: Any = site._server  # aiohttp keeps the asyncio server here; the only way to read the bound port
        self.port = int(server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Close every call (together), then the HTTP server."""
        await asyncio.gather(*(call.close() for call in list(self.calls.values())), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._owns_deps and self._deps_loading is not None:
            if self._deps_loading.done():
                if self._deps_loading.exception() is None:
                    await asyncio.to_thread(self._deps_loading.result().close)
            else:
                # Still loading: close it when it lands rather than hold shutdown up (its worker also ends with us).
                self._deps_loading.add_done_callback(
                    lambda f: None if f.cancelled() or f.exception() else f.result().close()
                )

    async def open_call(self, offer_sdp: str, session: dict[str, Any]) -> tuple[str, str]:
        """Create a WebRTC call for an offer; returns ``(call_id, answer_sdp)``."""
        call = WebRtcCall(
            new_id("rtc"),
            session,
            checker=self.checker,
            deps=await self.get_deps(),
            on_closed=self._forget_call,
            max_session_s=self.max_session_s,
            record_timing=self.record_timing,
            timing=self.timing,
        )
        self.calls[call.call_id] = call
        try:
            answer = await call.answer(offer_sdp)
        except Exception as exc:
            await call.close()
            raise ValueError(str(exc) or f"{type(exc).__name__} while answering it") from exc
        return call.call_id, answer

    async def end_call(self, call_id: str) -> bool:
        """Hang up a call; ``False`` when there is no such call."""
        call = self.calls.get(call_id)
        if call is None:
            return False
        await call.close()
        return True

    def advance_clock(self, seconds: float) -> None:
        """Run the server's clock ``seconds`` ahead (a test control): ephemeral keys and sessions age by that much
        at once, so a test sees a key expire or a session reach its time limit without waiting for it."""
        self.keys.clock_ahead_s += seconds
        for call in list(self.calls.values()):
            call.engine.advance_clock(seconds)

    def _forget_call(self, call: WebRtcCall) -> None:
        self.calls.pop(call.call_id, None)


def create_app(server: RealtimeServer) -> web.Application:
    """The aiohttp application serving ``server``'s endpoints (and its control API under ``/_local/``)."""
    app = web.Application(middlewares=[cors_middleware, json_errors_middleware], client_max_size=32 * 1024 * 1024)
    app[SERVER_KEY] = server
    realtime_routes.add_routes(app)
    app.router.add_get("/v1/realtime", realtime_websocket)
    control = control_app()
    control[SERVER_KEY] = server
    app.add_subapp("/_local/", control)
    return app
