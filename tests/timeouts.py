"""What happens when a test runs past its time limit (pytest-timeout; the limits are in pyproject.toml and
tests/e2e/conftest.py): the test fails alone, and leaves behind enough to tell why it hung.

On the limit, a report goes to ``test-artifacts/timeout-<test>.txt``: every thread's stack in the test process,
then whatever the running services add (tests/e2e adds the JupyterLab log and the stacks of its kernels). Then the
test fails by an exception raised in the main thread (pytest-timeout's ``signal`` method), so its fixtures tear
down as after any failure and the next test runs.

An exception can only land when the main thread runs Python again; a thread stuck for good in C, or a teardown that
hangs in its turn, would still hold the whole run (and an xdist worker) forever. So a watchdog thread gives the test
:data:`GRACE_S` more; past that it adds a second report, kills every process this one started (JupyterLab and its
kernels, the local server, Playwright's driver and Chromium) and exits. pytest-xdist then reports the test as
crashed and starts a new worker for the rest of the run.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

#: How long a test that was failed at its limit gets to end (its teardown included) before the process is ended.
GRACE_S = 60.0

#: What a service adds to a timeout report: given the report file and the folder for bigger files beside it.
Diagnostic = Callable[[TextIO, Path], None]

_diagnostics: dict[str, Diagnostic] = {}


@contextlib.contextmanager
def diagnosed(name: str, diagnostic: Diagnostic) -> Iterator[None]:
    """While the block runs, a test that times out also gets ``diagnostic``'s section, headed ``name``."""
    _diagnostics[name] = diagnostic
    try:
        yield
    finally:
        _diagnostics.pop(name, None)


def report_path(item: pytest.Item, suffix: str = "") -> Path:
    """``test-artifacts/timeout-<the test's id, as a file name><suffix>.txt``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
    return ARTIFACTS / f"timeout-{safe}{suffix}.txt"


def write_report(item: pytest.Item, limit: float, suffix: str = "") -> Path:
    """Writes the timeout report of ``item`` (every thread's stack, then each service's section); returns its path.

    Never raises: a diagnostic that fails says so in the report instead."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = report_path(item, suffix)
    with path.open("w") as out:
        out.write(f"{item.nodeid} ran past its {limit:g} s limit (pid {os.getpid()}, {time.strftime('%H:%M:%S')})\n")
        out.write("\n== stacks of this process's threads\n")
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            out.write(f"\n-- thread {names.get(ident, '?')} ({ident})\n")
            out.write("".join(traceback.format_stack(frame)))
        for name, diagnostic in list(_diagnostics.items()):
            out.write(f"\n== {name}\n")
            out.flush()
            try:
                diagnostic(out, path.parent)
            except Exception:
                out.write(f"(could not add this section)\n{traceback.format_exc()}")
    return path


_WATCHDOG = pytest.StashKey[threading.Event]()


def set_timer(item: pytest.Item, settings: Any) -> bool:
    """pytest-timeout's ``signal`` method, with a report first and the watchdog behind it (see the module's doc)."""
    limit = float(settings.timeout)
    ended = item.stash[_WATCHDOG] = threading.Event()

    def on_limit(signum: int, frame: Any) -> None:
        __tracebackhide__ = True
        path = write_report(item, limit)
        print(f"\n{item.nodeid}: timed out after {limit:g} s; stacks and logs in {path}", file=sys.stderr)
        from pytest_timeout import timeout_sigalrm

        timeout_sigalrm(item, settings)  # prints the stacks to the terminal too, and fails the test

    def watchdog() -> None:
        if ended.wait(limit + GRACE_S):
            return
        path = write_report(item, limit, suffix="-not-ended")
        print(
            f"\n{item.nodeid} did not end {GRACE_S:g} s after its {limit:g} s limit ({path}); "
            "ending the processes it started, then this one",
            file=sys.stderr,
            flush=True,
        )
        kill_descendants()
        os._exit(1)

    def cancel() -> None:
        # pytest-timeout also calls this as soon as a test fails (for pdb's sake), before its teardown has run: so
        # the watchdog stays on until the test has really ended (protocol_ended).
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # type: ignore[attr-defined]  # where pytest-timeout looks for it
    signal.signal(signal.SIGALRM, on_limit)
    signal.setitimer(signal.ITIMER_REAL, limit)
    threading.Thread(target=watchdog, name=f"timeout watchdog {item.nodeid}", daemon=True).start()
    return True


def protocol_ended(item: pytest.Item) -> None:
    """The test has ended, teardown and all: its watchdog stands down."""
    ended = item.stash.get(_WATCHDOG, None)
    if ended is not None:
        ended.set()


def kill_descendants() -> None:
    """SIGKILLs every process started by this one, however deep (found from /proc, all before any is killed, so
    none is missed by being orphaned first). JupyterLab and the local server run in sessions of their own, so
    killing a process group would not reach them all; their parent links do."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            # The command name in parentheses may hold spaces; the fields after its closing one are plain.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [os.getpid()]
    while pending:
        kids = children.get(pending.pop(), [])
        found.extend(kids)
        pending.extend(kids)
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
