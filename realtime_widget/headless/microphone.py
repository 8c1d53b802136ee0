"""The simulated user's microphone: queued audio handed out in real time, one 20 ms frame at a time.

It knows exactly when each utterance ends: a frame stands for the 20 ms of sound just before it is handed over
(a microphone captures, then sends), so the last speech sample sounded at ``handover - (frame - offset) / rate``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16

from .clock import SessionClock

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000


@dataclass
class _Segment:
    samples: Pcm16
    #: Resolved with the session time (epoch ms) at which the segment's last sample sounded.
    ended: asyncio.Future[float] | None
    #: Trailing silence: dropped when the user speaks again.
    filler: bool


class Microphone:
    """Audio queued by :meth:`speak`, taken frame by frame by the transport with :meth:`next_frame`."""

    def __init__(self, clock: SessionClock) -> None:
        self._clock = clock
        self._queue: deque[_Segment] = deque()
        self._queued = asyncio.Event()
        self._next_due: float | None = None  # monotonic time of the next frame while audio flows
        #: How well real time was kept: frames handed over, those more than a frame late, the worst lateness.
        self.frames = 0
        self.late_frames = 0
        self.max_late_ms = 0.0
        #: Called with each frame handed over, how many of its samples came from the queue, and when the frame's
        #: first sample sounded (session epoch ms): how recording hears the user.
        self.on_frame: Callable[[Pcm16, int, float], None] | None = None

    def speak(self, speech: Pcm16, trailing_silence_ms: int) -> asyncio.Future[float]:
        """Queue ``speech`` then ``trailing_silence_ms`` of silence; the future resolves with the time the speech
        ended. Silence still queued from an earlier utterance is dropped first: the user speaks now."""
        self.drop_filler()
        ended: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._queue.append(_Segment(speech, ended, filler=False))
        silence = np.zeros(SAMPLE_RATE * trailing_silence_ms // 1000, dtype=np.int16)
        if silence.size:
            self._queue.append(_Segment(silence, None, filler=True))
        self._queued.set()
        return ended

    def drop_filler(self) -> None:
        self._queue = deque(s for s in self._queue if not s.filler)

    def stop(self, reason: BaseException) -> None:
        """Drop everything queued; pending utterances fail with ``reason``."""
        for segment in self._queue:
            if segment.ended is not None and not segment.ended.done():
                segment.ended.set_exception(reason)
        self._queue.clear()

    @property
    def busy(self) -> bool:
        return bool(self._queue)

    async def wait_for_audio(self) -> None:
        """Returns once something is queued."""
        while not self._queue:
            self._queued.clear()
            await self._queued.wait()

    async def next_frame(self, *, continuous: bool) -> tuple[Pcm16, int]:
        """Wait until the next frame is due, then take it: ``FRAME_SAMPLES`` samples (zero-padded) and how many
        came from the queue. ``continuous`` keeps the real-time cadence through idle moments (a WebRTC track
        always sends); otherwise the cadence restarts with the next utterance (a WebSocket client sends audio
        only while there is some)."""
        loop = asyncio.get_running_loop()
        if self._next_due is None:
            self._next_due = loop.time()
        else:
            self._next_due += FRAME_MS / 1000.0
            if self._next_due > loop.time():
                await asyncio.sleep(self._next_due - loop.time())
        late_ms = (loop.time() - self._next_due) * 1000.0
        self.frames += 1
        self.max_late_ms = max(self.max_late_ms, late_ms)
        if late_ms > FRAME_MS:
            self.late_frames += 1
        frame, filled = self._take()
        if self.on_frame is not None:
            self.on_frame(frame, filled, self._clock.now_ms() - FRAME_MS)
        if not continuous and not self._queue:
            self._next_due = None
        return frame, filled

    def _take(self) -> tuple[Pcm16, int]:
        handed_over = self._clock.now_ms()
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and self._queue:
            head = self._queue[0]
            take = min(FRAME_SAMPLES - filled, head.samples.size)
            out[filled : filled + take] = head.samples[:take]
            filled += take
            if take < head.samples.size:
                head.samples = head.samples[take:]
                continue
            self._queue.popleft()
            if head.ended is not None and not head.ended.done():
                head.ended.set_result(handed_over - (FRAME_SAMPLES - filled) * 1000.0 / SAMPLE_RATE)
        return out, filled
