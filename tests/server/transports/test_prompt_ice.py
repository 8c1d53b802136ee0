"""prompt_ice: an aioice connection is connected once its pair is nominated, and nothing is left running after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aioice.ice
import pytest

from realtime_widget.server.transports import prompt_ice
from realtime_widget.server.transports.loopback_ice import restrict_ice_to_loopback

Pair = tuple[aioice.ice.Connection, aioice.ice.Connection]


@pytest.fixture
async def pair(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Pair]:
    """A controlling and a controlled connection on loopback, each knowing the other's candidates."""
    restrict_ice_to_loopback()
    monkeypatch.setattr(aioice.ice.Connection, "connect", prompt_ice._connect_promptly)
    controlling = aioice.ice.Connection(ice_controlling=True)
    controlled = aioice.ice.Connection(ice_controlling=False)
    await asyncio.gather(controlling.gather_candidates(), controlled.gather_candidates())
    for a, b in ((controlling, controlled), (controlled, controlling)):
        for candidate in b.local_candidates:
            await a.add_remote_candidate(candidate)
        await a.add_remote_candidate(None)
        a.remote_username, a.remote_password = b.local_username, b.local_password
    try:
        yield controlling, controlled
    finally:
        await asyncio.gather(controlling.close(), controlled.close())


async def connect_both(pair: Pair) -> None:
    await asyncio.wait_for(asyncio.gather(pair[0].connect(), pair[1].connect()), 10)


async def loops_run_out(running: set[asyncio.Future[None]]) -> None:
    """Waits for the aioice loops that were still running (after their connect() returned) to end."""
    if running:
        await asyncio.wait(running, timeout=10)


async def test_both_sides_connect_and_carry_data(pair: Pair) -> None:
    controlling, controlled = pair
    await connect_both(pair)
    await controlling.send(b"hello")
    assert await asyncio.wait_for(controlled.recv(), 10) == b"hello"
    await controlled.send(b"back")
    assert await asyncio.wait_for(controlling.recv(), 10) == b"back"


async def test_aioice_loop_runs_out_and_starts_consent_checks(pair: Pair) -> None:
    await connect_both(pair)
    # aioice's own loop ends at its next step and starts the consent freshness checks, as it always did.
    await loops_run_out(set(prompt_ice._running_out))
    for connection in pair:
        assert connection._query_consent_task is not None
        assert not connection._query_consent_task.done()


async def test_a_connection_closed_before_the_loop_ran_out_keeps_no_consent_checks(pair: Pair) -> None:
    controlled = pair[1]
    await connect_both(pair)
    running = set(prompt_ice._running_out)
    await controlled.close()
    await loops_run_out(running)
    consent = controlled._query_consent_task
    assert consent is None or consent.cancelled() or consent.done()


async def test_a_failed_connection_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    restrict_ice_to_loopback()
    monkeypatch.setattr(aioice.ice.Connection, "connect", prompt_ice._connect_promptly)
    lonely = aioice.ice.Connection(ice_controlling=True)
    await lonely.gather_candidates()
    lonely.remote_username, lonely.remote_password = "nobody", "nobody-password-0000000"
    await lonely.add_remote_candidate(None)  # no candidates at all: nothing to check
    try:
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(lonely.connect(), 10)
    finally:
        await lonely.close()


def test_install_replaces_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice.Connection, "connect", aioice.ice.Connection.connect)
    prompt_ice.install()
    assert aioice.ice.Connection.connect is prompt_ice._connect_promptly
