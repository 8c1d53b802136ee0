"""Fair shares of the one recognition worker, so no session's turn can starve another's.

The worker (``asr_worker``) decodes one request at a time, in order. Handed a whole long turn at once, it was busy
for minutes while every other session's turns waited behind it. ``FairRecognizer`` keeps a queue per session
(``share()``) and gives the worker one slice at a time (at most ``slice_ms`` of one turn's audio), taking the
sessions in turn, so a short turn is decoded within a few slices however long another session's turn is.

Each turn has a time budget: once its slices have kept the worker busy for ``turn_budget_s`` in all, the turn is
dropped and its ``finish`` raises ``TurnBudgetExceededError`` (the engine reports
``conversation.item.input_audio_transcription.failed`` to that session alone). A slice that takes longer than
``slice_timeout_s`` means the worker hung: it is killed and a new one started; the turn that was being decoded
fails, and the other turns in progress are decoded again from their audio, so their sessions notice nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.asr import (
    MIN_VOICED_MS,
    RecognitionFailedError,
    RecognizerUnavailableError,
    voiced_ms,
)
from realtime_widget.server.voice.asr_worker import CANCEL, FEED_ACK, FINISH, WorkerRecognizer

log = logging.getLogger(__name__)

#: Decoding time one turn may take in all: PocketSphinx decodes at about half of real time here, so this is about
#: two minutes of speech, far longer than a spoken turn (the input buffer holds up to 15 minutes).
TURN_BUDGET_S = 60.0
#: The most audio one slice of the worker's time decodes; a short turn waits at most one slice per other session.
SLICE_MS = 500
#: A slice (half a second of audio) that takes this long means the worker hung.
SLICE_TIMEOUT_S = 20.0
#: Turns one session may have waiting for recognition at once; more fail at once. A spoken conversation has one or
#: two; a client creating items with audio in a burst must not queue without end (each holds its audio).
MAX_TURNS_PER_SESSION = 8


class TurnBudgetExceededError(RecognizerUnavailableError):
    """A turn took more than its share of the recognition worker; it is kept without a transcript."""


class _Turn:
    """One turn in a session's queue: audio waiting for the worker, audio it has decoded (kept to decode again if
    the worker is replaced), and the transcript once finished."""

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.waiting: deque[Pcm16] = deque()
        self.decoded: list[Pcm16] = []
        self.finishing = False
        self.spent_s = 0.0
        self.transcript: Future[str] = Future()

    def next_slice(self, limit: int) -> Pcm16:
        parts: list[Pcm16] = []
        size = 0
        while self.waiting and size < limit:
            head = self.waiting.popleft()
            room = limit - size
            if head.size > room:
                self.waiting.appendleft(head[room:])  # a view: long turns are sliced, never copied whole
                head = head[:room]
            parts.append(head)
            size += head.size
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


class RecognizerShare:
    """One session's share of a ``FairRecognizer``: a ``SpeechRecognizer`` and ``StreamingSpeechRecognizer``
    whose turns queue behind this session's own turns only. ``close()`` drops whatever it still has queued."""

    def __init__(self, owner: FairRecognizer) -> None:
        self._owner = owner
        self.turns: deque[_Turn] = deque()

    def transcribe(self, samples: Pcm16) -> str:
        """Recognise a whole committed turn; "" when it holds no speech (found without the worker)."""
        return self.transcribe_future(samples).result()

    def transcribe_future(self, samples: Pcm16) -> Future[str]:
        """``transcribe`` as a future, for callers that await rather than block."""
        if voiced_ms(samples) < MIN_VOICED_MS:
            silent: Future[str] = Future()
            silent.set_result("")
            return silent
        stream = self.start_stream()
        stream.feed(samples)
        return stream.finish_future()

    def start_stream(self) -> SharedStream:
        """Begin recognising a turn while it is spoken; see ``RecognitionStream``."""
        return SharedStream(self._owner, self, self._owner.open_turn(self))

    def close(self) -> None:
        for turn in list(self.turns):
            self._owner.drop_turn(self, turn, RecognizerUnavailableError("the session has ended"))


