"""The WebRTC transport: one aiortc peer per call, its ``oai-events`` data channel and its audio, around an engine."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from realtime_widget.background import BackgroundTasks
from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.session.engine import DEFAULT_MAX_SESSION_S, SessionEngine
from realtime_widget.server.session.responses import GenerationTiming
from realtime_widget.server.session.server_events import EventChecker
from realtime_widget.server.transports import audio_level
from realtime_widget.server.transports.call import MAX_UNSENT_BYTES, CallSummary
from realtime_widget.server.transports.paced_audio import PacedAudioTrack
from realtime_widget.server.voice.model import VoiceModel

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "oai-events"


class WebRtcCall:
    """One call: the peer connection, the outgoing paced track, the incoming audio reader and the engine.

    ``on_closed`` is told once when the call ends for any reason (hang-up, failure, server shutdown).
    """

    def __init__(
        self,
        call_id: str,
        session: dict[str, Any],
        *,
        checker: EventChecker,
        deps: VoiceModel,
        on_closed: Callable[[WebRtcCall], None],
        max_session_s: float = DEFAULT_MAX_SESSION_S,
        record_timing: bool = False,
        timing: GenerationTiming | None = None,
    ) -> None:
        self.call_id = call_id
        audio_level.install()  # aiortc's own per-frame level loop costs each call's event loop ~0.35 % of a core
        self.pc = RTCPeerConnection()
        self.track = PacedAudioTrack(record_timing=record_timing)
        self.channel: Any = None
        self.engine = SessionEngine(
            session,
            self._send_event,
            transport="webrtc",
            checker=checker,
            deps=deps,
            player=self.track,
            call_id=call_id,
            max_session_s=max_session_s,
            on_expired=lambda: self._spawn(self.close()),
            timing=timing,
        )
        self.track.on_start = self.engine.playback_started
        self.track.on_drain = self.engine.playback_drained
        self.track.on_progress = self.engine.playback.track_progress
        self._on_closed = on_closed
        self._tasks = BackgroundTasks(f"call {call_id}", log)
        self._closed = False
        self._stalled = False
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)

    async def answer(self, offer_sdp: str) -> str:
        """Apply the browser's offer and return the SDP answer (ICE candidates included: aiortc does not trickle)."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        # An offer without audio (data channel only) gets an answer without audio: events still flow.
        # (Audio replies then travel as response.output_audio.delta events, as over a WebSocket.)
        if any(t.kind == "audio" for t in self.pc.getTransceivers()):
            self.pc.addTrack(self.track)
        else:
            self.engine.player = None
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return str(self.pc.localDescription.sdp)

    @property
    def channel_open(self) -> bool:
        return self.channel is not None and self.channel.readyState == "open"

    def _send_event(self, text: str) -> None:
        if not self.channel_open or self._stalled:
            return
        # aiortc queues what the peer has not acknowledged without limit; ``bufferedAmount`` counts it. A peer that
        # stops taking events (a frozen tab, a client that never reads) must not grow the server without bound.
        if self.channel.bufferedAmount + len(text) > MAX_UNSENT_BYTES:
            self._stalled = True
            log.warning("call %s: the client is not taking events (%d bytes waiting); ending the call", self.call_id,
                        self.channel.bufferedAmount)  # fmt: skip
            # The peer will not read this one; a sideband (if any) does, and the peer sees its call end.
            self.engine.emit_error(
                "The client is not taking events from the data channel; the call has been ended.",
                code="client_not_reading",
            )
            self._spawn(self.close())
            return
        self.channel.send(text)

    def _on_datachannel(self, channel: Any) -> None:
        if channel.label != EVENTS_CHANNEL:
            return
        self.channel = channel

        @channel.on("message")  # type: ignore[untyped-decorator]
        def on_message(message: str | bytes) -> None:
            self._spawn(self.engine.receive(message))

        # aiortc reports a remote-created channel once it is already open.
        self.engine.open()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._spawn(self._read_audio(track))

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            for out in resampler.resample(frame):
                self.engine.feed_audio(np.ascontiguousarray(out.to_ndarray().reshape(-1), dtype=np.int16))

    async def _on_connection_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            await self.close()

    @property
    def frame_send_times(self) -> list[float]:
        return self.track.send_times

    def describe(self) -> CallSummary:
        """A summary for the control API's call list."""
        return {
            "call_id": self.call_id,
            "transport": "webrtc",
            "connection_state": self.pc.connectionState,
            "channel_open": self.channel_open,
            "session_id": self.engine.session["id"],
        }

    async def drop(self) -> None:
        """Close the peer connection abruptly (no hang-up courtesy), as a crashed server would."""
        await self.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coro)

    def close_channel(self) -> None:
        """Close only the data channel; the peer connection and audio go on (as a flaky channel would)."""
        if self.channel is not None:
            self.channel.close()

    async def close(self) -> None:
        """End the call: engine, tasks, track and peer connection. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        await self.engine.close()
        await self._tasks.cancel_all()
        self.track.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        self._on_closed(self)
