"""Checks of public arguments shared by the widget, headless sessions and tools: a wrong type or value raises at
once, naming the argument, instead of failing later and elsewhere."""

from __future__ import annotations

import math


def check_seconds(argument: str, value: object, *, optional: bool = False) -> None:
    """``value`` is a finite, positive number of seconds (or ``None`` when ``optional``); else a ``TypeError`` or
    ``ValueError`` naming ``argument``."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{argument} must be a number of seconds; got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{argument} must be a positive, finite number of seconds; got {value}")
