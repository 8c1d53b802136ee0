"""The transport-agnostic session engine: client events in, server events out, for one Realtime session.

A transport (WebRTC data channel, WebSocket) hands the engine client events as text and input audio as PCM16
24 kHz; the engine answers through ``send`` with server events as JSON text. Nothing here knows about sockets.
Turn-taking (``turns.TurnTaker``) and the output buffer (``playback.Playback``) are objects of their own; the
engine routes each client event through an explicit table of handlers and runs responses.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

from realtime_widget.background import BackgroundTasks
from realtime_widget.images import decode_data_url, describe
from realtime_widget.protocol import Rejection, parse_client_event
from realtime_widget.server.pcm import Pcm16
from realtime_widget.server.session import codecs
from realtime_widget.server.session.config import SessionConfigError
from realtime_widget.server.session.conversation import Conversation, ItemNotFoundError, complete_item
from realtime_widget.server.session.ids import new_id
from realtime_widget.server.session.input_buffer import MAX_BUFFER_MS
from realtime_widget.server.session.playback import AudioPlayer, Playback
from realtime_widget.server.session.responses import GenerationTiming, ResponseProducer, ResponseRun, word_pieces
from realtime_widget.server.session.server_events import EventChecker, error_event
from realtime_widget.server.session.state import SessionState
from realtime_widget.server.session.turns import TurnTaker
from realtime_widget.server.session.usage import INPUT_AUDIO_TOKENS_PER_S, audio_tokens, text_tokens
from realtime_widget.server.voice.interfaces import (
    AwaitableRecognitionStream,
    RecognitionStream,
    RecognizerShare,
    Reply,
    ResponseContext,
    SharedRecognizer,
    Speech,
    SpeechRecognizer,
)
from realtime_widget.server.voice.loader import fallback_voice_model
from realtime_widget.server.voice.model import VoiceModel

log = logging.getLogger(__name__)

TransportKind = Literal["webrtc", "websocket"]
Handler = Callable[[dict[str, Any], str | None], Awaitable[None]]

#: ``input_audio_buffer.append`` may carry at most 15 MiB of base64 audio.
MAX_APPEND_BYTES = 15 * 1024 * 1024
#: A commit needs at least this much audio.
MIN_COMMIT_MS = 100
DEFAULT_MAX_SESSION_S = 60 * 60


def _message_text(item: dict[str, Any]) -> str:
    texts = []
    for part in item.get("content") or []:
        text = part.get("text") if part.get("text") is not None else part.get("transcript")
        if isinstance(text, str):
            texts.append(text)
    return " ".join(texts)


def _images_of(item: dict[str, Any]) -> list[str]:
    """What each ``input_image`` part of a message is (an http URL the local model cannot fetch: "an image")."""
    found = []
    for part in item.get("content") or []:
        if part.get("type") == "input_image":
            data = decode_data_url(str(part.get("image_url") or ""))
            found.append(describe(data) if data else "an image")
    return found


class SessionEngine:
    """One Realtime session. Construct, call ``open()`` when the event path is up, then ``receive()`` each
    client event and ``feed_audio()`` each chunk of input audio; ``close()`` ends it.

    ``player`` is the WebRTC outgoing audio (``None`` over WebSocket, where audio goes out as events).
    Replies come from ``deps.script`` (this ``call_id``'s queue, then the shared one), then ``deps.responder``.
    ``on_expired`` is called when the session reaches ``max_session_s``. ``timing`` says how fast replies are
    generated (faster than real time by default, as the API does).
    """

    def __init__(
        self,
        session: dict[str, Any],
        send: Callable[[str], None],
        *,
        transport: TransportKind,
        checker: EventChecker | None = None,
        deps: VoiceModel | None = None,
        player: AudioPlayer | None = None,
        call_id: str | None = None,
        max_session_s: float = DEFAULT_MAX_SESSION_S,
        on_expired: Callable[[], None] | None = None,
        timing: GenerationTiming | None = None,
    ) -> None:
        self.state = SessionState(session)
        self.timing = timing or GenerationTiming()
        self.transport: TransportKind = transport
        self.deps = deps or fallback_voice_model()
        self.conversation = Conversation()
        self.call_id = call_id
        self._responder = self.deps.responder_for(call_id)
        self._send = send
        #: Extra receivers of every server event (a sideband WebSocket on a WebRTC call).
        self.listeners: list[Callable[[str], None]] = []
        self._checker = checker or EventChecker()
        self._max_session_s = max_session_s
        self._on_expired = on_expired
        self.playback = Playback(self.conversation, self.emit, player)
        # This session's own queue for recognition when the model shares one worker between sessions.
        shared = self.deps.recognizer
        self._recognition_share: RecognizerShare | None = (
            shared.share() if isinstance(shared, SharedRecognizer) else None
        )
        self.recognizer: SpeechRecognizer = self._recognition_share or shared
        self.turns = TurnTaker(
            vad_factory=self.deps.vad_factory,
            recognizer=self.recognizer,
            emit=self.emit,
            commit=self._commit,
            interrupt=self._interrupt,
            busy=lambda: self.active is not None or self.playback.playing_response is not None,
        )
        self.turns.configure(self.state.turn_detection)
        self.active: ResponseRun | None = None
        self._out_of_band: set[ResponseRun] = set()
        self._pending_outputs: list[dict[str, Any]] = []
        # Committed user audio still being recognized: a response waits for these (see _run_response).
        self._hearing: set[asyncio.Task[None]] = set()
        self._responses = 0
        self._tasks = BackgroundTasks(f"session engine of {call_id or 'a call'}", log)
        self._expiry: asyncio.Future[None] | None = None
        #: The session's age on the server's clock, which tests may run ahead (``advance_clock``).
        self._opened_at: float | None = None
        self._clock_ahead_s = 0.0
        self._buffer_full_reported = False
        self.closed = False
        # Every client event the API defines, and the method that answers it.
        self._handlers: dict[str, Handler] = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._on_input_audio_buffer_append,
            "input_audio_buffer.commit": self._on_input_audio_buffer_commit,
            "input_audio_buffer.clear": self._on_input_audio_buffer_clear,
            "output_audio_buffer.clear": self._on_output_audio_buffer_clear,
            "conversation.item.create": self._on_conversation_item_create,
            "conversation.item.delete": self._on_conversation_item_delete,
            "conversation.item.retrieve": self._on_conversation_item_retrieve,
            "conversation.item.truncate": self._on_conversation_item_truncate,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
        }

    @property
    def session(self) -> dict[str, Any]:
        """The GA session object, as ``session.created``/``session.updated`` send it."""
        return self.state.value

    @property
    def player(self) -> AudioPlayer | None:
        return self.playback.player

    @player.setter
    def player(self, player: AudioPlayer | None) -> None:
        self.playback.player = player

    @property
    def handled_event_types(self) -> frozenset[str]:
        """The client event types this engine answers."""
        return frozenset(self._handlers)

    # ---- outgoing -------------------------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> dict[str, Any]:
        """Stamp, check and send one server event (as JSON text); returns it as sent."""
        stamped = self._checker.stamp(event)
        if not self.closed:
            # Serialised now: the engine keeps mutating items and responses after it reports them.
            text = json.dumps(stamped)
            self._send(text)
            for listener in list(self.listeners):
                listener(text)
        return stamped

    def emit_error(
        self, message: str, *, code: str | None, param: str | None = None, event_id: str | None = None
    ) -> None:
        self.emit(error_event(message, code=code, param=param, event_id=event_id))

    # ---- lifecycle ------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Announce the session (``session.created``), as the API does first on every connection."""
        self.emit({"type": "session.created", "session": self.session})
        self._opened_at = time.monotonic()
        self._expiry = asyncio.ensure_future(self._expire_later())

    def advance_clock(self, seconds: float) -> None:
        """Run this session's clock ``seconds`` ahead (a test control): a session that has now lasted its maximum
        duration ends at once, as it would have after that much real time."""
        self._clock_ahead_s += seconds
        if self._expiry is None or self._expiry.done() or self.closed:
            return
        self._expiry.cancel()
        self._expiry = asyncio.ensure_future(self._expire_later())

    async def _expire_later(self) -> None:
        assert self._opened_at is not None
        age = time.monotonic() - self._opened_at + self._clock_ahead_s
        await asyncio.sleep(max(0.0, self._max_session_s - age))
        # The API's words and code for this limit, as clients have logged them (its docs give none; e.g. the
        # pollen-robotics/reachy_mini_conversation_app#134 report, and protocol-facts.md §6 for the 60 minutes).
        minutes = self._max_session_s / 60
        self.emit_error(f"Your session hit the maximum duration of {minutes:g} minutes.", code="session_expired")
        if self._on_expired is not None:
            self._on_expired()

    async def close(self) -> None:
        """Stop every response and background task; nothing is sent afterwards."""
        self.closed = True
        self.turns.cancel_recognition()
        if self._recognition_share is not None:
            self._recognition_share.close()
        if self._expiry is not None:
            self._expiry.cancel()
        await self._tasks.cancel_all()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return self._tasks.spawn(coro)

    async def idle(self) -> None:
        """Wait until no response or turn processing is under way (for tests and benchmarks)."""
        await self._tasks.drain()

    # ---- incoming events ------------------------------------------------------------------------------------
    async def receive(self, raw: str | bytes) -> None:
        """Handle one client event given as JSON text. Bad input is answered with an ``error`` event."""
        checked = parse_client_event(raw)
        if isinstance(checked, Rejection):
            self.emit_error(checked.message, code=checked.code, param=checked.param, event_id=checked.event_id)
            return
        await self._handlers[checked["type"]](checked, checked.get("event_id"))

    # ---- session --------------------------------------------------------------------------------------------
    async def _on_session_update(self, data: dict[str, Any], event_id: str | None) -> None:
        update = data["session"]
        try:
            new_voice = ((update.get("audio") or {}).get("output") or {}).get("voice")
            # SessionUpdateEvent's docstring: any field may change "except for voice and model. voice can be updated
            # only if there have been no other audio outputs yet".
            new_model = update.get("model")
            if new_model is not None and new_model != self.state.model:
                raise SessionConfigError(
                    "Cannot change the model of a session; start a new session with the other model.",
                    "session.model",
                )
            if new_voice is not None and new_voice != self.state.voice and self.playback.audio_output_done:
                raise SessionConfigError(
                    "Cannot update a conversation's voice if assistant audio is present.",
                    "session.audio.output.voice",
                    "cannot_update_voice",
                )
            self.state.apply(update)
        except SessionConfigError as exc:
            self.emit_error(exc.message, code=exc.code, param=exc.param, event_id=event_id)
            return
        self.turns.configure(self.state.turn_detection)
        self.emit({"type": "session.updated", "session": self.session})

    # ---- input audio ----------------------------------------------------------------------------------------
    def feed_audio(self, samples: Pcm16) -> None:
        """Input audio from the transport's track (mono PCM16 24 kHz): buffered and run through the VAD. Audio
        that does not fit in the input buffer is dropped, with one error per time it fills up."""
        if self.closed or self.turns.feed(samples):
            self._buffer_full_reported = False
        elif not self._buffer_full_reported:
            self._buffer_full_reported = True
            self._emit_buffer_full(None)

    def _emit_buffer_full(self, event_id: str | None) -> None:
        # The API documents no limit on the buffer (only 15 MiB per append), so neither the words nor the code are
        # the API's; they follow the form of its other input_audio_buffer errors.
        self.emit_error(
            f"Error appending to the input audio buffer: buffer full. It holds at most {MAX_BUFFER_MS // 60_000} "
            "minutes of audio; commit or clear it before appending more.",
            code="input_audio_buffer_full",
            event_id=event_id,
        )

    def _commit(self, audio: Pcm16, item_id: str, *, respond: bool, stream: RecognitionStream | None) -> None:
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        previous = self.conversation.insert(item)
        self.playback.note_input_audio(item_id, audio)
        self.emit({"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item_id})
        self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": item})
        self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item})
        hearing = self._spawn(self._after_commit(item, audio, respond, stream))
        self._hearing.add(hearing)
        hearing.add_done_callback(self._hearing.discard)

    async def _after_commit(
        self, item: dict[str, Any], audio: Pcm16, respond: bool, stream: RecognitionStream | None = None
    ) -> None:
        transcribing = self.state.transcribes_input
        try:
            # Awaited, not waited for in a thread, where the recognizer allows: many long turns must not use up the
            # thread pool every session needs.
            if stream is None and self._recognition_share is not None:
                transcript = await asyncio.wrap_future(self._recognition_share.transcribe_future(audio))
            elif isinstance(stream, AwaitableRecognitionStream):
                transcript = await asyncio.wrap_future(stream.finish_future())
            elif stream is not None:
                transcript = await asyncio.to_thread(stream.finish)
            else:
                transcript = await asyncio.to_thread(self.recognizer.transcribe, audio) if audio.size else ""
        except Exception as exc:
            # The turn still counts (the API answers audio it could not transcribe); only the transcript is lost.
            log.exception("transcribing %s failed", item["id"])
            if transcribing:
                error = {"type": "server_error", "code": "transcription_failed", "message": str(exc), "param": None}
                self.emit(
                    {
                        "type": "conversation.item.input_audio_transcription.failed",
                        "item_id": item["id"],
                        "content_index": 0,
                        "error": error,
                    }
                )
            transcribing = False
            transcript = ""
        item["content"][0]["transcript"] = transcript
        if transcribing:
            self._emit_transcription(item["id"], transcript, audio)
        if respond and self.active is None and not self.closed:
            self.start_response({})

    def _emit_transcription(self, item_id: str, transcript: str, audio: Pcm16) -> None:
        # A word per delta, as streaming transcription models send them; the deltas join to the transcript.
        ids = {"item_id": item_id, "content_index": 0}
        for piece in word_pieces(transcript):
            self.emit({"type": "conversation.item.input_audio_transcription.delta", **ids, "delta": piece})
        self.emit(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                **ids,
                "transcript": transcript,
                "usage": {"type": "duration", "seconds": round(audio.size / 24_000, 3)},
            }
        )

    async def _on_input_audio_buffer_append(self, data: dict[str, Any], event_id: str | None) -> None:
        encoded = data["audio"]
        if len(encoded) > MAX_APPEND_BYTES:
            self.emit_error(
                f"Audio content of {len(encoded)} bytes exceeds the maximum of {MAX_APPEND_BYTES} bytes.",
                code="audio_too_large",
                param="audio",
                event_id=event_id,
            )
            return
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            self.emit_error(
                "Invalid 'audio'. Expected base64-encoded audio.",
                code="invalid_value",
                param="audio",
                event_id=event_id,
            )
            return
        if not self.turns.feed(codecs.decode(raw, self.state.input_format_type)):
            self._emit_buffer_full(event_id)

    async def _on_input_audio_buffer_commit(self, data: dict[str, Any], event_id: str | None) -> None:
        buffered_ms = self.turns.buffer.duration_ms
        if buffered_ms < MIN_COMMIT_MS:
            self.emit_error(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but "
                f"buffer only has {buffered_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=event_id,
            )
            return
        self.turns.commit_all()

    async def _on_input_audio_buffer_clear(self, data: dict[str, Any], event_id: str | None) -> None:
        self.turns.clear()
        self.emit({"type": "input_audio_buffer.cleared"})

    # ---- output audio (WebRTC) ------------------------------------------------------------------------------
    def audio_output_began(self, run: ResponseRun, item_id: str, speech: Speech) -> None:
        """Called by a response as its audio starts: locks the voice, remembers timings for truncation."""
        self.playback.began(run.id, item_id, speech)

    def audio_output_continued(self, item_id: str, speech: Speech) -> None:
        """Called by a response as each later piece of its audio is synthesized."""
        self.playback.continued(item_id, speech)

    def playback_started(self) -> None:
        """The WebRTC track began sending response audio."""
        self.playback.track_started()

    def playback_drained(self) -> None:
        """The WebRTC track ran out of queued audio; if the response is finished, playback has stopped."""
        if self.playback.track_drained(self.active.id if self.active is not None else None):
            self.turns.mark_idle()

    def _interrupt(self) -> None:
        self.playback.clear(truncate=True)
        if self.active is not None:
            self.active.cancel("turn_detected")

    async def _on_output_audio_buffer_clear(self, data: dict[str, Any], event_id: str | None) -> None:
        if self.player is None:
            self.emit_error(
                "output_audio_buffer.clear is only supported for WebRTC and SIP sessions.",
                code="invalid_event",
                event_id=event_id,
            )
            return
        if self.playback.playing_response is None:
            if self.active is not None:
                self.emit({"type": "output_audio_buffer.cleared", "response_id": self.active.id})
            return
        self.playback.clear(truncate=False)

    # ---- conversation items ---------------------------------------------------------------------------------
    async def _on_conversation_item_create(self, data: dict[str, Any], event_id: str | None) -> None:
        item = complete_item(data["item"])
        if item["id"] in self.conversation:
            self.emit_error(
                f"Item with id '{item['id']}' already exists.",
                code="item_id_already_exists",
                param="item.id",
                event_id=event_id,
            )
            return
        previous_item_id = data.get("previous_item_id")
        try:
            previous = self.conversation.insert(item, previous_item_id)
        except ItemNotFoundError:
            self.emit_error(
                f"Previous item with id '{previous_item_id}' not found.",
                code="item_not_found",
                param="previous_item_id",
                event_id=event_id,
            )
            return
        if item["type"] == "function_call_output":
            self._pending_outputs.append(item)
        audio = self._take_item_audio(item)
        self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": item})
        self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item})
        if audio is not None:
            self._spawn(self._after_commit(item, audio, respond=False))

    def _take_item_audio(self, item: dict[str, Any]) -> Pcm16 | None:
        """Decode (and drop, so it is not echoed back in every event) the audio of a user ``input_audio`` part
        that came without a transcript; the engine then transcribes it like a committed turn."""
        content = item.get("content") or []
        if item.get("role") != "user" or not content or content[0].get("type") != "input_audio":
            return None
        encoded = content[0].pop("audio", None)
        if not isinstance(encoded, str) or content[0].get("transcript"):
            return None
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None
        audio = codecs.decode(raw, self.state.input_format_type)
        self.playback.note_input_audio(item["id"], audio)
        return audio

    def _find(
        self, item_id: str, operation: Literal["delete", "retrieve", "truncate"], event_id: str | None
    ) -> dict[str, Any] | None:
        try:
            return self.conversation.get(item_id)
        except ItemNotFoundError:
            gerund = {"delete": "deleting", "retrieve": "retrieving", "truncate": "truncating"}[operation]
            self.emit_error(
                f"Error {gerund} item: the item with id '{item_id}' does not exist.",
                code=f"item_{operation}_invalid_item_id",
                param="item_id",
                event_id=event_id,
            )
            return None

    async def _on_conversation_item_delete(self, data: dict[str, Any], event_id: str | None) -> None:
        item_id = data["item_id"]
        if self._find(item_id, "delete", event_id) is None:
            return
        self.conversation.delete(item_id)
        self.emit({"type": "conversation.item.deleted", "item_id": item_id})

    async def _on_conversation_item_retrieve(self, data: dict[str, Any], event_id: str | None) -> None:
        item = self._find(data["item_id"], "retrieve", event_id)
        if item is not None:
            self.emit({"type": "conversation.item.retrieved", "item": item})

    async def _on_conversation_item_truncate(self, data: dict[str, Any], event_id: str | None) -> None:
        item_id, content_index, audio_end_ms = data["item_id"], data["content_index"], data["audio_end_ms"]
        item = self._find(item_id, "truncate", event_id)
        if item is None:
            return
        content = item.get("content") or []
        if (
            item.get("role") != "assistant"
            or not 0 <= content_index < len(content)
            or (content[content_index].get("type") != "output_audio")
        ):
            self.emit_error(
                "Only assistant messages with audio content can be truncated.",
                code="invalid_value",
                param="content_index",
                event_id=event_id,
            )
            return
        duration = self.playback.audio_ms(item_id) or 0
        if audio_end_ms > duration:
            self.emit_error(
                f"Audio content of {duration}ms is already shorter than {audio_end_ms}ms.",
                code="invalid_value",
                param="audio_end_ms",
                event_id=event_id,
            )
            return
        self.playback.truncate(item_id, audio_end_ms)
        self.emit(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": content_index,
                "audio_end_ms": audio_end_ms,
            }
        )

    # ---- responses ------------------------------------------------------------------------------------------
    async def _on_response_create(self, data: dict[str, Any], event_id: str | None) -> None:
        params = data.get("response") or {}
        if params.get("conversation", "auto") != "none" and self.active is not None:
            self.emit_error(
                f"Conversation already has an active response in progress: {self.active.id}. Wait until the "
                "response is finished before creating a new one.",
                code="conversation_already_has_active_response",
                event_id=event_id,
            )
            return
        try:
            self.start_response(params)
        except ItemNotFoundError as exc:
            self.emit_error(
                f"Input item with id '{exc.args[0]}' not found.",
                code="item_not_found",
                param="response.input",
                event_id=event_id,
            )

    async def _on_response_cancel(self, data: dict[str, Any], event_id: str | None) -> None:
        response_id = data.get("response_id")
        runs = [self.active] if self.active else []
        runs += list(self._out_of_band)
        targets = [r for r in runs if r is not None and (response_id is None or r.id == response_id)]
        if not targets:
            self.emit_error(
                "Cancellation failed: no active response found.", code="response_cancel_not_active", event_id=event_id
            )
            return
        targets[0].cancel("client_cancelled")

    def start_response(self, params: dict[str, Any], reply: Reply | None = None) -> ResponseRun:
        """Start a response with ``response.create`` parameters; ``reply`` fixes what is said (``say``)."""
        output_override = (params.get("audio") or {}).get("output") or {}
        run = ResponseRun(
            id=new_id("resp"),
            in_conversation=params.get("conversation", "auto") != "none",
            modalities=list(params.get("output_modalities") or self.state.output_modalities),
            voice=output_override.get("voice") or self.state.voice,
            speed=self.state.speed,
            output_format=output_override.get("format") or self.state.output_format,
            max_output_tokens=params.get("max_output_tokens", self.state.max_output_tokens),
            metadata=params.get("metadata"),
            conversation_id=self.conversation.id,
        )
        context_items = self._context_items(params)
        if run.in_conversation:
            self.active = run
        else:
            self._out_of_band.add(run)
        self.turns.mark_busy()
        run.task = self._spawn(self._run_response(run, params, context_items, reply))
        return run

    def _context_items(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        given = params.get("input")
        if given is None:
            return list(self.conversation.items)
        items = []
        for entry in given:
            if entry.get("type") == "item_reference":
                items.append(self.conversation.get(entry["id"]))
            else:
                items.append(complete_item(entry))
        return items

    def _next_reply(self, params: dict[str, Any], context_items: list[dict[str, Any]]) -> Reply:
        user_items = [i for i in context_items if i.get("type") == "message" and i.get("role") == "user"]
        user_texts = [_message_text(i) for i in user_items]
        pending = [i for i in context_items if i.get("type") == "function_call_output" and i in self._pending_outputs]
        context = ResponseContext(
            instructions=params.get("instructions") or self.state.instructions,
            tools=list(params["tools"]) if params.get("tools") is not None else self.state.tools,
            tool_choice=params.get("tool_choice") or self.state.tool_choice,
            conversation=context_items,
            last_user_text=user_texts[-1] if user_texts else None,
            pending_function_outputs=pending,
            is_first_response=self._responses == 0,
            images=_images_of(user_items[-1]) if user_items else [],
        )
        return self._responder.respond(context)

    def _input_tokens(self, context_items: list[dict[str, Any]], instructions: str) -> tuple[int, int]:
        text = text_tokens(instructions)
        audio = 0
        for item in context_items:
            if item.get("type") == "message":
                text += text_tokens(_message_text(item))
                heard_ms = self.playback.audio_ms(item["id"]) if item.get("role") == "user" else None
                if heard_ms is not None:
                    audio += audio_tokens(heard_ms, INPUT_AUDIO_TOKENS_PER_S)
            else:
                text += text_tokens(json.dumps(item.get("arguments") or item.get("output") or ""))
        return text, audio

    async def _run_response(
        self, run: ResponseRun, params: dict[str, Any], context_items: list[dict[str, Any]], reply: Reply | None
    ) -> None:
        try:
            self.emit({"type": "response.created", "response": run.response_object("in_progress")})
            self.emit(
                {
                    "type": "rate_limits.updated",
                    "rate_limits": [
                        {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
                        {"name": "tokens", "limit": 400000, "remaining": 395000, "reset_seconds": 0.75},
                    ],
                }
            )
            if reply is None and self._hearing:
                # The real model hears the committed audio itself; the local one answers from its transcript, so
                # a response asked for right after a manual commit (push-to-talk) waits until the audio is heard.
                await asyncio.wait(set(self._hearing))
            chosen = reply or self._next_reply(params, context_items)
            self._responses += 1
            if run.in_conversation:
                self._pending_outputs.clear()
            run.input_tokens = self._input_tokens(context_items, params.get("instructions") or self.state.instructions)
            await ResponseProducer(self, run, chosen).produce()
        except Exception as exc:
            # A voice-model failure fails this response, as a server error does on the API; the session goes on.
            log.exception("response %s failed", run.id)
            details = {"type": "failed", "error": {"type": "server_error", "code": None, "message": str(exc)}}
            self.emit({"type": "response.done", "response": run.response_object("failed", None, details)})
        else:
            self.playback.reapply_truncations(run.output)
        finally:
            if self.active is run:
                self.active = None
            self._out_of_band.discard(run)
            if self.playback.finished_generating(run.id):
                self.turns.mark_idle()

    # ---- control (scripted mode) ----------------------------------------------------------------------------
    def say(self, text: str) -> ResponseRun:
        """Speak ``text`` now as an unprompted response. Raises ``RuntimeError`` while a response is active."""
        if self.active is not None:
            raise RuntimeError(f"a response is in progress ({self.active.id})")
        return self.start_response({}, Reply(text=text))
