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


def test_expired_keys_are_forgotten_and_live_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = KeyStore("sk-standard", max_live_keys=5)
    first = keys.mint(10, {"type": "realtime"})
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 11)
    keys.mint(10, {"type": "realtime"})
    assert len(keys) == 1  # the expired one went when the next was minted
    minted = [keys.mint(60, {"type": "realtime"}) for _ in range(10)]
    assert len(keys) == 5
    assert keys.check(f"Bearer {first.value}", allow_ephemeral=True) is None
    assert keys.check(f"Bearer {minted[0].value}", allow_ephemeral=True) is None  # the oldest live keys went first
    assert all(keys.check(f"Bearer {k.value}", allow_ephemeral=True) for k in minted[-5:])
