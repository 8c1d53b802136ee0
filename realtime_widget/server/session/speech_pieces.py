"""A reply's speech, synthesized a piece (a sentence) at a time off the event loop, so its audio starts playing
once the first piece exists rather than after the whole reply has been synthesized."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.voice.interfaces import Speech, SpeechSynthesizer, StreamingSpeechSynthesizer

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def speech_executor() -> ThreadPoolExecutor:
    """The one thread every session synthesizes in.

    One is enough: eSpeak NG speaks one utterance at a time anyway (it is not re-entrant). A thread of its own keeps
    synthesis out of the event loop's default pool, where aiortc encodes every outgoing audio frame of every call:
    a reply waiting there for a free thread is heard later, and a long synthesis there delays other calls' frames.
    """
    global _EXECUTOR  # noqa: PLW0603  # one per process, made when the first reply is spoken
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech")
        return _EXECUTOR


def shifted(speech: Speech, offset_ms: int) -> Speech:
    """``speech`` with its word starts counted from ``offset_ms`` earlier (a piece placed after others)."""
    return Speech(speech.samples, [(word, start + offset_ms) for word, start in speech.word_starts_ms])


class SpeechPieces:
    """The pieces of one reply's speech, in order, each ``Speech`` with word starts counted from the start of the
    whole reply. While the caller plays one piece, the next is already being synthesized.

    A synthesizer without ``synthesize_stream`` gives the whole reply as one piece.
    """

    def __init__(self, synthesizer: SpeechSynthesizer, text: str, voice: str, speed: float) -> None:
        self._pieces: Iterator[Speech] = (
            iter(synthesizer.synthesize_stream(text, voice, speed))
            if isinstance(synthesizer, StreamingSpeechSynthesizer)
            else _whole(synthesizer, text, voice, speed)
        )
        self._ahead: asyncio.Future[Speech | None] | None = None
        self._offset_samples = 0

    async def next(self) -> Speech | None:
        """The next piece, or ``None`` when the reply has been said."""
        loop = asyncio.get_running_loop()
        pending = self._ahead or loop.run_in_executor(speech_executor(), self._synthesize_next)
        self._ahead = None
        piece = await pending
        if piece is None:
            return None
        # Start on the next sentence while this one plays (the generator is only ever advanced in the one thread).
        self._ahead = loop.run_in_executor(speech_executor(), self._synthesize_next)
        placed = shifted(piece, self._offset_samples * 1000 // SAMPLE_RATE)
        self._offset_samples += piece.samples.size
        return placed

    def close(self) -> None:
        """Stop: the piece being synthesized ahead, if any, is dropped."""
        if self._ahead is not None:
            self._ahead.cancel()
            self._ahead = None

    def _synthesize_next(self) -> Speech | None:
        return next(self._pieces, None)


def _whole(synthesizer: SpeechSynthesizer, text: str, voice: str, speed: float) -> Iterator[Speech]:
    yield synthesizer.synthesize(text, voice, speed)
