"""Running cases across variants: headless sessions, concurrently and repeatedly, every record saved, scored.

``variants`` map a name to session options that override the run's own (``instructions``, ``voice``,
``turn_detection``...). Every variant is checked before anything runs — a misspelt or invalid option, or a case
that expects a tool the session does not have, raises ``ValueError`` naming it — so a long run never fails halfway
on a typo. A session that fails or drops fails its own case; the others go on.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from realtime_widget.errors import RealtimeWidgetError
from realtime_widget.evals.cases import Case, CaseRun, Failure, check
from realtime_widget.evals.conversation import play_case
from realtime_widget.evals.loading import load_cases, load_variants
from realtime_widget.evals.progress import Progress
from realtime_widget.evals.results import Results, run_row
from realtime_widget.keys import resolve_api_key
from realtime_widget.record import SessionRecord
from realtime_widget.session import Session
from realtime_widget.tools import ToolLike
from realtime_widget.validation_errors import first_error, what, where

__all__ = ["run", "run_sync"]

DEFAULT_VARIANT = "default"


@dataclass(frozen=True)
class _Job:
    variant: str
    case: Case
    repeat: int


def _cases(cases: Sequence[Case] | Case | str | Path) -> list[Case]:
    if isinstance(cases, str | Path):
        return load_cases(cases)
    found = [cases] if isinstance(cases, Case) else list(cases)
    if not found:
        raise ValueError("no cases to run")
    for case in found:
        if not isinstance(case, Case):
            raise TypeError(f"cases are Case objects (or a YAML/JSON file of them), not {type(case).__name__}")
    names = [case.name for case in found]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise ValueError(f"two cases are named {duplicate!r}; names identify cases in the results")
    return found


def _variants(variants: Mapping[str, Mapping[str, Any]] | str | Path | None) -> dict[str, dict[str, Any]]:
    if variants is None:
        return {DEFAULT_VARIANT: {}}
    if isinstance(variants, str | Path):
        return load_variants(variants)
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants maps each variant's name to its session options, e.g. {'terse': {...}}")
    checked: dict[str, dict[str, Any]] = {}
    for name, options in variants.items():
        if not isinstance(options, Mapping):
            raise TypeError(f"variant {name!r}: its options must be a mapping, not {type(options).__name__}")
        checked[str(name)] = dict(options)
    return checked


def _tool_names(session: Session) -> list[str]:
    names = [str(t["name"]) for t in session.config.tools if isinstance(t, dict) and "name" in t]
    # An agent's handoffs bring the tools of the agents they reach.
    return [*names, *session.agent_tool_names()]


def _check_before_running(
    cases: list[Case], variants: dict[str, dict[str, Any]], make: Callable[[str], Session]
) -> None:
    """Build (not connect) each variant's session, and check each case against its tools; a scripted case needs the
    local server, which sessions use only without an API key."""
    for name, options in variants.items():
        scripted = next((case.name for case in cases if case.script), None)
        if scripted is not None and resolve_api_key(options.get("api_key")) is not None:
            raise ValueError(
                f"variant {name!r}: case {scripted!r} scripts the local server's replies, but with an API key the "
                "sessions talk to the real API; run it without OPENAI_API_KEY, or drop its script"
            )
        try:
            session = make(name)
        except ValidationError as exc:
            error = first_error(exc)
            raise ValueError(f"variant {name!r}: {where(error)}: {what(error)}") from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"variant {name!r}: {exc}") from exc
        tools = _tool_names(session)
        for case in cases:
            try:
                case.check_tools(tools)
            except ValueError as exc:
                raise ValueError(f"variant {name!r}: {exc}") from exc


def _run_folder(out: str | Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out) / f"{stamp}-{uuid.uuid4().hex[:6]}"
    (folder / "sessions").mkdir(parents=True)
    return folder


def _describe_run(cases: list[Case], variants: dict[str, dict[str, Any]], repeats: int) -> dict[str, Any]:
    return {
        "started": datetime.now(UTC).isoformat(),
        "repeats": repeats,
        # A key given as a variant's option is never written down.
        "variants": {name: {k: v for k, v in opts.items() if k != "api_key"} for name, opts in variants.items()},
        "cases": [
            {"name": case.name, "timeout_s": case.timeout_s, "steps": [step.describe() for step in case.steps]}
            for case in cases
        ],
    }


def _call_id(session: Session) -> str | None:
    """The local server's id for this session's call (WebRTC: the call id; WebSocket: found by session id)."""
    if session.call_id is not None or session.local_server is None:
        return session.call_id
    session_id = session.api_session_id
    calls = session.local_server.calls()
    return next((c["call_id"] for c in calls if c.get("session_id") == session_id), None)


async def _run_one(job: _Job, make: Callable[[str], Session]) -> CaseRun:
    session = make(job.variant)
    try:
        await session.connect()
    except RealtimeWidgetError as exc:
        return CaseRun(session.record, errors=[Failure(0, "connect", f"the session did not connect: {exc}")])
    try:
        if job.case.script:
            server = session.local_server
            if server is None:
                return CaseRun(
                    session.record,
                    errors=[Failure(0, "script", "a scripted case runs only against the local server")],
                )
            await asyncio.to_thread(server.script, list(job.case.script), _call_id(session))
        return await play_case(session, job.case)
    finally:
        await session.close()


async def run(
    cases: Sequence[Case] | Case | str | Path,
    variants: Mapping[str, Mapping[str, Any]] | str | Path | None = None,
    *,
    repeats: int = 1,
    concurrency: int = 4,
    out: str | Path = "runs",
    tools: Iterable[ToolLike] = (),
    progress: bool = True,
    **session_options: Any,
) -> Results:
    """Run every case with every variant, ``repeats`` times, at most ``concurrency`` sessions at once.

    Args:
        cases: :class:`Case` objects, or a YAML/JSON file of them.
        variants: ``{name: {session option: value}}`` (or a YAML/JSON file); each overrides ``session_options``.
            Default: one variant, ``"default"``.
        repeats: runs of each variant x case (spoken conversations vary: repeat to see how much).
        concurrency: sessions at once (the local server and a 2-core machine keep real time with a few).
        out: the folder that receives this run's folder (``<out>/<UTC time>-<id>/``): ``run.json``,
            ``results.parquet``, ``turns.parquet``, ``failures.parquet``, and ``sessions/<session_id>/`` for every
            session (read them with :func:`realtime_widget.load_sessions` or DuckDB).
        tools: Python functions the model may call, as for :class:`~realtime_widget.Session`.
        progress: show a progress bar (tqdm when installed, else a line of text).
        session_options: :class:`~realtime_widget.Session` options shared by every variant (``api_key``,
            ``base_url``, ``transport``, ``instructions``, ...).

    Returns:
        :class:`Results`: ``table``, ``compare()``, ``plot()``, ``passed``, ``sessions``.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats is a whole number >= 1, not {repeats!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency is a whole number >= 1, not {concurrency!r}")
    all_cases = _cases(cases)
    all_variants = _variants(variants)
    tool_list = list(tools)

    options = {name: {**session_options, **overrides} for name, overrides in all_variants.items()}

    def make(variant: str) -> Session:
        return Session(tool_list, **options[variant])

    _check_before_running(all_cases, options, make)
    folder = _run_folder(out)
    (folder / "run.json").write_text(json.dumps(_describe_run(all_cases, all_variants, repeats), indent=2, default=str))
    jobs = [_Job(v, c, r) for v in all_variants for c in all_cases for r in range(repeats)]
    slots = asyncio.Semaphore(concurrency)
    bar = Progress(len(jobs), enabled=progress)
    outcomes: dict[int, tuple[CaseRun, list[Failure]]] = {}

    async def one(index: int, job: _Job) -> None:
        async with slots:
            case_run = await _run_one(job, make)
        failures = [*case_run.errors, *check(job.case, case_run.record, case_run.marks)]
        await asyncio.to_thread(case_run.record.save, folder / "sessions" / case_run.record.session_id)
        outcomes[index] = (case_run, failures)
        bar.advance(not failures)

    try:
        await asyncio.gather(*(one(i, job) for i, job in enumerate(jobs)))
    finally:
        bar.close()
    rows, turns, failure_rows = [], [], []
    records: dict[str, SessionRecord] = {}
    for index, job in enumerate(jobs):
        case_run, failures = outcomes[index]
        row, turn_rows, fails = run_row(job.variant, job.case.name, job.repeat, case_run.record, failures)
        rows.append(row)
        turns += turn_rows
        failure_rows += fails
        records[case_run.record.session_id] = case_run.record
    results = Results.from_rows(rows, turns, failure_rows, records=records)
    await asyncio.to_thread(results.save, folder)
    return results


def run_sync(
    cases: Sequence[Case] | Case | str | Path,
    variants: Mapping[str, Mapping[str, Any]] | str | Path | None = None,
    **kwargs: Any,
) -> Results:
    """:func:`run` for scripts and pytest (no event loop running). In a notebook, ``await evals.run(...)``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run(cases, variants, **kwargs))
    raise RuntimeError("an event loop is already running here (a notebook?): use `await evals.run(...)` instead")
