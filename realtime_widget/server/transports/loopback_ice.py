"""Keep aiortc's ICE on loopback.

aioice lists the machine's interfaces and deliberately skips 127.0.0.1, so an aiortc peer would offer only
external addresses. The local server must never send traffic off the machine, so it gathers loopback only.
aiortc exposes no option for this; replacing the module-level ``aioice.ice.get_host_addresses`` (which
``Connection.gather_candidates`` looks up at call time) is the one seam there is.
"""

from __future__ import annotations

import aioice.ice


def _loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


def restrict_ice_to_loopback() -> None:
    """Make every aiortc peer in this process gather only 127.0.0.1 (idempotent)."""
    aioice.ice.get_host_addresses = _loopback_addresses
