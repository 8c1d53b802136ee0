"""Per-session recognition of user turns, decoded while they are spoken when the recognizer can stream.

Decoding a whole turn after ``speech_stopped`` costs about a third of the turn's length (over half a second for a
two-second turn on a small machine); decoding as the audio arrives leaves only tens of milliseconds of work when
the turn ends. An engine calls ``begin`` on ``speech_started`` with the turn's audio so far (prefix padding
included), ``feed`` with each later chunk while the turn lasts, ``transcript(committed_audio)`` at the commit
(awaiting the result later), and ``cancel`` when the buffer is cleared or the session ends. With a plain
``SpeechRecognizer``, or a commit that no ``begin`` preceded (push-to-talk), ``transcript`` decodes the committed
audio instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from realtime_widget.server.model import Pcm16, RecognitionStream, SpeechRecognizer, StreamingSpeechRecognizer


async def _nothing() -> str:
    return ""


class TurnTranscriber:
    """Recognition for one session's turns (see the module docstring). Used from the event loop's thread."""

    def __init__(self, recognizer: SpeechRecognizer) -> None:
        self.recognizer = recognizer
        self._stream: RecognitionStream | None = None

    @property
    def streaming(self) -> bool:
        """Whether a turn is being decoded as it arrives."""
        return self._stream is not None

    def begin(self, audio_so_far: Pcm16) -> None:
        """A turn started: decode from here on (a turn already in progress is dropped)."""
        self.cancel()
        if isinstance(self.recognizer, StreamingSpeechRecognizer):
            self._stream = self.recognizer.start_stream()
            self._stream.feed(audio_so_far)

    def feed(self, samples: Pcm16) -> None:
        """More audio of the turn in progress (ignored between turns)."""
        if self._stream is not None:
            self._stream.feed(samples)

    def transcript(self, committed: Pcm16) -> Awaitable[str]:
        """The words of the turn just committed: the streamed result if one was begun, else ``committed``
        decoded. Call it at the commit: the turn is detached at once (so a turn that starts before the result is
        awaited gets a stream of its own); awaiting runs the wait in a thread so the event loop stays free."""
        stream, self._stream = self._stream, None
        if stream is not None:
            return asyncio.to_thread(stream.finish)
        if committed.size == 0:
            return _nothing()
        return asyncio.to_thread(self.recognizer.transcribe, committed)

    def cancel(self) -> None:
        """Drop the turn in progress, if any."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.cancel()
