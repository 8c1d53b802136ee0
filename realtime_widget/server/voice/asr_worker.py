"""Speech recognition in a child process, so decoding never stalls the server's event loop.

PocketSphinx holds Python's GIL while it decodes: in-process, recognising a two-second turn froze the server (its
WebRTC audio pacing, every other call) for up to half a second at a time. ``WorkerRecognizer`` keeps the same
API as ``PocketsphinxRecognizer`` but sends audio to ``python -m realtime_widget.server.voice.asr_worker`` over its
stdin and reads transcripts from its stdout. The child exits when its stdin closes, so it never outlives the
server.

Wire format, both directions: a 9-byte header ``<B I I`` (op or status, stream id, payload length) then the
payload. Requests: ``FEED`` (PCM16 24 kHz bytes; opens the stream on first use), ``FEED_ACK`` (the same, answered
with an empty ``TEXT`` once decoded, so a scheduler can hand out the worker's time in slices), ``FINISH``,
``CANCEL``, ``TRANSCRIBE`` (a whole turn). Replies: ``TEXT`` (UTF-8) or ``FAILED`` (a message) for FEED_ACK, FINISH
and TRANSCRIBE, and one ``READY`` (id 0) once the model has loaded.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import struct
import subprocess
import sys
import threading
import weakref
from concurrent.futures import Future
from typing import IO, Any

import numpy as np

from realtime_widget.server.pcm import Pcm16
from realtime_widget.server.voice.asr import (
    PocketsphinxRecognizer,
    PocketsphinxStream,
    RecognitionFailedError,
    RecognizerUnavailableError,
)

_HEADER = struct.Struct("<BII")
FEED, FINISH, CANCEL, TRANSCRIBE, FEED_ACK = 1, 2, 3, 4, 5
READY, TEXT, FAILED = 10, 11, 12
#: How long a caller waits for a transcript before giving up (the child may have hung or died).
REPLY_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 60.0


def _write(stream: IO[bytes], code: int, ident: int, payload: bytes) -> None:
    stream.write(_HEADER.pack(code, ident, len(payload)) + payload)
    stream.flush()


def _read(stream: IO[bytes]) -> tuple[int, int, bytes] | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    code, ident, size = _HEADER.unpack(header)
    payload = stream.read(size) if size else b""
    return (code, ident, payload) if len(payload) == size else None


# ---- child side --------------------------------------------------------------------------------------------------
def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """The child's loop: load the model, answer requests in order until ``source`` closes."""
    try:
        recognizer = PocketsphinxRecognizer()
    except RecognizerUnavailableError as exc:
        _write(sink, FAILED, 0, str(exc).encode())
        return
    _write(sink, READY, 0, b"")
    streams: dict[int, PocketsphinxStream] = {}
    while (message := _read(source)) is not None:
        op, ident, payload = message
        audio: Pcm16 = np.frombuffer(payload, dtype="<i2").astype(np.int16)
        try:
            if op in (FEED, FEED_ACK):
                streams.setdefault(ident, recognizer.start_stream()).feed(audio)
                if op == FEED_ACK:
                    _write(sink, TEXT, ident, b"")
            elif op == FINISH:
                stream = streams.pop(ident, None)
                _write(sink, TEXT, ident, (stream.finish() if stream else "").encode())
            elif op == CANCEL:
                cancelled = streams.pop(ident, None)
                if cancelled is not None:
                    cancelled.cancel()
            elif op == TRANSCRIBE:
                _write(sink, TEXT, ident, recognizer.transcribe(audio).encode())
        except Exception as exc:  # one bad turn must not end recognition for every call
            streams.pop(ident, None)
            if op in (FINISH, TRANSCRIBE, FEED_ACK):
                _write(sink, FAILED, ident, f"{type(exc).__name__}: {exc}".encode())


# ---- parent side -------------------------------------------------------------------------------------------------
class WorkerStream:
    """A ``RecognitionStream`` decoded in the worker: ``feed`` only queues audio, so it costs microseconds.
    A stream dropped without ``finish`` or ``cancel`` is cancelled when garbage-collected, so the worker does not
    keep its decoder."""

    def __init__(self, worker: WorkerRecognizer, ident: int) -> None:
        self._worker = worker
        self._ident = ident
        self._fed = False
        self._done = False
        self._abandon: weakref.finalize[[WorkerRecognizer, int], WorkerStream] | None = None  # armed on first feed

    def feed(self, samples: Pcm16) -> None:
        """Queue more of the turn (24 kHz PCM16) for decoding."""
        if not self._done and samples.size:
            if not self._fed:
                self._fed = True
                self._abandon = weakref.finalize(self, _cancel_quietly, self._worker, self._ident)
            self._worker.send(FEED, self._ident, samples.astype("<i2").tobytes())

    def finish(self) -> str:
        """Wait for the words heard ("" for silence); blocks until the worker has decoded everything fed."""
        if self._done:
            return ""
        self._done = True
        if self._abandon is not None:
            self._abandon.detach()
        return self._worker.request(FINISH, self._ident, b"") if self._fed else ""

    def cancel(self) -> None:
        """Drop the turn."""
        if not self._done and self._fed:
            self._worker.send(CANCEL, self._ident, b"")
        self._done = True
        if self._abandon is not None:
            self._abandon.detach()


def _cancel_quietly(worker: WorkerRecognizer, ident: int) -> None:
    with contextlib.suppress(RecognizerUnavailableError):
        worker.send(CANCEL, ident, b"")