class SharedStream:
    """A ``RecognitionStream`` in a session's share: ``feed`` only queues audio; ``finish`` waits for the
    transcript (or raises ``TurnBudgetExceededError`` or ``RecognizerUnavailableError``)."""

    def __init__(self, owner: FairRecognizer, share: RecognizerShare, turn: _Turn) -> None:
        self._owner = owner
        self._share = share
        self._turn = turn
        self._done = False

    def feed(self, samples: Pcm16) -> None:
        if not self._done and samples.size:
            self._owner.add_audio(self._turn, samples)

    def finish(self) -> str:
        return self.finish_future().result()

    def finish_future(self) -> Future[str]:
        """End the turn; a future of its transcript (for callers that await rather than block)."""
        if self._done:
            done: Future[str] = Future()
            done.set_result("")
            return done
        self._done = True
        self._owner.finish_turn(self._turn)
        return self._turn.transcript

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            self._owner.drop_turn(self._share, self._turn, RecognizerUnavailableError("cancelled"))


class FairRecognizer:
    """PocketSphinx in a worker process (``WorkerRecognizer``), shared fairly between sessions.

    ``share()`` gives a session its own queue. ``transcribe``/``start_stream`` on the recognizer itself use one
    common share (for callers that do not ask for their own). Thread-safe; a thread of its own feeds the worker.
    Raises ``RecognizerUnavailableError`` at construction when the worker cannot start.
    """

    def __init__(
        self,
        make_worker: Callable[[], WorkerRecognizer] = WorkerRecognizer,
        *,
        turn_budget_s: float = TURN_BUDGET_S,
        slice_ms: int = SLICE_MS,
        slice_timeout_s: float = SLICE_TIMEOUT_S,
    ) -> None:
        self._make_worker = make_worker
        self.worker = make_worker()
        self.turn_budget_s = turn_budget_s
        self._slice = slice_ms * SAMPLE_RATE // 1000
        self._slice_timeout_s = slice_timeout_s
        self._ids = itertools.count(1)
        self._shares: deque[RecognizerShare] = deque()  # sessions with turns queued, the next to be served first
        self._changed = threading.Condition()
        self._closed = False
        #: How many times a hung worker was replaced.
        self.restarts = 0
        self._common = self.share()
        threading.Thread(target=self._serve, name="asr-scheduler", daemon=True).start()

    # ---- the recognizer's own API ---------------------------------------------------------------------------
    def share(self) -> RecognizerShare:
        """A queue of one's own (one per session)."""
        return RecognizerShare(self)

    def transcribe(self, samples: Pcm16) -> str:
        return self._common.transcribe(samples)

    def start_stream(self) -> SharedStream:
        return self._common.start_stream()

    def close(self) -> None:
        """Fail whatever is queued and end the worker."""
        with self._changed:
            self._closed = True
            shares = list(self._shares)
            self._changed.notify_all()
        for share in shares:
            for turn in list(share.turns):
                _fail(turn, RecognizerUnavailableError("the recognizer has been closed"))
        self.worker.close()

    # ---- used by shares and streams -------------------------------------------------------------------------
    def open_turn(self, share: RecognizerShare) -> _Turn:
        turn = _Turn(next(self._ids))
        with self._changed:
            if self._closed:
                _fail(turn, RecognizerUnavailableError("the recognizer has been closed"))
                return turn
            if len(share.turns) >= MAX_TURNS_PER_SESSION:
                _fail(
                    turn,
                    RecognitionFailedError(
                        f"this session already has {len(share.turns)} turns waiting for recognition; "
                        "the turn is kept without a transcript"
                    ),
                )
                return turn
            share.turns.append(turn)
            if share not in self._shares:
                self._shares.append(share)
        return turn

    def add_audio(self, turn: _Turn, samples: Pcm16) -> None:
        if turn.transcript.done():  # refused, dropped or over budget: its audio goes nowhere
            return
        with self._changed:
            turn.waiting.append(samples)
            self._changed.notify()

    def finish_turn(self, turn: _Turn) -> None:
        with self._changed:
            turn.finishing = True
            self._changed.notify()

    def drop_turn(self, share: RecognizerShare, turn: _Turn, why: Exception) -> None:
        with self._changed:
            started = self._remove(share, turn)
        if started:
            with contextlib.suppress(RecognizerUnavailableError):
                self.worker.send(CANCEL, turn.ident, b"")  # the worker frees its decoder
        _fail(turn, why)

    # ---- the scheduler thread -------------------------------------------------------------------------------
    def _remove(self, share: RecognizerShare, turn: _Turn) -> bool:
        """Take ``turn`` out of its queue (lock held); whether the worker has seen any of it."""
        with contextlib.suppress(ValueError):
            share.turns.remove(turn)
        return bool(turn.decoded)

    def _next(self) -> tuple[RecognizerShare, _Turn] | None:
        """The next session in turn with work ready, and its turn (lock held); that session goes to the back."""
        for _ in range(len(self._shares)):
            share = self._shares[0]
            if not share.turns:
                self._shares.popleft()  # back in line when it opens another turn
                continue
            self._shares.rotate(-1)
            for turn in share.turns:
                if turn.waiting or turn.finishing:
                    return share, turn
        return None

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (picked := self._next()) is None:
                    self._changed.wait()
                if self._closed:
                    return
                assert picked is not None
                share, turn = picked
                audio = turn.next_slice(self._slice) if turn.waiting else None
                worker = self.worker
            try:
                self._run_slice(worker, share, turn, audio)
            except Exception:  # keep serving every other session whatever one slice did
                log.exception("recognition slice failed")

    def _run_slice(self, worker: WorkerRecognizer, share: RecognizerShare, turn: _Turn, audio: Pcm16 | None) -> None:
        started = time.monotonic()
        try:
            if audio is not None:
                worker.request(FEED_ACK, turn.ident, audio.astype("<i2").tobytes(), timeout=self._slice_timeout_s)
                text = None
            else:
                text = worker.request(FINISH, turn.ident, b"", timeout=self._slice_timeout_s)
        except RecognitionFailedError as exc:  # the worker is fine; this turn is not
            with self._changed:
                self._remove(share, turn)
            _fail(turn, exc)
            return
        except RecognizerUnavailableError as exc:  # hung (no answer in time) or gone
            self._replace_worker(worker, share, turn, exc)
            return
        with self._changed:
            turn.spent_s += time.monotonic() - started
            if audio is not None:
                turn.decoded.append(audio)
            over_budget = turn.spent_s > self.turn_budget_s
            if text is not None or over_budget:
                self._remove(share, turn)
        if text is not None:
            if not turn.transcript.done():
                turn.transcript.set_result(text)
        elif over_budget:
            with contextlib.suppress(RecognizerUnavailableError):
                worker.send(CANCEL, turn.ident, b"")
            _fail(
                turn,
                TurnBudgetExceededError(
                    f"recognising this turn took more than {self.turn_budget_s:g} s of the recognizer's time; "
                    "the turn is kept without a transcript"
                ),
            )

    def _replace_worker(self, hung: WorkerRecognizer, share: RecognizerShare, turn: _Turn, why: Exception) -> None:
        """The worker hung or died on ``turn``: fail that turn, start a new worker, and queue every other turn in
        progress to be decoded again from the start."""
        if self._closed:  # closing ended the worker under this slice
            _fail(turn, RecognizerUnavailableError("the recognizer has been closed"))
            return
        log.warning("the recognition worker failed (%s); starting a new one", why)
        hung.kill()
        with self._changed:
            self._remove(share, turn)
        _fail(turn, RecognizerUnavailableError(f"the recognition worker failed on this turn: {why}"))
        try:
            fresh = self._make_worker()
        except RecognizerUnavailableError as exc:
            log.error("no new recognition worker: %s", exc)
            self.close()
            return
        with self._changed:
            self.worker = fresh
            self.restarts += 1
            for other in self._shares:
                for pending in other.turns:
                    pending.waiting.extendleft(reversed(pending.decoded))
                    pending.decoded = []
            self._changed.notify()


def _fail(turn: _Turn, why: Exception) -> None:
    if not turn.transcript.done():
        turn.transcript.set_exception(why)
