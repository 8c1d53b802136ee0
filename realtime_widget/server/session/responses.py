"""Producing one response: the GA event sequence for text, audio and function-call replies, and cancellation."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.session import codecs as g711
from realtime_widget.server.session.conversation import Conversation
from realtime_widget.server.session.ids import new_id
from realtime_widget.server.session.playback import AudioPlayer
from realtime_widget.server.session.speech_pieces import SpeechPieces
from realtime_widget.server.session.usage import OUTPUT_AUDIO_TOKENS_PER_S, audio_tokens, text_tokens, usage
from realtime_widget.server.voice.interfaces import Failure, McpCall, Reply, Speech
from realtime_widget.server.voice.model import VoiceModel

#: Audio is generated (and, over WebSocket, sent as ``response.output_audio.delta``) in chunks of this length.
CHUNK_MS = 100
#: Paced generation: how far generated audio may run ahead of WebRTC playback.
PLAYBACK_LEAD_MS = 300
#: Seconds of reply audio generated per second by default. The API "will produce audio faster than realtime"
#: (``openai/types/realtime/conversation_item_truncate_event.py``), so ``response.done`` arrives long before the
#: audio has been heard; the SDK states no rate, so this factor is ours, not a measured figure of the API.
DEFAULT_GENERATION_SPEED = 4.0


@dataclass(frozen=True)
class GenerationTiming:
    """How fast a reply's audio is generated.

    By default, ``speed`` times faster than real time, as the real API does: ``response.done`` comes when generation
    ends, and over WebRTC the output buffer keeps playing after it (``output_audio_buffer.stopped`` follows what is
    heard). ``paced_to_playback`` ties generation to WebRTC playback instead (``response.done`` as the audio ends,
    so an interruption cancels the response): the local server's earlier behaviour, kept for whoever needs it.
    """

    speed: float = DEFAULT_GENERATION_SPEED
    paced_to_playback: bool = False

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("the generation speed must be above 0 (1 is real time)")


#: Output tokens per character of a spoken reply: its text plus about 65 ms of audio at 20 audio tokens a second.
AUDIO_TOKENS_PER_CHAR = 0.25 + 0.065 * OUTPUT_AUDIO_TOKENS_PER_S

CancelReason = Literal["turn_detected", "client_cancelled"]

#: ``status_details.error`` of a failed response, for each way a scripted reply can fail. The shape is the SDK's
#: ``RealtimeResponseStatus.Error`` (type, code, message); the codes and messages are those the API's HTTP errors use
#: for the same conditions (429 ``insufficient_quota`` and ``rate_limit_exceeded``, 500 ``server_error``).
FAILURE_ERRORS: dict[Failure, dict[str, str | None]] = {
    "insufficient_quota": {
        "type": "insufficient_quota",
        "code": "insufficient_quota",
        "message": "You exceeded your current quota, please check your plan and billing details.",
    },
    "rate_limit_exceeded": {
        "type": "tokens",
        "code": "rate_limit_exceeded",
        "message": "Rate limit reached for tokens per min (TPM). Please try again in 1.5s.",
    },
    "server_error": {
        "type": "server_error",
        "code": None,
        "message": "The server had an error while processing your request. Sorry about that!",
    },
}


class ResponseHost(Protocol):
    """What a response needs from its engine."""

    deps: VoiceModel
    conversation: Conversation
    player: AudioPlayer | None
    timing: GenerationTiming

    def emit(self, event: dict[str, Any]) -> dict[str, Any]: ...

    def audio_output_began(self, run: ResponseRun, item_id: str, speech: Speech) -> None: ...

    def audio_output_continued(self, item_id: str, speech: Speech) -> None: ...


@dataclass(eq=False)  # identity semantics: runs are kept in sets
class ResponseRun:
    """One response's settings (session defaults with the ``response.create`` overrides applied) and state."""

    id: str
    in_conversation: bool
    modalities: list[str]
    voice: str | dict[str, Any]
    speed: float
    output_format: dict[str, Any]
    max_output_tokens: int | str
    metadata: dict[str, Any] | None
    conversation_id: str | None = None
    input_tokens: tuple[int, int] = (0, 0)
    output: list[dict[str, Any]] = field(default_factory=list)
    cancel_reason: CancelReason | None = None
    task: asyncio.Task[None] | None = None

    @property
    def voice_name(self) -> str:
        """The voice as a response names it: a custom voice by its id (``RealtimeResponse``'s ``audio.output.voice``
        is a string in the SDK, where the session's may be ``{"id": ...}``)."""
        return self.voice if isinstance(self.voice, str) else str(self.voice.get("id", ""))

    def cancel(self, reason: CancelReason) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason

    def response_object(
        self, status: str, usage_obj: dict[str, Any] | None = None, details: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": self.output,
            "conversation_id": self.conversation_id if self.in_conversation else None,
            "output_modalities": self.modalities,
            "max_output_tokens": self.max_output_tokens,
            "audio": {"output": {"format": self.output_format, "voice": self.voice_name}},
            "usage": usage_obj,
            "metadata": self.metadata,
        }


