"""The seams between the session engine and the local voice model.

The engine (``session/engine.py``) owns the protocol: items, turns, responses, events. What a turn *sounds like*
and what the assistant *says* come from the parts defined here, so the offline voice model (VAD, recognition,
speech, responder) can be swapped, scripted or left out without touching the protocol code.

All audio crossing these seams is ``pcm.Pcm16``: mono PCM16 at 24 kHz, the Realtime API's own ``audio/pcm``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from realtime_widget.server.pcm import Pcm16


@dataclass(frozen=True)
class VadEvent:
    """A speech boundary found by the VAD.

    ``audio_ms`` counts from the start of all audio written to the input buffer in this session, like the API's
    ``audio_start_ms`` (which already includes the prefix padding) and ``audio_end_ms``.
    """

    kind: Literal["speech_started", "speech_stopped"]
    audio_ms: int


class VoiceActivityDetector(Protocol):
    """Server VAD: fed the input audio as it arrives, reports speech boundaries."""

    def feed(self, samples: Pcm16) -> list[VadEvent]: ...

    def reset(self) -> None: ...


class VadFactory(Protocol):
    def __call__(
        self, *, threshold: float, prefix_padding_ms: int, silence_duration_ms: int
    ) -> VoiceActivityDetector: ...


class SpeechRecognizer(Protocol):
    """Turns one committed user turn into text ("" when it heard nothing)."""

    def transcribe(self, samples: Pcm16) -> str: ...


class RecognitionStream(Protocol):
    """One user turn recognised while it is still being spoken, so little work is left when it ends.

    ``feed`` the turn's audio as it arrives (from ``speech_started``, prefix padding included), then call
    ``finish`` once for the text of everything fed ("" when it heard nothing), or ``cancel`` to drop it.
    A stream is used from one thread at a time; ``feed`` may block for a few milliseconds of decoding.
    """

    def feed(self, samples: Pcm16) -> None: ...

    def finish(self) -> str: ...

    def cancel(self) -> None: ...


@runtime_checkable
class StreamingSpeechRecognizer(SpeechRecognizer, Protocol):
    """A recognizer that can also decode a turn incrementally (optional; engines may use plain ``transcribe``)."""

    def start_stream(self) -> RecognitionStream: ...


@runtime_checkable
class AwaitableRecognitionStream(RecognitionStream, Protocol):
    """A stream whose transcript can be awaited without holding a thread: ``finish_future`` ends the turn like
    ``finish`` and returns a future of its text (a thread per waiting turn would let many long turns use up the
    event loop's thread pool, and hold up everyone else's)."""

    def finish_future(self) -> Future[str]: ...


class RecognizerShare(StreamingSpeechRecognizer, Protocol):
    """One session's own queue of a shared recognizer; ``close()`` drops what it still has queued."""

    def start_stream(self) -> AwaitableRecognitionStream: ...

    def transcribe_future(self, samples: Pcm16) -> Future[str]:
        """``transcribe``, as a future to await rather than a call that blocks."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class SharedRecognizer(Protocol):
    """A recognizer that gives each session a share of its own, so one session's turns cannot hold up another's."""

    def share(self) -> RecognizerShare: ...


@dataclass(frozen=True)
class Speech:
    """Synthesised audio and when each word starts in it, so transcript deltas can track the audio."""

    samples: Pcm16
    word_starts_ms: list[tuple[str, int]] = field(default_factory=list)


class SpeechSynthesizer(Protocol):
    """Speaks text in a Realtime voice (``alloy``, ``marin``, ...) at a speed from 0.25 to 1.5."""

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> Speech: ...


@runtime_checkable
class StreamingSpeechSynthesizer(SpeechSynthesizer, Protocol):
    """A synthesizer that yields a reply in pieces (a sentence at a time), so playback can start after the
    first piece. Each ``Speech`` is self-contained: its ``word_starts_ms`` count from the start of that piece.
    Concatenating the pieces' samples gives the same audio as ``synthesize``. (Optional for engines.)"""

    def synthesize_stream(self, text: str, voice: str, speed: float = 1.0) -> Iterator[Speech]: ...


@dataclass(frozen=True)
class FunctionCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class McpCall:
    """A call of a tool on an MCP server the API runs itself (scripted: the local server has no MCP client).
    With ``needs_approval`` the response ends with an approval request instead."""

    server_label: str
    name: str
    arguments: dict[str, Any]
    output: str = ""
    needs_approval: bool = False


#: How a response can fail the way the real API's do: failed for quota, rate limit or a server error, or cut short
#: by the safety filter (``incomplete``, reason ``content_filter``). Only scripted replies fail.
Failure = Literal["insufficient_quota", "rate_limit_exceeded", "server_error", "content_filter"]
FAILURES: tuple[Failure, ...] = ("insufficient_quota", "rate_limit_exceeded", "server_error", "content_filter")


@dataclass(frozen=True)
class Reply:
    """What the assistant does in one response: say ``text``, or call a function (then speak after its output).
    With ``failure`` the response fails as the API's do (``content_filter`` cuts ``text`` short instead)."""

    text: str | None = None
    function_call: FunctionCall | None = None
    failure: Failure | None = None
    #: An MCP tool called first (then ``text`` is said, in the same response).
    mcp_call: McpCall | None = None


@dataclass(frozen=True)
class ResponseContext:
    """Everything a responder may look at. ``conversation`` holds GA conversation items as dicts, oldest first;
    ``pending_function_outputs`` holds ``function_call_output`` items that arrived since the last response."""

    instructions: str
    tools: list[dict[str, Any]]
    tool_choice: str | dict[str, Any]
    conversation: list[dict[str, Any]]
    last_user_text: str | None
    pending_function_outputs: list[dict[str, Any]]
    is_first_response: bool
    #: What the images of the latest user message are ("a 640 by 480 PNG"), oldest first.
    images: list[str] = field(default_factory=list)


class Responder(Protocol):
    """Decides the assistant's next reply. Deterministic: the same context gives the same reply."""

    def respond(self, context: ResponseContext) -> Reply: ...
