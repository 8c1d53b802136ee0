"""A session over WebRTC with aiortc: the path the browser uses, with the kernel as the browser.

The offer goes with the session config to ``POST /v1/realtime/calls`` (multipart ``sdp`` + ``session``) under the
standard key, which stays in the process. Events travel on the ``oai-events`` data channel; the user's audio is a
microphone track fed by :class:`~realtime_widget.headless.microphone.Microphone`; the reply arrives as a track the
server paces in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import aiohttp
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from realtime_widget.errors import ErrorInfo, RealtimeWidgetError
from realtime_widget.server.transports.loopback_ice import restrict_ice_to_loopback
from realtime_widget.server.transports.paced_audio import mono_frame, upsample_to_track_rate

from . import failures
from .microphone import FRAME_SAMPLES, Microphone

TRACK_RATE = 48_000
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: How long to wait for the data channel once the call is answered.
CHANNEL_TIMEOUT_S = 15.0


class _MicrophoneTrack(MediaStreamTrack):
    """The user's microphone as a 48 kHz track: one 20 ms frame every 20 ms, speech when queued, else silence."""

    kind = "audio"

    def __init__(self, microphone: Microphone) -> None:
        super().__init__()
        self._microphone = microphone
        self._pts = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        samples, _ = await self._microphone.next_frame(continuous=True)
        frame = mono_frame(upsample_to_track_rate(samples), self._pts, TRACK_RATE)
        self._pts += FRAME_SAMPLES * 2
        return frame


class WebRtcLink:
    """One WebRTC call. ``on_message`` gets every data channel message, ``on_audio`` every received frame (mono
    int16 samples and their rate), ``on_lost`` the call ending without :meth:`close`."""

    name = "WebRTC"

    def __init__(
        self,
        microphone: Microphone,
        on_message: Callable[[str], None],
        on_audio: Callable[[np.ndarray[Any, np.dtype[np.int16]], int], None],
        on_lost: Callable[[ErrorInfo], None],
    ) -> None:
        self._on_message = on_message
        self._on_audio = on_audio
        self._on_lost = on_lost
        self._pc = RTCPeerConnection()
        self._mic = _MicrophoneTrack(microphone)
        self._pc.addTrack(self._mic)
        self._channel = self._pc.createDataChannel("oai-events")
        self._channel_open = asyncio.Event()
        self._channel.on("open", self._channel_open.set)
        self._channel.on("message", self._message)
        self._channel.on("close", lambda: self._lose("the data channel closed"))
        self._pc.on("track", self._track)
        self._pc.on("connectionstatechange", self._state_changed)
        self._readers: list[asyncio.Task[None]] = []
        self._closing = False
        self._lost = False
        self.call_id: str | None = None

    async def open(self, base_url: str, key: str, session: dict[str, Any]) -> None:
        if urlparse(base_url).hostname in _LOOPBACK_HOSTS:
            # A server on this machine is reached over loopback, which aioice leaves out of its candidates.
            # The switch is process-wide (aiortc has no per-peer option): see server/transports/loopback_ice.py.
            restrict_ice_to_loopback()
        await self._pc.setLocalDescription(await self._pc.createOffer())
        url = f"{base_url}/realtime/calls"
        form = aiohttp.FormData()
        form.add_field("sdp", self._pc.localDescription.sdp, content_type="application/sdp")
        form.add_field("session", json.dumps(session), content_type="application/json")
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(url, data=form, headers={"Authorization": f"Bearer {key}"}) as response,
            ):
                body = await response.text()
                status, location = response.status, response.headers.get("Location", "")
        except (aiohttp.ClientError, OSError) as exc:
            raise RealtimeWidgetError(failures.unreachable(url, exc)) from None
        if status != 201:
            raise RealtimeWidgetError(failures.refused(status, body, "The calls endpoint"))
        self.call_id = location.rsplit("/", 1)[-1] or None
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        try:
            await asyncio.wait_for(self._channel_open.wait(), CHANNEL_TIMEOUT_S)
        except TimeoutError:
            raise RealtimeWidgetError(
                ErrorInfo(
                    "ice_failed",
                    f"The call was answered but its data channel did not open within {CHANNEL_TIMEOUT_S:g} s.",
                    "Check that UDP between this process and the server is allowed.",
                )
            ) from None

    def _message(self, message: str | bytes) -> None:
        self._on_message(message if isinstance(message, str) else message.decode("utf-8", "replace"))

    def _track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._readers.append(asyncio.ensure_future(self._read_audio(track)))

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, AudioFrame):
                    continue
                samples = frame.to_ndarray().reshape(-1)
                channels = len(frame.layout.channels)
                if channels > 1:  # packed stereo: the first channel is enough to hear the reply
                    samples = samples[::channels]
                self._on_audio(samples.astype(np.int16, copy=False), frame.sample_rate)

    def _state_changed(self) -> None:
        if self._pc.connectionState in ("failed", "closed"):
            self._lose(f"the peer connection is {self._pc.connectionState}")

    def _lose(self, detail: str) -> None:
        if not self._closing and not self._lost:
            self._lost = True
            self._on_lost(failures.lost(self.name, detail))

    def send(self, text: str) -> None:
        if self._channel.readyState != "open":
            raise RealtimeWidgetError(failures.lost(self.name, "its data channel is closed"))
        self._channel.send(text)

    async def close(self) -> None:
        self._closing = True
        for task in self._readers:
            task.cancel()
        self._mic.stop()
        await self._pc.close()
