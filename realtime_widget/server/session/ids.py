"""Identifiers in the forms the Realtime API uses: a prefix, an underscore, then random letters and digits."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 22) -> str:
    """A fresh id such as ``event_CZ3k...``; ``prefix`` is ``event``, ``item``, ``resp``, ``sess``, ``rtc``, ``call``,
    ``ek`` or ``sk``."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
