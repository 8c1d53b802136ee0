"""Shared by every test folder: a test past its time limit fails alone and leaves a report (tests/timeouts.py)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from . import timeouts


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own thread method: it ends the process itself
    return timeouts.set_timer(item, settings)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    try:
        return (yield)
    finally:
        timeouts.protocol_ended(item)
