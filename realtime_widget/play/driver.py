"""Playing one :class:`~realtime_widget.evals.Case` into a live widget session.

Each user step in turn: spoken steps are synthesized in the kernel (the evals' text-to-speech) and sent to the
browser as PCM buffers, which it mixes into the microphone track; typed steps and images go as the composer sends
them. The play then waits, on the live record and never on a clock, for the browser to say the speech has sounded
and for the reply to be done and heard, unless the next step barges in. Every wait ends early when the person
presses Stop, when the connection drops or when the browser cannot play, and each step is bounded by the case's
``timeout_s``. At the end the case's expectations are checked against the part of the record made during the
play, and the result is the evals' :class:`~realtime_widget.evals.Results` for one run of one case.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from realtime_widget.evals.cases import Case, CaseRun, Failure, check
from realtime_widget.evals.conversation import is_barge_in, next_user_step
from realtime_widget.evals.expectations import Expectation
from realtime_widget.evals.results import Results, run_row
from realtime_widget.evals.steps import Say, Silence, Typed, UserStep
from realtime_widget.headless.user_audio import TextToSpeech, espeak, user_speech
from realtime_widget.play.messages import audio_messages, command
from realtime_widget.play.reply_watch import ReplyWatch
from realtime_widget.record import SessionRecord
from realtime_widget.server.pcm import SAMPLE_RATE

__all__ = ["WIDGET_VARIANT", "CasePlay", "PlayError", "PlayHost"]

#: How often a wait re-checks its condition when no batch woke it.
_RECHECK_S = 0.05

#: The ``variant`` of a played case in its results table (the evals name variants; a widget has one).
WIDGET_VARIANT = "widget"


class PlayError(RuntimeError):
    """A play that cannot start: the widget is not connected, or another case is playing."""


@dataclass(frozen=True)
class PlayHost:
    """What a play needs of the widget."""

    record: SessionRecord
    status: Callable[[], str]
    #: Why the connection failed, when it did (the widget's ``error`` trait).
    error: Callable[[], dict[str, Any]]
    send: Callable[[dict[str, Any], list[bytes]], None]
    send_text: Callable[[str], None]
    send_image: Callable[[Any, str | None], None]
    #: The connection runs over WebSocket (the browser plays the replies) rather than WebRTC.
    websocket: bool = False


class _PlayEndedError(Exception):
    """The play cannot go on: stopped, the connection dropped, or the browser could not play."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


def _now() -> pd.Timestamp:
    return pd.Timestamp(datetime.now(UTC))


def _on_record_axis(record: SessionRecord, browser_ms: float | None, fallback: pd.Timestamp) -> pd.Timestamp:
    """A browser time where the record puts the browser's items (its clock offset applied), so a step's mark and
    the events it is checked against share one axis; ``fallback`` (kernel time) when the browser gave none."""
    if browser_ms is None:
        return fallback
    return pd.Timestamp(round((browser_ms + record.clock_offset_ms) * 1000), unit="us", tz="UTC")


