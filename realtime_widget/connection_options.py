"""How the browser connects: microphone constraints, ICE servers, bitrate cap, reconnect policy, stats rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlparse

from realtime_widget.protocol.rules import RECONNECT

Transport = Literal["auto", "webrtc", "websocket"]
TRANSPORTS: tuple[Transport, ...] = get_args(Transport)


def check_transport(transport: object) -> Transport:
    """``transport`` as given, or ``ValueError``/``TypeError`` naming the choices."""
    if not isinstance(transport, str):
        raise TypeError(f"transport must be one of {', '.join(TRANSPORTS)}; got {type(transport).__name__}")
    for choice in TRANSPORTS:
        if transport == choice:
            return choice
    raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}; got {transport!r}")


def route_options(transport: Transport, local_server_url: str | None) -> dict[str, Any]:
    """The ``options`` trait's transport fields: which transport, and the local server's port (for the Jupyter
    and Colab proxy routes, which reach a port on the kernel's machine); ``None`` for any other server."""
    port = urlparse(local_server_url).port if local_server_url is not None else None
    return {"transport": transport, "local_server_port": port}


@dataclass(frozen=True)
class ConnectionOptions:
    """Options for the browser side of the connection.

    Args:
        echo_cancellation, noise_suppression, auto_gain_control: the microphone's processing (all on by default,
            as a call needs; turn them off to record the raw signal).
        microphone: a ``deviceId`` from the browser, or ``None`` for the default microphone.
        ice_servers: ``RTCIceServer`` dicts (e.g. a TURN server for networks that block UDP); none by default,
            as the Realtime API needs none.
        max_bitrate_kbps: a cap on the Opus bitrate sent, or ``None``.
        reconnect_attempts: how many times a dropped connection is retried (with a fresh key) before giving up.
        reconnect_base_delay_ms, reconnect_max_delay_ms: exponential backoff between attempts.
        disconnect_grace_ms: how long a ``disconnected`` peer may recover by itself before it counts as lost.
        stats_interval_ms: how often ``getStats()`` is sampled.
    """

    echo_cancellation: bool = True
    noise_suppression: bool = True
    auto_gain_control: bool = True
    microphone: str | None = None
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    max_bitrate_kbps: int | None = None
    reconnect_attempts: int = RECONNECT.max_attempts
    reconnect_base_delay_ms: int = RECONNECT.base_delay_ms
    reconnect_max_delay_ms: int = RECONNECT.max_delay_ms
    disconnect_grace_ms: int = 5000
    stats_interval_ms: int = 1000

    def __post_init__(self) -> None:
        if self.max_bitrate_kbps is not None and not 6 <= self.max_bitrate_kbps <= 510:
            raise ValueError("max_bitrate_kbps must be between 6 and 510 (Opus' range)")
        if self.reconnect_attempts < 0:
            raise ValueError("reconnect_attempts cannot be negative")
        if self.stats_interval_ms < 100:
            raise ValueError("stats_interval_ms must be at least 100")

    def to_trait(self) -> dict[str, Any]:
        """The ``options`` trait the browser reads (docs/wire.md)."""
        return {
            "audio": {
                "echoCancellation": self.echo_cancellation,
                "noiseSuppression": self.noise_suppression,
                "autoGainControl": self.auto_gain_control,
                "deviceId": self.microphone,
            },
            "ice_servers": list(self.ice_servers),
            "max_bitrate_kbps": self.max_bitrate_kbps,
            "reconnect": {
                "max_attempts": self.reconnect_attempts,
                "base_delay_ms": self.reconnect_base_delay_ms,
                "max_delay_ms": self.reconnect_max_delay_ms,
            },
            "disconnect_grace_ms": self.disconnect_grace_ms,
            "stats_interval_ms": self.stats_interval_ms,
        }