class ResponseProducer:
    """Runs one ``ResponseRun`` against its host, from ``response.created`` to ``response.done``."""

    def __init__(self, host: ResponseHost, run: ResponseRun, reply: Reply) -> None:
        self.host = host
        self.run = run
        self.reply = reply
        self._output_text_tokens = 0
        self._output_audio_tokens = 0
        self._hit_token_limit = False
        self._filtered = False

    def _emit(self, event: dict[str, Any]) -> None:
        self.host.emit(event)

    def _ids(self, item_id: str, output_index: int) -> dict[str, Any]:
        return {"response_id": self.run.id, "item_id": item_id, "output_index": output_index}

    def _add_item(self, item: dict[str, Any]) -> int:
        output_index = len(self.run.output)
        self.run.output.append(item)
        self._emit(
            {
                "type": "response.output_item.added",
                "response_id": self.run.id,
                "output_index": output_index,
                "item": item,
            }
        )
        if self.run.in_conversation:
            previous = self.host.conversation.insert(item)
            self._emit({"type": "conversation.item.added", "previous_item_id": previous, "item": item})
        return output_index

    def _finish_item(self, item: dict[str, Any], output_index: int, status: str | None) -> None:
        if status is not None:  # MCP items have no status field
            item["status"] = status
        self._emit(
            {
                "type": "response.output_item.done",
                "response_id": self.run.id,
                "output_index": output_index,
                "item": item,
            }
        )
        if self.run.in_conversation and item["id"] in self.host.conversation:
            previous_index = self.host.conversation.index(item["id"]) - 1
            previous = self.host.conversation.items[previous_index]["id"] if previous_index >= 0 else None
            self._emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item})

    async def produce(self) -> None:
        failure = self.reply.failure
        if failure is not None and failure != "content_filter":
            self._failed(FAILURE_ERRORS[failure])
            return
        if self.reply.mcp_call is not None:
            approved = await self._mcp_call(self.reply.mcp_call)
            if not approved:
                self._done()
                return
        if self.reply.function_call is not None:
            await self._function_call()
        elif self.reply.text is not None:
            audio = "audio" in self.run.modalities
            text = self._within_token_limit(self.reply.text, AUDIO_TOKENS_PER_CHAR if audio else 0.25)
            if failure == "content_filter":
                text = self._filtered_text(text)
            if audio:
                await self._audio_message(text)
            else:
                await self._text_message(text)
        self._done()

    def _item_status(self) -> str:
        return "incomplete" if self.run.cancel_reason or self._hit_token_limit or self._filtered else "completed"

    def _filtered_text(self, text: str) -> str:
        """The first half of ``text`` (whole words): the safety filter stopped the rest."""
        self._filtered = True
        words = text.split(" ")
        return " ".join(words[: max(1, len(words) // 2)])

    def _failed(self, error: dict[str, str | None]) -> None:
        """A response that failed before producing anything, as the API reports it: ``response.done`` with status
        ``failed`` and the error in ``status_details``."""
        details = {"type": "failed", "error": dict(error)}
        usage_obj = usage(self.run.input_tokens[0], self.run.input_tokens[1], 0, 0)
        self._emit({"type": "response.done", "response": self.run.response_object("failed", usage_obj, details)})

    def _within_token_limit(self, text: str, tokens_per_char: float) -> str:
        """``text`` cut at a word boundary to fit ``max_output_tokens`` (marking the response incomplete)."""
        limit = self.run.max_output_tokens
        if not isinstance(limit, int) or len(text) * tokens_per_char <= limit:
            return text
        self._hit_token_limit = True
        cut = text[: max(1, int(limit / tokens_per_char))]
        return cut.rsplit(" ", 1)[0] if " " in cut else cut

    def _done(self) -> None:
        run = self.run
        details: dict[str, Any] | None
        if run.cancel_reason is not None:
            status, details = "cancelled", {"type": "cancelled", "reason": run.cancel_reason}
        elif self._hit_token_limit:
            status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        elif self._filtered:
            status, details = "incomplete", {"type": "incomplete", "reason": "content_filter"}
        else:
            status, details = "completed", None
        usage_obj = usage(run.input_tokens[0], run.input_tokens[1], self._output_text_tokens, self._output_audio_tokens)
        self._emit({"type": "response.done", "response": run.response_object(status, usage_obj, details)})

    # ---- function calls ---------------------------------------------------------------------------------------
    async def _function_call(self) -> None:
        call = self.reply.function_call
        assert call is not None
        arguments = json.dumps(call.arguments)
        call_id = new_id("call", 16)
        item: dict[str, Any] = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": call.name,
            "arguments": "",
        }
        output_index = self._add_item(item)
        step = max(1, len(arguments) // 4)
        for start in range(0, len(arguments), step):
            if self.run.cancel_reason:
                break
            self._emit(
                {
                    "type": "response.function_call_arguments.delta",
                    **self._ids(item["id"], output_index),
                    "call_id": call_id,
                    "delta": arguments[start : start + step],
                }
            )
            await asyncio.sleep(0)
        if self.run.cancel_reason:
            self._finish_item(item, output_index, "incomplete")
            return
        item["arguments"] = arguments
        self._output_text_tokens += text_tokens(call.name + arguments)
        self._emit(
            {
                "type": "response.function_call_arguments.done",
                **self._ids(item["id"], output_index),
                "call_id": call_id,
                "name": call.name,
                "arguments": arguments,
            }
        )
        self._finish_item(item, output_index, "completed")

    # ---- MCP tools (run by the API itself) ----------------------------------------------------------------------
    async def _mcp_call(self, call: McpCall) -> bool:
        """The MCP call's events, in the order of the SDK's ``ResponseMcpCall*`` events; ``False`` when the call
        waits for the client's approval (an ``mcp_approval_request`` item ends the response)."""
        arguments = json.dumps(call.arguments)
        base = {"id": new_id("item"), "server_label": call.server_label, "name": call.name, "arguments": arguments}
        if call.needs_approval:
            request = {**base, "type": "mcp_approval_request"}
            index = self._add_item(request)
            self._finish_item(request, index, None)
            return False
        item: dict[str, Any] = {**base, "type": "mcp_call", "arguments": "", "approval_request_id": None,
                                "error": None, "output": None}  # fmt: skip
        index = self._add_item(item)
        ids = {"response_id": self.run.id, "item_id": item["id"], "output_index": index}
        self._emit({"type": "response.mcp_call_arguments.delta", **ids, "delta": arguments})
        self._emit({"type": "response.mcp_call_arguments.done", **ids, "arguments": arguments})
        self._emit({"type": "response.mcp_call.in_progress", "item_id": item["id"], "output_index": index})
        await asyncio.sleep(0)
        item.update(arguments=arguments, output=call.output)
        self._emit({"type": "response.mcp_call.completed", "item_id": item["id"], "output_index": index})
        self._finish_item(item, index, None)
        return True

    # ---- text -------------------------------------------------------------------------------------------------
    def _start_message(self, part: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, Any]]:
        """Add an in-progress assistant message and announce its first content part (``part``, still empty).
        Returns the item, its output index and the ids every later event of the part carries."""
        item: dict[str, Any] = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        output_index = self._add_item(item)
        ids = {**self._ids(item["id"], output_index), "content_index": 0}
        self._emit({"type": "response.content_part.added", **ids, "part": part})
        return item, output_index, ids

    async def _text_message(self, text: str) -> None:
        item, output_index, ids = self._start_message({"type": "text", "text": ""})
        sent = ""
        for piece in word_pieces(text):
            if self.run.cancel_reason:
                break
            sent += piece
            self._emit({"type": "response.output_text.delta", **ids, "delta": piece})
            await asyncio.sleep(0)
        self._output_text_tokens += text_tokens(sent)
        self._emit({"type": "response.output_text.done", **ids, "text": sent})
        self._emit({"type": "response.content_part.done", **ids, "part": {"type": "text", "text": sent}})
        item["content"] = [{"type": "output_text", "text": sent}]
        self._finish_item(item, output_index, self._item_status())

    # ---- audio ------------------------------------------------------------------------------------------------
    async def _audio_message(self, text: str) -> None:
        item, output_index, ids = self._start_message({"type": "audio", "transcript": ""})
        # The audio part exists once announced: a WebSocket client may truncate it while it is still generated
        # (the Agents SDK's interrupt sends response.cancel and conversation.item.truncate back to back).
        item["content"] = [{"type": "output_audio", "transcript": ""}]
        words = _TimedWords(text)
        generated = await self._speak(text, item["id"], ids, words)
        transcript = "".join(words.given)
        if not self.run.cancel_reason:
            for word in words.rest():
                transcript += word
                self._emit({"type": "response.output_audio_transcript.delta", **ids, "delta": word})
        played_ms = generated * 1000 // SAMPLE_RATE
        self._output_audio_tokens += audio_tokens(played_ms, OUTPUT_AUDIO_TOKENS_PER_S)
        self._output_text_tokens += text_tokens(transcript)
        self._emit({"type": "response.output_audio.done", **ids})
        self._emit({"type": "response.output_audio_transcript.done", **ids, "transcript": transcript})
        self._emit({"type": "response.content_part.done", **ids, "part": {"type": "audio", "transcript": transcript}})
        item["content"] = [{"type": "output_audio", "transcript": transcript}]
        self._finish_item(item, output_index, self._item_status())

    async def _speak(self, text: str, item_id: str, ids: dict[str, Any], words: _TimedWords) -> int:
        """Generate the reply's audio, a sentence at a time (the first is heard while the rest is synthesized),
        with its transcript deltas as their words begin; until done or cancelled. Returns the samples generated."""
        # A custom voice is spoken in the synthesizer's default voice (voice_style knows no ids).
        pieces = SpeechPieces(self.host.deps.synthesizer, text, self.run.voice_name, self.run.speed)
        chunk = CHUNK_MS * SAMPLE_RATE // 1000
        position = 0
        player = self.host.player
        pace = _GenerationClock(self.host.timing)
        first = True
        try:
            while not self.run.cancel_reason:
                speech = await pieces.next()
                if first:
                    self.host.audio_output_began(self.run, item_id, speech or Speech(np.zeros(0, np.int16)))
                    first = False
                elif speech is not None:
                    self.host.audio_output_continued(item_id, speech)
                if speech is None:
                    break
                words.add_starts(speech.word_starts_ms)
                taken = 0
                while taken < speech.samples.size and not self.run.cancel_reason:
                    if not await pace.ready_for_more(position * 1000 // SAMPLE_RATE, player):
                        continue
                    samples = speech.samples[taken : taken + chunk]
                    taken += samples.size
                    position += samples.size
                    if player is not None:
                        player.enqueue(samples)
                    else:
                        wire = g711.encode(samples, str(self.run.output_format.get("type", "audio/pcm")))
                        delta = base64.b64encode(wire).decode()
                        self._emit({"type": "response.output_audio.delta", **ids, "delta": delta})
                    for word in words.due(position * 1000 // SAMPLE_RATE):
                        self._emit({"type": "response.output_audio_transcript.delta", **ids, "delta": word})
                    await asyncio.sleep(0)
        finally:
            pieces.close()
        return position


class _GenerationClock:
    """Holds generation back to its timing: ``speed`` times real time from the first chunk, or (paced) no more
    than ``PLAYBACK_LEAD_MS`` ahead of WebRTC playback."""

    def __init__(self, timing: GenerationTiming) -> None:
        self._timing = timing
        self._started: float | None = None

    async def ready_for_more(self, generated_ms: int, player: AudioPlayer | None) -> bool:
        """Waits until the next chunk may be generated; ``False`` asks the caller to check again (and to see
        whether the response was cancelled meanwhile)."""
        loop = asyncio.get_running_loop()
        if self._timing.paced_to_playback and player is not None:
            if player.queued_ms >= PLAYBACK_LEAD_MS:
                await asyncio.sleep(0.02)
                return False
            return True
        if self._started is None:
            self._started = loop.time()
        # Measured from the start, so the sleeps' own overshoot does not add up over a long reply.
        due = self._started + generated_ms / 1000 / self._timing.speed
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        return True


def word_pieces(text: str) -> list[str]:
    """``text`` cut before each space, so the pieces join back to it exactly."""
    pieces: list[str] = []
    start = 0
    for index in range(1, len(text)):
        if text[index] == " ":
            pieces.append(text[start:index])
            start = index
    if text:
        pieces.append(text[start:])
    return pieces


class _TimedWords:
    """A reply's transcript pieces (joining back to its text) and when each word starts in the audio, learnt a
    piece of speech at a time: ``due`` gives the pieces whose word has started by then, in order."""

    def __init__(self, text: str) -> None:
        self._pieces = word_pieces(text)
        self._starts: list[int] = []
        self._next = 0

    @property
    def given(self) -> list[str]:
        """The pieces given so far, in order."""
        return self._pieces[: self._next]

    def add_starts(self, word_starts_ms: list[tuple[str, int]]) -> None:
        """The starts (ms from the reply's first sample) of the next words synthesized, one per text piece."""
        self._starts += [start for _, start in word_starts_ms]

    def due(self, generated_ms: int) -> list[str]:
        """The pieces not yet given whose words start within the first ``generated_ms`` of audio."""
        known = min(len(self._pieces), len(self._starts))
        first = self._next
        while self._next < known and self._starts[self._next] <= generated_ms:
            self._next += 1
        return self._pieces[first : self._next]

    def rest(self) -> list[str]:
        """Every piece not yet given (the audio has all been generated; words without a timing come last)."""
        first, self._next = self._next, len(self._pieces)
        return self._pieces[first:]