class CasePlay:
    """One play of ``case`` into the widget behind ``host``; :meth:`run` plays it and returns the results."""

    def __init__(self, host: PlayHost, case: Case, tts: TextToSpeech | None = None) -> None:
        self.host = host
        self.case = case
        self.play_id = uuid.uuid4().hex[:12]
        self.watch = ReplyWatch(self.play_id, websocket=host.websocket)
        self._tts = tts
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        if self._tts is None and any(isinstance(s, Say) and s.text is not None for s in case.user_steps):
            self._tts = espeak()  # raises now, before anything plays, when eSpeak NG is missing

    # ---- fed by the widget ----------------------------------------------------------------------------------

    def on_items(self, items: list[dict[str, Any]]) -> None:
        """Wire items the widget just recorded."""
        for item in items:
            self.watch.feed(item)
        self._wake()

    def poke(self) -> None:
        """Something the play may be waiting on changed (the connection's status)."""
        self._wake()

    def stop(self) -> None:
        """Stops from Python: as the Stop button does."""
        self.watch.stopped = True
        self._wake()

    def _wake(self) -> None:
        # Comm messages may be handled outside the loop the play awaits on (ipykernel dispatches them while a
        # cell awaits); an asyncio.Event must be set from its own loop.
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            self._changed.set()
        else:
            loop.call_soon_threadsafe(self._changed.set)

    # ---- the play -------------------------------------------------------------------------------------------

    async def run(self) -> Results:
        """Plays every user step, then checks the expectations; never raises for what happened in the session
        (a stop, a drop, a timeout): those are failures in the results, and nothing recorded is lost."""
        self._loop = asyncio.get_running_loop()
        record = self.host.record
        user_steps = self.case.user_steps
        started = _now()
        record.add_kernel_timeline("play_start", {"play_id": self.play_id, "case": self.case.name})
        self.host.send(command("play_start", self.play_id, case=self.case.name, steps=len(user_steps)), [])
        run = CaseRun(record)
        outcome = "cancelled"
        try:
            outcome = await self._steps(run)
        finally:
            # Also when the cell was interrupted: the browser drops the rest of the audio and the banner.
            self.host.send(command("play_end", self.play_id, outcome=outcome, message=""), [])
        run.marks += [None] * (len(user_steps) - len(run.marks))
        # The play's own stretch of the record begins with its first step, on the record's axis.
        started = min([started, *(m for m in run.marks if m is not None)])
        failures = [*run.errors, *check(self.case, record, run.marks, start=started)]
        record.add_kernel_timeline(
            "play_end", {"play_id": self.play_id, "case": self.case.name, "outcome": outcome, "failures": len(failures)}
        )
        row, turns, fails = run_row(WIDGET_VARIANT, self.case.name, 0, record, failures, since=started)
        return Results.from_rows([row], turns, fails, records={record.session_id: record})

    async def _steps(self, run: CaseRun) -> str:
        steps = list(self.case.steps)
        number = 0
        for index, step in enumerate(steps):
            if isinstance(step, Expectation):
                continue
            number += 1
            what = step.describe()
            wait = not is_barge_in(next_user_step(steps, index))
            self.host.record.add_kernel_timeline(
                "eval_step", {"case": self.case.name, "step": index + 1, "what": what, "play_id": self.play_id}
            )
            self.host.send(command("play_step", self.play_id, step=number, what=what), [])
            try:
                began = await asyncio.wait_for(self._perform(step, number, wait), self.case.timeout_s)
            except TimeoutError:
                self.host.record.add_kernel_timeline("eval_step_timeout", {"case": self.case.name, "step": index + 1})
                message = f"did not finish within {self.case.timeout_s:g} s (the case's timeout_s)"
                run.errors.append(Failure(index + 1, what, message))
                return "failed"
            except _PlayEndedError as ended:
                run.errors.append(Failure(index + 1, what, ended.message))
                return ended.outcome
            except (OSError, ValueError, TypeError) as exc:
                # A step that cannot be taken (a missing audio or image file, audio the synthesizer refused).
                run.errors.append(Failure(index + 1, what, f"could not be taken: {type(exc).__name__}: {exc}"))
                return "failed"
            run.marks.append(None if isinstance(step, Silence) else began)
        return "passed"

    async def _perform(self, step: UserStep, number: int, wait_for_reply: bool) -> pd.Timestamp:
        """Takes one user step; returns when it began (for a spoken step, when its audio was sent)."""
        self._check()
        if isinstance(step, Silence):
            await self._pause(step.ms / 1000.0)  # a silence lasts this long in real time: that is the step
            return _now()
        if isinstance(step, Say):
            began = await self._say(step, number)
        else:
            self.watch.begin_turn(spoken=False)
            sent = _now()
            if isinstance(step, Typed):
                self.host.send_text(step.text)
            else:
                self.host.send_image(step.path, step.prompt)
            # The step began when the browser sent it: the replies' times are the browser's too.
            await self._until(lambda: self.watch.turn_sent_t() is not None)
            began = _on_record_axis(self.host.record, self.watch.turn_sent_t(), sent)
        if wait_for_reply:
            await self._until(self.watch.reply_heard)
        return began

    async def _say(self, step: Say, number: int) -> pd.Timestamp:
        if step.interrupt_after_ms is not None:
            # A barge-in speaks this long after the reply it cuts off began to sound.
            await self._until(self.watch.reply_audio_started)
            await self._pause(step.interrupt_after_ms / 1000.0)
        what: Any = step.text if step.text is not None else step.audio
        assert self._tts is not None or step.text is None
        pcm = await asyncio.to_thread(user_speech, what, self._tts or _no_tts)
        self._check()
        self.watch.begin_turn(spoken=True)
        sent = _now()
        for content, buffer in audio_messages(self.play_id, number, pcm, SAMPLE_RATE):
            self.host.send(content, [buffer])
        await self._until(lambda: number in self.watch.spoken)
        # The step began when its speech began to sound in the browser.
        return _on_record_axis(self.host.record, self.watch.spoken[number].started_t, sent)

    # ---- waiting on the live record -------------------------------------------------------------------------

    def _check(self) -> None:
        if self.watch.stopped:
            raise _PlayEndedError("stopped", "stopped: Stop was pressed, and the rest of the case did not play")
        status = self.host.status()
        if self.watch.browser_errors and not self.watch.browser_disconnected:
            raise _PlayEndedError("failed", f"the browser could not play it: {self.watch.browser_errors[-1]}")
        if status != "connected" or self.watch.browser_disconnected:
            # The browser's word comes first: its status write can arrive after its report that nothing is connected.
            error = self.host.error()
            why = f": {error['message']}" if error.get("message") else ""
            seen = "the browser had no call to play into" if status == "connected" else f"status {status!r}"
            raise _PlayEndedError("failed", f"the connection dropped mid-play ({seen}){why}")

    async def _until(self, condition: Callable[[], bool]) -> None:
        """Until ``condition`` holds, re-checked whenever the record grows; ends early as :meth:`_check` says."""
        while True:
            self._check()
            if condition():
                return
            self._changed.clear()
            # Woken by each batch; re-checked now and then besides, as widget.wait_for polls its status.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), _RECHECK_S)

    async def _pause(self, seconds: float) -> None:
        """``seconds`` of real time (a silence, a barge-in's delay), ended early by a stop or a drop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            self._check()
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        self._check()


def _no_tts(_text: str) -> Any:
    raise ValueError("no text-to-speech to speak this step")  # unreachable: the constructor made one
