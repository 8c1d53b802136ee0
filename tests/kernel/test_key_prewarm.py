"""The kernel's pre-warmed keys: pushed when asked, replaced before expiry and when the config changes, secret-free
record and reprs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from realtime_widget import RealtimeWidget, key_prewarm
from realtime_widget.errors import ErrorInfo, RealtimeWidgetError
from realtime_widget.key_prewarm import KeyPrewarmer, refresh_after_s
from realtime_widget.keys import EphemeralKey
from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.voice.loader import fallback_voice_model

LOCAL_KEY = "sk-" + "local" * 6


@pytest.fixture
async def local_server_url() -> AsyncIterator[str]:
    """A real local server in this process, minting real keys over real HTTP."""
    server = RealtimeServer(LOCAL_KEY, deps=fallback_voice_model())
    await server.start()
    try:
        yield server.base_url
    finally:
        await server.stop()


class Minter:
    """Mints numbered keys that live ``ttl`` seconds; ``gate`` holds a mint until the test releases it."""

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self.count = 0
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> EphemeralKey:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RealtimeWidgetError(ErrorInfo("network", "down", ""))
        self.count += 1
        return EphemeralKey(f"ek_test_{self.count}", datetime.now(UTC) + timedelta(seconds=self.ttl))


async def until(condition: Any) -> None:
    """Waits for ``condition()``, polling; ten seconds at most, because the machine may be loaded."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never held")


def keys_for(sent: list[dict[str, Any]], client: str) -> list[str | None]:
    return [m["value"] for m in sent if m["type"] == "rtw:key" and m["client"] == client]


async def test_a_key_is_pushed_to_the_front_end_that_asked() -> None:
    sent: list[dict[str, Any]] = []
    minted: list[dict[str, Any]] = []
    warm = KeyPrewarmer(Minter(), sent.append, minted.append)
    warm.request("page-1")
    await until(lambda: sent)
    [message] = sent
    assert message["client"] == "page-1"
    assert message["value"] == "ek_test_1"
    assert 590_000 < message["expires_in_ms"] <= 600_000
    assert minted == [{"client": "page-1", "expires_at": message["expires_at"]}]  # no secret in the record
    warm.close()


async def test_a_key_is_replaced_before_it_expires() -> None:
    sent: list[dict[str, Any]] = []
    minter = Minter(ttl=5.2)  # replaced at 0.2 s: 5 s before it expires
    warm = KeyPrewarmer(minter, sent.append)
    warm.request("page-1")
    await until(lambda: len(sent) >= 3)
    assert keys_for(sent, "page-1")[:3] == ["ek_test_1", "ek_test_2", "ek_test_3"]
    warm.close()


def test_keys_are_replaced_at_three_quarters_of_their_life_and_at_least_5_s_early() -> None:
    now = datetime.now(UTC)
    assert refresh_after_s(EphemeralKey("ek_a", now + timedelta(seconds=600))) == pytest.approx(450, abs=1)
    assert refresh_after_s(EphemeralKey("ek_b", now + timedelta(seconds=12))) == pytest.approx(7, abs=0.5)
    assert refresh_after_s(EphemeralKey("ek_c", now + timedelta(seconds=3))) == 0


async def test_a_config_change_withdraws_the_keys_at_once_and_pushes_new_ones_once_edits_settle() -> None:
    sent: list[dict[str, Any]] = []
    minter = Minter()
    warm = KeyPrewarmer(minter, sent.append)
    warm.request("page-1")
    await until(lambda: sent)
    for _ in range(5):  # typing: one mint for the lot
        warm.config_changed()
    assert keys_for(sent, "page-1")[1:] == [None] * 5
    await until(lambda: keys_for(sent, "page-1")[-1] is not None)
    assert keys_for(sent, "page-1")[-1] == "ek_test_2"
    assert minter.count == 2
    warm.close()


async def test_a_key_carries_the_settings_read_when_its_mint_began() -> None:
    sent: list[dict[str, Any]] = []
    settings = {"instructions": "first"}
    warm = KeyPrewarmer(Minter(), sent.append, settings=lambda: dict(settings))
    warm.request("page-1")
    await until(lambda: sent)
    assert sent[0]["settings"] == {"instructions": "first"}
    settings["instructions"] = "second"
    warm.config_changed()
    await until(lambda: keys_for(sent, "page-1")[-1] is not None)
    assert sent[-1]["settings"] == {"instructions": "second"}
    warm.close()


async def test_a_key_minted_under_an_old_config_is_never_pushed() -> None:
    sent: list[dict[str, Any]] = []
    minter = Minter()
    minter.gate = asyncio.Event()
    warm = KeyPrewarmer(minter, sent.append)
    warm.request("page-1")
    await asyncio.sleep(0.01)
    warm.config_changed()  # while the first mint is under way
    minter.gate.set()
    await until(lambda: any(v is not None for v in keys_for(sent, "page-1")))
    assert [v for v in keys_for(sent, "page-1") if v is not None] == ["ek_test_2"]
    warm.close()


