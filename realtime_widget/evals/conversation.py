"""Playing one case into a headless :class:`~realtime_widget.Session`: the user's steps in real time, each bounded
by the case's per-step timeout, with the moment each step began kept in the record's timeline (``eval_step``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from realtime_widget.errors import RealtimeWidgetError
from realtime_widget.evals.cases import Case, CaseRun, Failure
from realtime_widget.evals.expectations import Expectation
from realtime_widget.evals.steps import Image, Say, Silence, Typed, UserStep

if TYPE_CHECKING:
    from realtime_widget.session import Session

__all__ = ["is_barge_in", "next_user_step", "play_case"]


def next_user_step(steps: Sequence[Any], index: int) -> UserStep | None:
    """The user step after ``steps[index]`` (skipping expectations), or ``None``."""
    return next((s for s in steps[index + 1 :] if not isinstance(s, Expectation)), None)


def is_barge_in(step: UserStep | None) -> bool:
    """Whether ``step`` speaks over the reply (so the step before it does not wait for the reply to end)."""
    return isinstance(step, Say) and step.interrupt_after_ms is not None


def _epoch_ms(ms: float) -> pd.Timestamp:
    return pd.Timestamp(round(ms * 1000), unit="us", tz="UTC")


async def _perform(session: Session, step: UserStep, wait_for_reply: bool, timeout_s: float) -> pd.Timestamp:
    """Take one user step; returns when it began (for a spoken step, when the speech began)."""
    began = pd.Timestamp(datetime.now(UTC))
    if isinstance(step, Say):
        what: Any = step.text if step.text is not None else step.audio
        if step.interrupt_after_ms is not None:
            utterance = await session.interrupt(what, after_ms=step.interrupt_after_ms)
        else:
            utterance = await session.say(what)
        began = _epoch_ms(utterance.started_ms)
    elif isinstance(step, Typed):
        await session.send_text(step.text)
    elif isinstance(step, Image):
        await session.send_image(step.path, step.prompt)
    else:
        await asyncio.sleep(step.ms / 1000.0)  # a silence lasts this long in real time: that is the step
        return began
    if wait_for_reply:
        await _reply_heard(session, timeout_s)
    return began


async def _reply_heard(session: Session, timeout_s: float) -> None:
    """Until the reply to this step is done and heard; the case's per-step timeout bounds it.

    First a response created since the step began: after a barge-in, the reply it cut off may finish (its
    ``response.done``) after the user started speaking, and must not be taken for the answer."""
    await session.wait_for("response.created", timeout=None)
    await session.wait_for_reply(timeout=timeout_s)


async def play_case(session: Session, case: Case) -> CaseRun:
    """Play ``case``'s user steps into a connected ``session``: each spoken, typed or shown, then its reply waited
    for (done and heard) unless the next step barges in. A step that takes longer than ``case.timeout_s`` ends the
    case with a failure naming it (and an ``eval_step_timeout`` in the record's timeline); a session that fails
    ends it with the session's error. Nothing recorded is lost either way."""
    run = CaseRun(session.record)
    steps = list(case.steps)
    for index, step in enumerate(steps):
        if isinstance(step, Expectation):
            continue
        number = index + 1
        wait = not is_barge_in(next_user_step(steps, index))
        session.record.add_kernel_timeline("eval_step", {"case": case.name, "step": number, "what": step.describe()})
        try:
            began = await asyncio.wait_for(_perform(session, step, wait, case.timeout_s), case.timeout_s)
        except TimeoutError:
            session.record.add_kernel_timeline("eval_step_timeout", {"case": case.name, "step": number})
            run.errors.append(
                Failure(number, step.describe(), f"did not finish within {case.timeout_s:g} s (the case's timeout_s)")
            )
            break
        except RealtimeWidgetError as exc:
            run.errors.append(Failure(number, step.describe(), f"the session failed: {exc.info.message}"))
            break
        except (OSError, ValueError, TypeError) as exc:
            # A step that cannot be taken (a missing audio or image file, audio the synthesizer refused) fails
            # its own case; the run goes on.
            run.errors.append(Failure(number, step.describe(), f"could not be taken: {type(exc).__name__}: {exc}"))
            break
        run.marks.append(None if isinstance(step, Silence) else began)
    run.marks += [None] * (len(case.user_steps) - len(run.marks))
    return run