class _Replies:
    """Futures waiting for the worker's replies, completed by the reader thread. Kept apart from
    ``WorkerRecognizer`` so the thread does not keep the recognizer alive (its finalizer ends the worker)."""

    def __init__(self) -> None:
        self.ready: Future[str] = Future()
        self._pending: dict[int, Future[str]] = {}
        self._lock = threading.Lock()

    def expect(self, ident: int) -> Future[str]:
        future: Future[str] = Future()
        with self._lock:
            self._pending[ident] = future
        return future

    def forget(self, ident: int) -> None:
        with self._lock:
            self._pending.pop(ident, None)

    def read_from(self, stdout: IO[bytes]) -> None:
        while (message := _read(stdout)) is not None:
            code, ident, payload = message
            with self._lock:
                target = self.ready if ident == 0 else self._pending.get(ident)
            if target is None or target.done():
                continue
            text = payload.decode("utf-8", errors="replace")
            if code in (READY, TEXT):
                target.set_result(text)
            else:
                target.set_exception(RecognitionFailedError(text) if ident else RecognizerUnavailableError(text))
        with self._lock:
            waiting: list[Future[Any]] = [self.ready, *self._pending.values()]
        for future in waiting:
            if not future.done():
                future.set_exception(RecognizerUnavailableError("the recognition worker has stopped"))


class _Outbox:
    """Requests on their way to the worker, written by a thread of their own: a worker that falls behind fills
    the pipe, and a blocked write must stall that thread, never the caller (the server's event loop)."""

    def __init__(self, stdin: IO[bytes]) -> None:
        self._stdin = stdin
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.broken = False
        threading.Thread(target=self._drain, name="asr-worker-writer", daemon=True).start()

    def put(self, frame: bytes) -> None:
        if self.broken:
            raise RecognizerUnavailableError("the recognition worker has stopped")
        self._queue.put(frame)

    def close(self) -> None:
        self._queue.put(None)

    def _drain(self) -> None:
        while (frame := self._queue.get()) is not None:
            try:
                self._stdin.write(frame)
                self._stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.broken = True
                break
        self.broken = True
        with contextlib.suppress(OSError, ValueError):
            self._stdin.close()  # the worker exits when its input ends


def _stop(process: subprocess.Popen[bytes], outbox: _Outbox) -> None:
    outbox.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class WorkerRecognizer:
    """``SpeechRecognizer`` and ``StreamingSpeechRecognizer`` running PocketSphinx in a child process.

    Thread-safe. Construction starts the child and waits until its model has loaded (about a second), raising
    ``RecognizerUnavailableError`` if it cannot. ``close()`` ends the child; so does garbage collection of this
    object, and the child also ends by itself when this process exits. ``transcribe`` and ``finish`` raise
    ``RecognizerUnavailableError`` if the child has died.
    """

    def __init__(self) -> None:
        self._process = subprocess.Popen(  # our own module, run by this interpreter
            [sys.executable, "-m", "realtime_widget.server.voice.asr_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._outbox = _Outbox(self._process.stdin)
        self._replies = _Replies()
        self._ids = itertools.count(1)
        threading.Thread(
            target=self._replies.read_from, args=(self._process.stdout,), name="asr-worker-reader", daemon=True
        ).start()
        self._finalizer = weakref.finalize(self, _stop, self._process, self._outbox)
        try:
            self._replies.ready.result(timeout=LOAD_TIMEOUT_S)
        except Exception as exc:
            self.close()
            raise RecognizerUnavailableError(f"the recognition worker did not start: {exc}") from exc

    @property
    def pid(self) -> int:
        return self._process.pid

    def kill(self) -> None:
        """End the worker now, whatever it is doing (a hung decoder does not read its input)."""
        with contextlib.suppress(OSError):
            self._process.kill()
        self.close()

    def transcribe(self, samples: Pcm16) -> str:
        """Recognise a whole committed turn; "" when it holds no speech."""
        if samples.size == 0:
            return ""
        return self.request(TRANSCRIBE, next(self._ids), samples.astype("<i2").tobytes())

    def start_stream(self) -> WorkerStream:
        """Begin recognising a turn while it is spoken; see ``RecognitionStream``."""
        return WorkerStream(self, next(self._ids))

    def close(self) -> None:
        """End the worker once the requests already queued are written: closing its stdin makes it exit; it is
        killed if it has not within five seconds."""
        self._finalizer()

    # ---- plumbing -------------------------------------------------------------------------------------------
    def send(self, op: int, ident: int, payload: bytes) -> None:
        """Queue one request (used by ``WorkerStream``); never blocks on the worker."""
        self._outbox.put(_HEADER.pack(op, ident, len(payload)) + payload)

    def request(self, op: int, ident: int, payload: bytes, timeout: float = REPLY_TIMEOUT_S) -> str:
        """Send one request and wait for its reply (``RecognizerUnavailableError`` after ``timeout`` seconds)."""
        future = self._replies.expect(ident)
        try:
            self.send(op, ident, payload)
            return future.result(timeout=timeout)
        except TimeoutError as exc:
            raise RecognizerUnavailableError("the recognition worker did not answer") from exc
        finally:
            self._replies.forget(ident)


def main() -> None:
    """Run as the worker: the protocol gets a private copy of stdout; anything else printed (C libraries
    included) goes to stderr instead of corrupting it."""
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, protocol_out)


if __name__ == "__main__":
    main()
