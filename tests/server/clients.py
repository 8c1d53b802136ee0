"""Clients of the local server for its tests: an aiortc caller with a fake microphone, and a harness that drives
one session engine directly."""

import asyncio
import contextlib
import json
import time
from collections import deque
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from realtime_widget.server.transports.paced_audio import FramePacer, mono_frame, take_frame
from realtime_widget.server.voice.loader import fallback_voice_model

API_KEY = "sk-test-local"
MIC_RATE = 48_000
MIC_FRAME = 960


class MicTrack(MediaStreamTrack):  # type: ignore[misc]
    """A fake microphone: plays queued 48 kHz PCM16 in real time, silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[np.ndarray[Any, np.dtype[np.int16]]] = deque()
        self._pacer = FramePacer(MIC_FRAME, MIC_RATE)

    def play(self, samples_24k: np.ndarray[Any, np.dtype[np.int16]]) -> None:
        """Queue mono PCM16 24 kHz audio (each sample doubled to 48 kHz)."""
        self._queue.append(np.repeat(samples_24k.astype(np.int16), 2))

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_pts()
        samples, _ = take_frame(self._queue, MIC_FRAME)
        return mono_frame(samples, pts, MIC_RATE)


class RtcClient:
    """A browser stand-in: mic track, ``oai-events`` channel, SDP POSTed to ``/v1/realtime/calls``.

    ``events`` collects every server event received (parsed); ``audio_rms`` one RMS per received 20 ms frame.
    ``receive_only`` offers a recvonly audio transceiver instead of the mic: a client that never sends audio.
    """

    def __init__(self, base_url: str, key: str, *, receive_only: bool = False) -> None:
        self.base_url = base_url
        self.key = key
        self.pc = RTCPeerConnection()
        self.mic = MicTrack()
        if receive_only:
            self.pc.addTransceiver("audio", direction="recvonly")
        else:
            self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel("oai-events")
        #: The type of every client event sent, in order.
        self.sent_types: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.audio_rms: list[float] = []
        self.call_id: str | None = None
        self._new_event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.channel_open = asyncio.Event()
        self.channel.on("open", self.channel_open.set)
        self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)

    def _on_message(self, message: str | bytes) -> None:
        self.events.append(json.loads(message))
        self._new_event.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._read_audio(track)))

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                samples = frame.to_ndarray().astype(np.float64)
                self.audio_rms.append(float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0)

    async def connect(self, session: dict[str, Any] | None = None) -> aiohttp.ClientResponse:
        """Offer, POST, apply the answer; returns the HTTP response (already read). Does not wait for the channel."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Authorization": f"Bearer {self.key}"}
        async with aiohttp.ClientSession() as http:
            if session is None:
                response = await http.post(
                    f"{self.base_url}/realtime/calls",
                    data=self.pc.localDescription.sdp,
                    headers={**headers, "Content-Type": "application/sdp"},
                )
            else:
                form = aiohttp.FormData()
                form.add_field("sdp", self.pc.localDescription.sdp, content_type="application/sdp")
                form.add_field("session", json.dumps(session), content_type="application/json")
                response = await http.post(f"{self.base_url}/realtime/calls", data=form, headers=headers)
            answer = await response.text()
        if response.status == 201:
            self.call_id = response.headers["Location"].rsplit("/", 1)[-1]
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return response

    def send(self, event: dict[str, Any]) -> None:
        self.sent_types.append(str(event["type"]))
        self.channel.send(json.dumps(event))

    async def wait_for(self, event_type: str, within: float = 5.0, after: int = 0) -> dict[str, Any]:
        """The first event of ``event_type`` at index >= ``after`` in ``events``, waiting up to ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            for event in self.events[after:]:
                if event.get("type") == event_type:
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [e.get("type") for e in self.events]
                raise TimeoutError(f"no {event_type} within {within} s; got {seen}")
            self._new_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_event.wait(), remaining)

    def types(self) -> list[str]:
        return [str(e.get("type")) for e in self.events]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()


class EngineHarness:
    """An engine with no transport: events it sends land in ``events``; every one is validated (strict)."""

    def __init__(self, transport: str = "websocket", **kwargs: Any) -> None:
        from realtime_widget.server.session.config import default_session
        from realtime_widget.server.session.engine import SessionEngine
        from realtime_widget.server.session.server_events import EventChecker

        self.checker = EventChecker(strict=True)
        self.events: list[dict[str, Any]] = []
        kwargs.setdefault("deps", fallback_voice_model())
        self.engine = SessionEngine(
            default_session(),
            lambda text: self.events.append(json.loads(text)),
            transport=transport,
            checker=self.checker,
            **kwargs,  # type: ignore[arg-type]
        )
        self.engine.open()

    async def send(self, event: dict[str, Any] | str) -> list[dict[str, Any]]:
        """Send one client event, let the engine finish what it started, and return the events it caused."""
        before = len(self.events)
        await self.engine.receive(event if isinstance(event, str) else json.dumps(event))
        await self.engine.idle()
        return self.events[before:]

    def types(self, events: list[dict[str, Any]] | None = None) -> list[str]:
        return [str(e["type"]) for e in (self.events if events is None else events)]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]
