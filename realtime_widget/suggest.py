"""The "did you mean" in every message about an unknown name: one spelling of it for options, fields and tools."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: object, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (a likely misspelling of it), or ``None`` when none is close."""
    matches = difflib.get_close_matches(str(name), list(known), n=1)
    return matches[0] if matches else None


def did_you_mean(name: object, known: Iterable[str], *, otherwise: str = "") -> str:
    """``"; did you mean 'voice'?"`` for a name close to a known one, else ``otherwise`` (e.g. a list of what is
    known); appended to a message such as ``"unknown option 'voise'"``."""
    match = closest(name, known)
    return f"; did you mean {match!r}?" if match is not None else otherwise
