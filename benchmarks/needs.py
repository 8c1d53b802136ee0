"""What a benchmark needs from this machine beyond the package itself: checked at the start of its ``run(quick)``,
so that ``python -m benchmarks`` skips it with a line saying what is missing instead of failing the whole run.

A missing Python module needs no check: the runner reports the ``ModuleNotFoundError`` of a module outside this
repository the same way.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


class UnavailableError(Exception):
    """Something a benchmark needs is missing here; the message says what, and how to get it."""


def speech() -> None:
    """The offline voice model's real speech: PocketSphinx and eSpeak NG (the ``speech`` extra). Without them the
    local server falls back to a tone and no recognition, which would measure something else."""
    missing = [name for name in ("pocketsphinx", "espeakng_loader") if importlib.util.find_spec(name) is None]
    if missing:
        raise UnavailableError(
            f"needs the speech extra ({', '.join(missing)} not installed: pip install 'realtime-widget[speech]')"
        )


def chromium() -> None:
    """Playwright and Debian's Chromium (the path the end-to-end tests use)."""
    from tests.e2e.harness import CHROMIUM

    if importlib.util.find_spec("playwright") is None:
        raise UnavailableError("needs Playwright (pip install playwright)")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        raise UnavailableError(
            f"needs Chromium at {CHROMIUM} (apt-get install chromium, or set REALTIME_WIDGET_CHROMIUM)"
        )
