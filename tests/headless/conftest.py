"""Fixtures for headless sessions: one real local server (a child process, strict) for the whole run, and a
factory of sessions against it that checks, after each test, that every event either side sent validated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from realtime_widget import Session
from realtime_widget.server.launcher import LocalServer

MakeSession = Callable[..., Awaitable[Session]]


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The local server with its offline voice model (eSpeak NG, PocketSphinx), validating every event it sends."""
    server = LocalServer.start(strict=True)
    yield server
    server.stop()


@pytest.fixture(params=["websocket", "webrtc"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_session(local_server: LocalServer) -> AsyncIterator[MakeSession]:
    """``await make_session(transport, **options)``: a connected Session against the local server; closed after
    the test, whose record must then validate strictly (both directions) and the server must have sent only
    valid events."""
    sessions: list[Session] = []

    async def make(transport: str = "websocket", **options: Any) -> Session:
        session = Session(transport=transport, api_key=local_server.api_key, base_url=local_server.base_url, **options)  # type: ignore[arg-type]
        sessions.append(session)
        await session.connect()
        return session

    yield make
    await asyncio.gather(*(s.close() for s in sessions))
    for session in sessions:
        invalid = session.record.validate()
        assert invalid.empty, invalid.to_string()
    assert local_server.violations() == []
