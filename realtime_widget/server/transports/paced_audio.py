"""The server's outgoing WebRTC audio: a track paced in real time that plays queued speech or silence."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from collections.abc import Callable

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16

TRACK_RATE = 48_000
FRAME_MS = 20
FRAME_SAMPLES = TRACK_RATE * FRAME_MS // 1000


TRACK_TIME_BASE = fractions.Fraction(1, TRACK_RATE)


def upsample_to_track_rate(samples: Pcm16) -> Pcm16:
    """24 kHz → 48 kHz by linear interpolation (the engine's audio is band-limited speech; this is enough).

    Each input sample is kept and followed by the mean of it and the next (rounded half to even, as ``np.rint``
    would); the last is repeated. Integer arithmetic: this runs on the event loop for every chunk of every reply
    (at several times real time), where ``np.interp``'s float search cost each call about twice as much.
    """
    if samples.size == 0:
        return samples
    wide = samples.astype(np.int32)
    pair_sums = wide[:-1] + wide[1:]
    floor_half = pair_sums >> 1
    out = np.empty(samples.size * 2, dtype=np.int16)
    out[0::2] = samples
    # An odd sum is halfway between floor_half and floor_half + 1: round to whichever is even.
    out[1:-1:2] = floor_half + (pair_sums & floor_half & 1)
    out[-1] = samples[-1]
    return out


def take_frame(queue: deque[Pcm16], size: int) -> tuple[Pcm16, int]:
    """Take up to ``size`` samples from the front of ``queue`` (consuming them); returns a frame of exactly
    ``size`` samples, zero-padded, and how many came from the queue."""
    out = np.zeros(size, dtype=np.int16)
    filled = 0
    while filled < size and queue:
        head = queue[0]
        take = min(size - filled, head.size)
        out[filled : filled + take] = head[:take]
        filled += take
        if take == head.size:
            queue.popleft()
        else:
            queue[0] = head[take:]
    return out, filled


def mono_frame(samples: Pcm16, pts: int, rate: int = TRACK_RATE) -> AudioFrame:
    """Mono PCM16 ``samples`` as an ``AudioFrame`` at ``rate``, stamped ``pts`` (in samples)."""
    frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = TRACK_TIME_BASE if rate == TRACK_RATE else fractions.Fraction(1, rate)
    return frame


class FramePacer:
    """Real-time pacing for a track's ``recv``: the first frame goes at once, each later one when it is due."""

    def __init__(self, frame_samples: int = FRAME_SAMPLES, rate: int = TRACK_RATE) -> None:
        self.frame_samples = frame_samples
        self.rate = rate
        self._start: float | None = None
        self._pts = 0

    async def next_pts(self) -> int:
        """Wait until the next frame is due; returns its timestamp (in samples from the first frame)."""
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += self.frame_samples
            wait = self._start + self._pts / self.rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        return self._pts


class PacedAudioTrack(MediaStreamTrack):
    """A 48 kHz mono track sending one 20 ms frame every 20 ms: queued audio first, silence when idle.

    ``on_start`` fires when audio starts after silence, ``on_drain`` when the queue runs dry. ``played_ms``
    counts the queued audio actually sent since the last ``clear()`` or idle period, which is what the engine
    truncates an interrupted item to. ``send_times`` (monotonic seconds) lets benchmarks measure pacing.
    """

    kind = "audio"

    def __init__(self, record_timing: bool = False) -> None:
        super().__init__()
        self._queue: deque[Pcm16] = deque()
        self._queued_samples = 0
        self._played_samples = 0
        self._playing = False
        self._pacer = FramePacer()
        self.on_start: Callable[[], None] | None = None
        self.on_drain: Callable[[], None] | None = None
        #: Called after each frame of queued audio is sent (the engine follows which reply is being heard).
        self.on_progress: Callable[[], None] | None = None
        self.record_timing = record_timing
        self.send_times: list[float] = []

    # ---- engine side ----------------------------------------------------------------------------------------
    def enqueue(self, samples_24k: Pcm16) -> None:
        """Queue engine audio (mono PCM16 24 kHz) to play after what is already queued."""
        samples = upsample_to_track_rate(samples_24k)
        if samples.size:
            self._queue.append(samples)
            self._queued_samples += samples.size

    def clear(self) -> int:
        """Drop everything not yet sent; returns the milliseconds that had been played."""
        played = self.played_ms
        self._queue.clear()
        self._queued_samples = 0
        self._playing = False
        self._played_samples = 0
        return played

    @property
    def played_ms(self) -> int:
        return self._played_samples * 1000 // TRACK_RATE

    @property
    def queued_ms(self) -> int:
        return self._queued_samples * 1000 // TRACK_RATE

    @property
    def playing(self) -> bool:
        return self._playing

    # ---- aiortc side ----------------------------------------------------------------------------------------
    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_pts()
        if self.record_timing:
            self.send_times.append(time.monotonic())
        return mono_frame(self._next_samples(), pts)

    def _next_samples(self) -> Pcm16:
        out, filled = take_frame(self._queue, FRAME_SAMPLES)
        self._queued_samples -= filled
        if filled:
            if not self._playing:
                self._playing = True
                self._played_samples = 0
                if self.on_start is not None:
                    self.on_start()
            self._played_samples += filled
            if self.on_progress is not None:
                self.on_progress()
        if self._playing and not self._queue:
            self._playing = False
            if self.on_drain is not None:
                self.on_drain()
        return out


assert SAMPLE_RATE * 2 == TRACK_RATE
