"""API keys: the standard key given at start-up, and the ephemeral ``ek_`` keys minted from it."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from realtime_widget.protocol.rules import DEFAULT_KEY_TTL_S, KEY_TTL_RANGE_S
from realtime_widget.server.session.ids import new_id

MIN_TTL_S, MAX_TTL_S = KEY_TTL_RANGE_S
DEFAULT_TTL_S = DEFAULT_KEY_TTL_S
#: Live ephemeral keys kept at most; minting more forgets the oldest. A bound of ours (the API documents none): with
#: session objects of at most 1 MiB (``MAX_SESSION_JSON_BYTES``) the store stays well under a gigabyte, and no
#: notebook holds a thousand keys at once.
MAX_LIVE_KEYS = 1000


@dataclass(frozen=True)
class EphemeralKey:
    value: str
    expires_at: int
    session: dict[str, Any]


@dataclass(frozen=True)
class Credential:
    """Who is calling: the standard key, or an ephemeral key carrying the session it was minted with."""

    kind: Literal["standard", "ephemeral"]
    session: dict[str, Any] | None = None


@dataclass
class KeyStore:
    """Checks ``Authorization: Bearer`` values. Ephemeral keys create sessions until they expire and can be used
    for several sessions, as the API's are. Expired keys are forgotten whenever a key is minted, and at most
    ``max_live_keys`` are kept (the oldest go first)."""

    standard_key: str
    max_live_keys: int = MAX_LIVE_KEYS
    _ephemeral: dict[str, EphemeralKey] = field(default_factory=dict)
    #: How far the store's clock runs ahead of the wall clock (a test control: keys expire sooner).
    clock_ahead_s: float = 0.0

    def now(self) -> float:
        """The store's time (Unix seconds): the wall clock, plus what tests advanced it by."""
        return time.time() + self.clock_ahead_s

    def mint(self, ttl_s: int, session: dict[str, Any]) -> EphemeralKey:
        """A new ``ek_`` key valid for ``ttl_s`` seconds (the caller has checked the range)."""
        self._forget_expired()
        while len(self._ephemeral) >= self.max_live_keys:
            del self._ephemeral[next(iter(self._ephemeral))]  # dicts keep insertion order: the oldest key
        key = EphemeralKey(new_id("ek", 32), int(self.now()) + ttl_s, session)
        self._ephemeral[key.value] = key
        return key

    def __len__(self) -> int:
        """How many ephemeral keys are held (expired ones included until the next mint)."""
        return len(self._ephemeral)

    def check(self, authorization: str | None, *, allow_ephemeral: bool) -> Credential | None:
        """The credential for an ``Authorization`` header value, or ``None`` when missing, wrong or expired."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer ") :].strip()
        if hmac.compare_digest(token.encode(), self.standard_key.encode()):
            return Credential("standard")
        if allow_ephemeral and token.startswith("ek_"):
            key = self._ephemeral.get(token)
            if key is not None and key.expires_at > self.now():
                return Credential("ephemeral", key.session)
        return None

    def is_expired(self, authorization: str | None) -> bool:
        """Whether this header carries an ephemeral key this store minted that has since expired."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        key = self._ephemeral.get(token) if token.startswith("ek_") else None
        return key is not None and key.expires_at <= self.now()

    def _forget_expired(self) -> None:
        now = self.now()
        for value in [v for v, k in self._ephemeral.items() if k.expires_at <= now]:
            del self._ephemeral[value]
