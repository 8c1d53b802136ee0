"""The kernel side of the browser's recorded audio (``docs/wire.md``, "Audio chunks").

With ``RealtimeWidget(record_audio=True)`` the browser sends each side's audio in chunks, one custom message each:
``{"type": "rtw:audio", "client", "side", "seq", "t", "rate", "format": "pcm16"}`` with the PCM16 samples as the
message's one binary buffer. Like event batches, a chunk is resent until acknowledged, so it can arrive twice and
out of order. :class:`AudioChunkInbox` makes that "every chunk once, in order, per side":

- every well-formed chunk is acknowledged (``{"type": "rtw:audio_ack", "client", "side", "seq"}``), repeats too;
- chunks of one ``(client, side)`` are released in sequence order. A chunk that comes early waits for the ones
  before it, because the audio writer places a chunk after what it already holds; a gap that stays open longer
  than :data:`MAX_HELD` chunks (the browser gave those up, or its page closed before resending) is skipped, and
  the writer fills it with silence;
- a chunk that arrives after its place was given up is dropped like a repeat: placing it then would shift the
  audio after it.

Memory is bounded: per ``(client, side)`` a counter and at most :data:`MAX_HELD` waiting chunks (half a second
each, 24 kB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, cast

__all__ = ["AUDIO_ACK_TYPE", "AUDIO_TYPE", "MAX_HELD", "AudioChunk", "AudioChunkInbox", "AudioInboxResult"]

AUDIO_TYPE = "rtw:audio"
AUDIO_ACK_TYPE = "rtw:audio_ack"
#: Chunks held while an earlier one is missing (20 s of audio at the browser's half-second chunks): longer than a
#: resend takes (2 s, doubling), shorter than the browser's budget of unacknowledged audio would ever need.
MAX_HELD = 40
_RATES = range(8_000, 96_001)

Side = Literal["user", "assistant"]


@dataclass(frozen=True)
class AudioChunk:
    """One chunk to record: ``side``'s PCM16 (little-endian, mono) at ``rate``, its first sample at browser time
    ``t`` (ms since the epoch; the record adds its clock offset)."""

    client: str
    side: Side
    seq: int
    t: float
    rate: int
    pcm16: bytes


@dataclass(frozen=True)
class AudioInboxResult:
    """``ack`` to send back (``None`` for a malformed message, with ``error`` saying why); ``chunks`` to record now,
    in order (empty for a repeat, or while an earlier chunk is awaited)."""

    ack: dict[str, Any] | None
    chunks: list[AudioChunk] = field(default_factory=list)
    error: str | None = None
    duplicate: bool = False


@dataclass
class _Stream:
    next_seq: int = 1  # every seq below it was released (or skipped)
    held: dict[int, AudioChunk] = field(default_factory=dict)
    skipped: int = 0


class AudioChunkInbox:
    """Deduplicates and orders the browser's audio chunks per ``(client, side)``; pure logic, no I/O."""

    def __init__(self, max_held: int = MAX_HELD) -> None:
        self._max_held = max_held
        self._streams: dict[tuple[str, Side], _Stream] = {}

    def accept(self, message: object, buffers: list[Any]) -> AudioInboxResult:
        """Check one message and its buffers, acknowledge it, and return the chunks now ready to record."""
        problem = _problem(message, buffers)
        if problem is not None:
            return AudioInboxResult(ack=None, error=problem)
        content = cast("dict[str, Any]", message)
        side = cast("Side", content["side"])
        chunk = AudioChunk(
            content["client"], side, content["seq"], float(content["t"]), content["rate"], bytes(buffers[0])
        )
        ack = {"type": AUDIO_ACK_TYPE, "client": chunk.client, "side": side, "seq": chunk.seq}
        stream = self._streams.setdefault((chunk.client, side), _Stream())
        if chunk.seq < stream.next_seq or chunk.seq in stream.held:
            return AudioInboxResult(ack=ack, duplicate=True)
        stream.held[chunk.seq] = chunk
        return AudioInboxResult(ack=ack, chunks=self._release(stream))

    def received(self) -> dict[str, dict[str, int]]:
        """Per client and side, the next sequence number expected (every one below it was recorded or skipped):
        for tests and diagnostics, e.g. ``{"c1": {"user": 121, "assistant": 98}}``."""
        out: dict[str, dict[str, int]] = {}
        for (client, side), stream in self._streams.items():
            out.setdefault(client, {})[side] = stream.next_seq
        return out

    def skipped(self) -> int:
        """Chunks never received whose place was given up (their time is silence in the record)."""
        return sum(s.skipped for s in self._streams.values())

    def held(self) -> int:
        """Chunks waiting for an earlier one."""
        return sum(len(s.held) for s in self._streams.values())

    def _release(self, stream: _Stream) -> list[AudioChunk]:
        ready: list[AudioChunk] = []
        while True:
            chunk = stream.held.pop(stream.next_seq, None)
            if chunk is not None:
                ready.append(chunk)
                stream.next_seq += 1
            elif len(stream.held) > self._max_held:
                first = min(stream.held)  # give up the missing ones: their time stays silence
                stream.skipped += first - stream.next_seq
                stream.next_seq = first
            else:
                return ready


def _problem(message: object, buffers: list[Any]) -> str | None:
    if not isinstance(message, dict) or message.get("type") != AUDIO_TYPE:
        return f"not an audio chunk: {type(message).__name__}"
    client = message.get("client")
    if not isinstance(client, str) or not client:
        return "audio chunk 'client' must be a non-empty string"
    if message.get("side") not in ("user", "assistant"):
        return f"audio chunk 'side' must be 'user' or 'assistant', got {message.get('side')!r}"
    seq = message.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return f"audio chunk 'seq' must be an integer >= 1, got {seq!r}"
    t = message.get("t")
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        return f"audio chunk 't' must be a finite number of ms, got {t!r}"
    rate = message.get("rate")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate not in _RATES:
        return f"audio chunk 'rate' must be a sample rate in Hz, got {rate!r}"
    if message.get("format") != "pcm16":
        return f"audio chunk 'format' must be 'pcm16', got {message.get('format')!r}"
    if len(buffers) != 1:
        return f"an audio chunk carries one binary buffer, got {len(buffers)}"
    size = memoryview(buffers[0]).nbytes
    if size % 2:
        return f"PCM16 needs an even number of bytes, got {size}"
    return None