async def test_a_failed_mint_pushes_nothing_and_the_front_end_falls_back_to_asking() -> None:
    sent: list[dict[str, Any]] = []
    minter = Minter()
    minter.fail = True
    warm = KeyPrewarmer(minter, sent.append)
    warm.request("page-1")
    await asyncio.sleep(0.05)
    assert sent == []
    warm.close()


async def test_a_mint_that_hangs_or_breaks_is_retried_rather_than_blocking_the_front_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(key_prewarm, "MINT_TIMEOUT_S", 0.05)
    monkeypatch.setattr(key_prewarm, "RETRY_AFTER_FAILURE_S", 0.05)
    sent: list[dict[str, Any]] = []
    minter = Minter()
    minter.gate = asyncio.Event()  # the first mint never answers
    warm = KeyPrewarmer(minter, sent.append)
    warm.request("page-1")
    await asyncio.sleep(0.1)
    assert sent == []
    minter.gate = None
    await until(lambda: keys_for(sent, "page-1"))  # retried after the timeout

    broken = KeyPrewarmer(Boom(), sent.append)
    broken.request("page-2")
    await asyncio.sleep(0.1)  # failed twice (retried), without an exception escaping
    assert keys_for(sent, "page-2") == []
    assert broken.clients == ["page-2"]
    warm.close()
    broken.close()


class Boom:
    """A mint that fails as a broken HTTP client does: not with the widget's own error."""

    async def __call__(self) -> EphemeralKey:
        raise RuntimeError("the client was closed")


async def test_only_the_latest_few_front_ends_are_kept_supplied() -> None:
    sent: list[dict[str, Any]] = []
    warm = KeyPrewarmer(Minter(), sent.append)
    for n in range(6):
        warm.request(f"page-{n}")
    assert warm.clients == ["page-2", "page-3", "page-4", "page-5"]
    warm.close()
    assert warm.clients == []


async def test_a_released_front_end_gets_no_more_keys() -> None:
    sent: list[dict[str, Any]] = []
    minter = Minter(ttl=5.2)  # would be replaced every 0.2 s
    warm = KeyPrewarmer(minter, sent.append)
    warm.request("page-1")
    warm.request("page-2")
    await until(lambda: keys_for(sent, "page-1") and keys_for(sent, "page-2"))
    warm.release("page-1")  # its page was reloaded or closed
    assert warm.clients == ["page-2"]
    count = len(keys_for(sent, "page-1"))
    await until(lambda: len(keys_for(sent, "page-2")) >= 3)  # the other page's keys keep being replaced
    assert len(keys_for(sent, "page-1")) == count
    warm.config_changed()
    assert keys_for(sent, "page-1")[-1] is not None  # not even a withdrawal: that page is gone
    warm.close()


def test_without_an_event_loop_nothing_is_pre_warmed() -> None:
    sent: list[dict[str, Any]] = []
    warm = KeyPrewarmer(Minter(), sent.append)
    warm.request("page-1")
    assert sent == []
    assert warm.clients == []


async def test_the_widget_pushes_keys_as_custom_messages_never_as_state(local_server_url: str) -> None:
    widget = RealtimeWidget(base_url=local_server_url, api_key=LOCAL_KEY)
    sent: list[dict[str, Any]] = []
    widget.send = sent.append  # type: ignore[method-assign]
    try:
        assert widget._keys.clients == []  # nobody displays it yet: no key is minted or pushed
        widget._on_custom_message(widget, {"type": "rtw:key_request", "client": "page-1"}, [])
        await until(lambda: keys_for(sent, "page-1"))
        [key] = keys_for(sent, "page-1")
        assert key is not None
        assert key.startswith("ek_")
        shown = repr(widget) + repr(widget.record) + str(widget.get_state()) + repr(widget.record.timeline)
        assert key not in shown
        assert "key_prewarmed" in set(widget.record.timeline["what"])
        # Each key says which settings its session was minted with, so a page with the same ones need not send them.
        pushed = [m for m in sent if m["type"] == "rtw:key" and m["value"] is not None]
        assert pushed[0]["settings"] == widget.settings
        widget.update_session(instructions="Answer in French.")
        await until(lambda: len(keys_for(sent, "page-1")) >= 3)
        assert keys_for(sent, "page-1")[1] is None  # withdrawn at once, then replaced
        assert keys_for(sent, "page-1")[2] not in (None, key)
        pushed = [m for m in sent if m["type"] == "rtw:key" and m["value"] is not None]
        assert pushed[-1]["settings"]["instructions"] == "Answer in French."
        assert pushed[-1]["settings"] == widget.settings
        widget._on_custom_message(widget, {"type": "rtw:key_release", "client": "page-1"}, [])
        await until(lambda: widget._keys.clients == [])
    finally:
        widget.close()
