"""Faults a test can ask for (through ``/_local/``), each the way it happens in the field: the next ``/calls``
answered with a 500, or an answer whose ICE candidates nothing listens on (a firewall that drops UDP)."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Literal

NextCallFault = Literal["server_error", "unreachable_ice"]
NEXT_CALL_FAULTS: tuple[NextCallFault, ...] = ("server_error", "unreachable_ice")

_CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ \S+ )(\d+)( .*)$", re.MULTILINE)


@dataclass
class Faults:
    """The faults armed for the next requests; each is used once."""

    next_call: NextCallFault | None = None

    def take_next_call(self) -> NextCallFault | None:
        fault, self.next_call = self.next_call, None
        return fault


def closed_udp_port() -> int:
    """A loopback UDP port that nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_candidates(answer_sdp: str) -> str:
    """The answer with every candidate's port replaced by a closed one: the browser's connectivity checks go
    unanswered and ICE never connects, as behind a firewall that drops UDP (the server learns the browser only
    from those checks, since the widget's offer carries no candidates)."""
    port = closed_udp_port()
    return _CANDIDATE.sub(lambda m: f"{m.group(1)}{port}{m.group(3)}", answer_sdp)
