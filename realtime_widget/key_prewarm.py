"""Pre-warmed ephemeral keys: one fresh key waiting in each browser front end, so a click connects without asking
the kernel.

A front end asks (``rtw:key_request``) when the widget is displayed and again after it has used its key, and says
when it goes away (``rtw:key_release``, a page closed or reloaded); at most ``MAX_CLIENTS`` are kept. The kernel
mints a key in the background and pushes it as a custom message (``rtw:key``, docs/wire.md), then replaces it
before it expires and whenever the session config changes (a key carries the config it was minted with). The key
is only ever in that message: never a trait, saved state, log line or repr. Without a running event loop (a script)
nothing is pre-warmed and the front end falls back to the ``mint_key`` command.

Everything runs on one event loop, the one the widget was made on (the kernel's main loop): ipykernel 7 may call
comm handlers from a subshell's thread, whose loop is not the one that keeps running between messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .background import BackgroundTasks
from .errors import RealtimeWidgetError
from .keys import EphemeralKey

log = logging.getLogger(__name__)

#: How many front ends (pages showing the widget) are kept supplied; the oldest is dropped past this.
MAX_CLIENTS = 4
#: A config edited several times in a row (typing instructions) is minted for once, this long after the last edit.
CONFIG_SETTLE_S = 0.5
#: A background mint that has not answered by then counts as failed.
MINT_TIMEOUT_S = 30.0
#: A failed mint is retried this much later; the front end meanwhile falls back to asking with ``mint_key``.
RETRY_AFTER_FAILURE_S = 30.0


def refresh_after_s(key: EphemeralKey) -> float:
    """When to replace ``key``: at three quarters of its life, and at least 5 s before it expires, so a front end
    never holds a key about to stop working (it also refuses one with under 5 s left, docs/wire.md)."""
    left = key.seconds_left()
    return max(0.0, min(left * 0.75, left - 5.0))


@dataclass
class _Client:
    """What one front end is owed: a key of the current config generation, replaced on a timer."""

    generation: int = -1
    timer: asyncio.TimerHandle | None = None
    minting: bool = False

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class KeyPrewarmer:
    """Keeps one fresh ephemeral key in each front end that asks for one.

    Args:
        mint: mints a key for the current config (``KeyMinter.amint`` bound to it); raises
            :class:`RealtimeWidgetError` when it cannot.
        push: sends a custom message to the browser (``widget.send``).
        on_minted: told of each key minted, for the record (no secret: only when and for whom).
        settings: the widget's ``settings`` trait of the config being minted for; sent with the key, so a front
            end whose settings are the same knows the key's session already has them and skips its
            ``session.update`` (docs/wire.md "Pre-warmed key").
    """

    def __init__(
        self,
        mint: Callable[[], Awaitable[EphemeralKey]],
        push: Callable[[dict[str, Any]], None],
        on_minted: Callable[[dict[str, Any]], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        settings: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self._loop = loop or _running_loop()
        self._mint = mint
        self._push = push
        self._on_minted = on_minted
        self._settings = settings
        self._clients: dict[str, _Client] = {}
        self._generation = 0
        self._settle: asyncio.TimerHandle | None = None
        self._background = BackgroundTasks("key pre-warm", log)
        self._closed = False

    @property
    def clients(self) -> list[str]:
        """The front ends being kept supplied, oldest first."""
        return list(self._clients)

    def request(self, client: str) -> None:
        """A front end wants a key (it was displayed, or it used the last one): mint one and push it."""
        if client:
            self._on_loop(self._request, client)

    def release(self, client: str) -> None:
        """A front end is going away (its page was closed or reloaded): stop minting keys for it."""
        if client:
            self._on_loop(self._forget, client)

    def config_changed(self) -> None:
        """The session config changed, so the keys out there carry an old one: withdraw them, and push keys of
        the new config once the edits settle."""
        self._on_loop(self._config_changed)

    def close(self) -> None:
        """Stops replacing keys; the front ends keep theirs until used or expired."""
        self._on_loop(self._close)

    def _on_loop(self, fn: Callable[..., None], *args: Any) -> None:
        if self._loop is None:
            self._loop = _running_loop()
        if self._loop is None or self._loop.is_closed():
            return  # no event loop (a script): nothing to pre-warm
        if _running_loop() is self._loop:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def _request(self, client: str) -> None:
        if self._closed:
            return
        state = self._clients.pop(client, None) or _Client()
        self._clients[client] = state  # most recent last
        while len(self._clients) > MAX_CLIENTS:
            oldest = next(iter(self._clients))
            self._forget(oldest)
        state.cancel_timer()
        self._start_mint(client, state)

    def _config_changed(self) -> None:
        if self._closed:
            return
        self._generation += 1
        for client, state in self._clients.items():
            state.cancel_timer()
            self._push({"type": "rtw:key", "client": client, "value": None})
        if not self._clients:
            return
        if self._settle is not None:
            self._settle.cancel()
        self._settle = asyncio.get_running_loop().call_later(CONFIG_SETTLE_S, self._remint_all)

    def _close(self) -> None:
        self._closed = True
        if self._settle is not None:
            self._settle.cancel()
        for client in list(self._clients):
            self._forget(client)
        self._background.spawn(self._background.cancel_all())

    def _forget(self, client: str) -> None:
        state = self._clients.pop(client, None)
        if state is not None:
            state.cancel_timer()

    def _remint_all(self) -> None:
        self._settle = None
        for client, state in list(self._clients.items()):
            self._start_mint(client, state)

    def _start_mint(self, client: str, state: _Client) -> None:
        if self._closed or self._clients.get(client) is not state:
            return  # a timer of a front end since dropped
        if state.minting:
            return  # the mint under way is re-checked against the generation when it ends
        state.minting = True
        self._background.spawn(self._mint_for(client, state))

    async def _mint_for(self, client: str, state: _Client) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self._closed:
                generation = self._generation
                # Read with the config the mint reads; a change meanwhile bumps the generation and discards both.
                settings = self._settings() if self._settings is not None else None
                try:
                    # Bounded, so that a mint that never answers cannot hold this front end's supply forever.
                    key = await asyncio.wait_for(self._mint(), MINT_TIMEOUT_S)
                except (RealtimeWidgetError, TimeoutError, OSError, RuntimeError) as exc:
                    # The front end asks with mint_key at its next click and shows that error properly.
                    code = exc.info.code if isinstance(exc, RealtimeWidgetError) else type(exc).__name__
                    log.info("could not pre-warm a key (%s); retrying in %.0f s", code, RETRY_AFTER_FAILURE_S)
                    if self._clients.get(client) is state:
                        state.timer = loop.call_later(RETRY_AFTER_FAILURE_S, self._start_mint, client, state)
                    return
                if self._closed or self._clients.get(client) is not state:
                    return
                if generation != self._generation:
                    continue  # the config changed while minting: that key carries the old one
                state.generation = generation
                self._push(
                    {
                        "type": "rtw:key",
                        "client": client,
                        "value": key.reveal(),
                        "expires_at": int(key.expires_at.timestamp()),
                        # Relative, so the browser needs no clock agreement with the server that minted it.
                        "expires_in_ms": int(key.seconds_left() * 1000),
                        **({"settings": settings} if settings is not None else {}),
                    }
                )
                if self._on_minted is not None:
                    self._on_minted({"client": client, "expires_at": int(key.expires_at.timestamp())})
                state.cancel_timer()
                state.timer = loop.call_later(refresh_after_s(key), self._start_mint, client, state)
                return
        finally:
            state.minting = False


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
