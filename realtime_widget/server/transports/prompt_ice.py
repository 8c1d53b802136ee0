"""ICE that is connected when its pair is nominated, not at aioice's next pacing step.

aioice's ``Connection.connect()`` starts its checks in a loop that sleeps Ta (20 ms) between steps, and takes the
check list's result only once that loop has ended: a pair the browser nominates at once is reported up to 20 ms
later, and aiortc starts DTLS only then. On loopback that was 10 ms of a 45 ms connect, for every client
(``benchmarks/connect_time.py``: aioice's "ICE completed", then aiortc's ``completed`` 11 ms later, then DTLS).
The real API's ICE has no such wait, so the local server should not add one to what our tests and benchmarks see.

``install()`` wraps ``connect()``: it returns as soon as the check list completes, while aioice's own loop runs
out in the background (it then starts the consent checks, as it would have). A failure still comes from aioice's
loop, unchanged. The seams are aioice's ``_check_list_maybe_complete`` (called whenever a pair is nominated) and
``_closing``/``_query_consent_task`` (for a call closed before the loop has run out); without them (another aioice
version) nothing is changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import aioice.ice

_aioice_connect: Callable[[aioice.ice.Connection], Awaitable[None]] = aioice.ice.Connection.connect
_SEAMS = ("_check_list_maybe_complete", "_closing", "_query_consent_task")


async def _connect_promptly(connection: aioice.ice.Connection) -> None:
    """``Connection.connect()``, returning once a pair is nominated for every component."""
    nominated = asyncio.Event()
    maybe_complete: Callable[[], bool] = connection._check_list_maybe_complete

    def note_completion() -> bool:
        complete = maybe_complete()
        if complete:
            nominated.set()
        return complete

    connection._check_list_maybe_complete = note_completion  # type: ignore[method-assign]
    checks = asyncio.ensure_future(_aioice_connect(connection))
    waiting = asyncio.ensure_future(nominated.wait())
    try:
        await asyncio.wait({checks, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
        if not checks.done() and not nominated.is_set():
            checks.cancel()  # this connect() was cancelled itself
    if checks.done():
        return checks.result()  # failed, or finished in the same step
    checks.add_done_callback(lambda done: _after_checks(connection, done))
    _running_out.add(checks)
    return None


#: aioice loops still running out after their connect() returned (kept referenced until they end).
_running_out: set[asyncio.Future[None]] = set()


def _after_checks(connection: aioice.ice.Connection, checks: asyncio.Future[None]) -> None:
    _running_out.discard(checks)
    if not checks.cancelled():
        checks.exception()  # retrieved: a loop that ran out after a close has nothing left to report
    consent: Any = connection._query_consent_task
    if connection._closing and consent is not None:
        # Closed while the loop ran out: aioice's close() found no consent task to stop, and then the loop made one.
        with contextlib.suppress(Exception):
            consent.cancel()


def install() -> None:
    """Make every aioice connection in this process report success as soon as it is nominated (idempotent)."""
    probe = aioice.ice.Connection(ice_controlling=False)
    if all(hasattr(probe, seam) for seam in _SEAMS):
        aioice.ice.Connection.connect = _connect_promptly  # type: ignore[method-assign,assignment]
