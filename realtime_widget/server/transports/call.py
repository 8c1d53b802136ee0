"""What every transport's call offers the HTTP layer: one protocol instead of unions and ``getattr``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol, TypedDict

if TYPE_CHECKING:
    from realtime_widget.server.session.engine import SessionEngine

#: Events not yet taken by the client, in bytes, past which it counts as not reading and its call is ended, over
#: either transport: a client that never reads must not grow the server without bound (a whole reply's audio is a
#: few hundred kB).
MAX_UNSENT_BYTES = 16 * 1024 * 1024


class CallSummary(TypedDict):
    """One row of the control API's call list (``GET /_local/calls``)."""

    call_id: str
    transport: Literal["webrtc", "websocket"]
    connection_state: str
    channel_open: bool
    session_id: str


class Call(Protocol):
    """One live session over some transport, wrapped around its own session engine."""

    call_id: str
    engine: SessionEngine

    @property
    def frame_send_times(self) -> list[float]:
        """When each outgoing audio frame left (``time.monotonic()``), if the server records timing; the list is
        live (the control API clears it to start a new measurement). Empty where audio goes out as events."""
        ...

    def describe(self) -> CallSummary:
        """A summary for the control API's call list."""
        ...

    async def close(self) -> None:
        """End the call (engine, tasks, sockets). Safe to call more than once."""
        ...

    async def drop(self) -> None:
        """End the call abruptly, as a crashed server would."""
        ...

    def close_channel(self) -> None:
        """Close only the event path (data channel or socket), as a flaky network would."""
        ...
