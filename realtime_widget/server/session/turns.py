"""Turn-taking: input audio into the buffer, server VAD over it, user turns recognised while spoken, and the idle
timeout. The engine decides what a committed turn becomes (an item, a transcript, a response)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from realtime_widget.server.pcm import Pcm16
from realtime_widget.server.session.ids import new_id
from realtime_widget.server.session.input_buffer import InputAudioBuffer
from realtime_widget.server.session.state import TurnDetection
from realtime_widget.server.voice.interfaces import (
    RecognitionStream,
    SpeechRecognizer,
    StreamingSpeechRecognizer,
    VadFactory,
    VoiceActivityDetector,
)

log = logging.getLogger(__name__)

#: With server VAD on and no speech, older buffered audio can no longer become part of a turn.
VAD_HISTORY_MS = 2000


class CommitTurn(Protocol):
    """Makes a committed turn's audio a user item; ``respond`` says whether a response follows by itself."""

    def __call__(self, audio: Pcm16, item_id: str, *, respond: bool, stream: RecognitionStream | None) -> None: ...


class TurnTaker:
    """The input side of one session.

    ``emit`` sends a server event; ``commit`` turns a finished turn into an item; ``interrupt`` stops the
    assistant when the user starts speaking (if the turn detection says so); ``busy`` tells whether a response is
    being generated or heard (the idle timeout waits while it is).
    """

    def __init__(
        self,
        *,
        vad_factory: VadFactory,
        recognizer: SpeechRecognizer,
        emit: Callable[[dict[str, Any]], object],
        commit: CommitTurn,
        interrupt: Callable[[], None],
        busy: Callable[[], bool],
    ) -> None:
        self.buffer = InputAudioBuffer()
        self._vad_factory = vad_factory
        self._recognizer = recognizer
        self._emit = emit
        self._commit = commit
        self._interrupt = interrupt
        self._busy = busy
        self._detection: TurnDetection | None = None
        self._vad: VoiceActivityDetector | None = None
        self._vad_offset_ms = 0
        self._turn_item_id: str | None = None
        self._turn_start_ms = 0
        self._stream: RecognitionStream | None = None  # recognising the turn in progress
        self._idle_since_ms: int | None = 0

    # ---- configuration --------------------------------------------------------------------------------------
    def configure(self, detection: TurnDetection | None) -> None:
        """Follow the session's turn detection (a new detector only when it changed)."""
        if detection == self._detection:
            return
        self._detection = detection
        if detection is None:
            self._vad = None
            return
        self._vad = self._vad_factory(
            threshold=detection.threshold,
            prefix_padding_ms=detection.prefix_padding_ms,
            silence_duration_ms=detection.silence_duration_ms,
        )
        # A new detector counts from zero; its times are shifted onto the session's input clock.
        self._vad_offset_ms = self.buffer.clock_ms

    # ---- input audio ----------------------------------------------------------------------------------------
    def feed(self, samples: Pcm16) -> bool:
        """Input audio (mono PCM16 24 kHz): buffered, recognised if a turn is under way, and run through the VAD.
        ``False`` (and nothing done) when the buffer is full (``input_buffer.MAX_BUFFER_MS``) until a commit or clear.
        """
        if not self.buffer.has_room_for(samples):
            return False
        self.buffer.write(samples)
        if self._stream is not None:
            self._feed_stream(samples)
        if self._vad is None:
            return True
        for vad_event in self._vad.feed(samples):
            if vad_event.kind == "speech_started":
                self._speech_started(vad_event.audio_ms + self._vad_offset_ms)
            else:
                self._speech_stopped(vad_event.audio_ms + self._vad_offset_ms)
        if self._turn_item_id is None:
            self.buffer.keep_last(VAD_HISTORY_MS)
            self._check_idle()
        return True

    def commit_all(self) -> None:
        """``input_audio_buffer.commit``: everything buffered becomes a turn. A manual commit never starts a
        response by itself, whatever the turn detection."""
        item_id = self._turn_item_id or new_id("item")
        self._turn_item_id = None
        self._reset_vad()
        self._commit(self.buffer.take_all(), item_id, respond=False, stream=self._take_stream())

    def clear(self) -> None:
        """``input_audio_buffer.clear``: drop what is buffered and any turn in progress."""
        self.buffer.clear()
        self._turn_item_id = None
        self.cancel_recognition()
        self._reset_vad()

    def mark_idle(self) -> None:
        """The assistant finished (generated and heard): the idle timeout counts from now."""
        self._idle_since_ms = self.buffer.clock_ms

    def mark_busy(self) -> None:
        """A response started: no idle timeout until it is over."""
        self._idle_since_ms = None

    def cancel_recognition(self) -> None:
        stream = self._take_stream()
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.cancel()

    # ---- turns ----------------------------------------------------------------------------------------------
    def _speech_started(self, audio_ms: int) -> None:
        self._turn_item_id = new_id("item")
        self._turn_start_ms = audio_ms
        self._start_stream(audio_ms)
        self._idle_since_ms = None
        self._emit(
            {"type": "input_audio_buffer.speech_started", "audio_start_ms": audio_ms, "item_id": self._turn_item_id}
        )
        if self._detection is not None and self._detection.interrupt_response:
            self._interrupt()

    def _speech_stopped(self, audio_ms: int) -> None:
        item_id = self._turn_item_id or new_id("item")
        self._turn_item_id = None
        self._emit({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": audio_ms, "item_id": item_id})
        audio = self.buffer.take_until(self._turn_start_ms, audio_ms)
        respond = self._detection is None or self._detection.create_response
        self._reset_vad()
        self._commit(audio, item_id, respond=respond, stream=self._take_stream())

    def _check_idle(self) -> None:
        timeout = self._detection.idle_timeout_ms if self._detection is not None else None
        if not timeout or self._idle_since_ms is None or self._busy():
            return
        now_ms = self.buffer.clock_ms
        if now_ms - self._idle_since_ms < timeout:
            return
        item_id = new_id("item")
        self._emit(
            {
                "type": "input_audio_buffer.timeout_triggered",
                "audio_start_ms": self._idle_since_ms,
                "audio_end_ms": now_ms,
                "item_id": item_id,
            }
        )
        self._idle_since_ms = None
        respond = self._detection is not None and self._detection.create_response
        self._reset_vad()
        self._commit(self.buffer.take_all(), item_id, respond=respond, stream=None)

    def _reset_vad(self) -> None:
        if self._vad is not None:
            self._vad.reset()

    # ---- recognition while the user speaks ------------------------------------------------------------------
    def _start_stream(self, audio_ms: int) -> None:
        # Recognising while the user speaks leaves little to decode when the turn ends (lower turn latency).
        self.cancel_recognition()
        if isinstance(self._recognizer, StreamingSpeechRecognizer):
            try:
                self._stream = self._recognizer.start_stream()
            except Exception:
                log.exception("could not start a recognition stream; the turn is transcribed when committed")
                return
            self._feed_stream(self.buffer.peek_from(audio_ms))

    def _feed_stream(self, samples: Pcm16) -> None:
        assert self._stream is not None
        try:
            self._stream.feed(samples)
        except Exception:
            log.exception("recognition stream failed; the turn is transcribed when committed")
            self.cancel_recognition()

    def _take_stream(self) -> RecognitionStream | None:
        stream, self._stream = self._stream, None
        return stream
