"""Ephemeral keys: they expire for creating sessions after ``expires_after.seconds``."""

from __future__ import annotations

import time

import pytest

from realtime_widget.server.http.auth import KeyStore


def test_ephemeral_key_works_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = KeyStore("sk-standard")
    key = keys.mint(10, {"type": "realtime"})
    assert keys.check(f"Bearer {key.value}", allow_ephemeral=True) is not None
    assert keys.check(f"Bearer {key.value}", allow_ephemeral=True) is not None  # reusable while valid
    assert keys.check(f"Bearer {key.value}", allow_ephemeral=False) is None
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 11)
    assert keys.check(f"Bearer {key.value}", allow_ephemeral=True) is None


def test_standard_key_and_malformed_headers() -> None:
    keys = KeyStore("sk-standard")
    assert keys.check("Bearer sk-standard", allow_ephemeral=False) is not None
    for header in (None, "", "sk-standard", "Basic sk-standard", "Bearer sk-other", "Bearer ek_nope"):
        assert keys.check(header, allow_ephemeral=True) is None
