"""The standard API key, and the short-lived ephemeral keys minted from it for the browser.

The standard key never leaves the kernel: :class:`KeyMinter` posts the session settings to
``{base_url}/realtime/client_secrets`` and gets back an :class:`EphemeralKey` that the browser uses once to open the
WebRTC call. Both key types print redacted (``SecretKey('sk-…abcd')``), so neither ends up in a notebook's output,
a log or an error message by accident.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import hmac
import os
import random
import re
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from .errors import ErrorInfo, RealtimeWidgetError
from .protocol.rules import KEY_TTL_RANGE_S

__all__ = [
    "DEFAULT_TIMEOUT",
    "EphemeralKey",
    "KeyMinter",
    "SecretKey",
    "resolve_api_key",
]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
"""Connect fast or fail fast; minting itself can take a few seconds on a busy day."""

# Waiting longer than this inside a retry would leave the user staring at "minting"; better to say so and stop.
_MAX_RETRY_AFTER_S = 20.0
_MAX_BACKOFF_S = 8.0
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_KEYLIKE = re.compile(r"\b(?:sk|ek|rk)[-_][A-Za-z0-9_*.\-]{6,}")


class SecretKey:
    """A key that prints redacted: ``SecretKey('sk-…abcd')`` (at most the last four characters show).

    Use :meth:`reveal` at the one place the real value is needed. Comparison is constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | SecretKey) -> None:
        raw = value.reveal() if isinstance(value, SecretKey) else value
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("an API key must be a non-empty string")
        key = raw.strip()
        if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
            # Such a key can only be a paste gone wrong; sending it would fail in the HTTP layer, whose error
            # message quotes the header (the key) and reads like a network problem. The key is not echoed here.
            raise ValueError(
                "this is not a valid API key: it contains spaces, line breaks or non-ASCII characters "
                "(copy it again from the platform's API keys page)"
            )
        self._value = key

    def reveal(self) -> str:
        """The key itself. Call it only where the key is sent, never to print or log it."""
        return self._value

    @property
    def redacted(self) -> str:
        """The key as it is safe to show: its kind prefix and, for long keys, the last four characters."""
        value = self._value
        prefix = next((p for p in ("sk-proj-", "sk-", "ek_", "rk-") if value.startswith(p)), "")
        tail = value[-4:] if len(value) >= 20 else ""
        return f"{prefix}…{tail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.redacted!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((SecretKey, self._value))

    def __reduce__(self) -> Any:
        # Pickling (multiprocessing, caching libraries, saving the notebook state) would write the key to disk.
        raise TypeError("a SecretKey cannot be pickled; pass the key to the other process yourself if you must")


def resolve_api_key(explicit: str | SecretKey | None = None) -> SecretKey | None:
    """The key to use: ``explicit`` if given (and not blank), else ``OPENAI_API_KEY`` from the environment, else None.

    ``None`` means no key is available; the widget then starts the local offline server.
    """
    if isinstance(explicit, SecretKey):
        return explicit
    if explicit is not None and explicit.strip():
        return SecretKey(explicit)
    from_env = os.environ.get("OPENAI_API_KEY", "")
    return SecretKey(from_env) if from_env.strip() else None


@dataclass(frozen=True, repr=False)
class EphemeralKey:
    """A client secret (``ek_…``) for one browser connection, its expiry, and the session the server will apply.

    The browser uses it once, for ``POST /v1/realtime/calls``; it stops working for new calls at ``expires_at``.
    """

    value: SecretKey
    expires_at: datetime
    session: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.value, SecretKey):
            object.__setattr__(self, "value", SecretKey(self.value))
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware (for example datetime.now(UTC))")

    def reveal(self) -> str:
        """The secret itself, for the one reply that hands it to the browser."""
        return self.value.reveal()

    def seconds_left(self, now: datetime | None = None) -> float:
        """Seconds until the key expires (negative once it has)."""
        return (self.expires_at - (now or datetime.now(UTC))).total_seconds()

    @property
    def expired(self) -> bool:
        """True once the key can no longer open a call."""
        return self.seconds_left() <= 0

    def to_reply(self) -> dict[str, Any]:
        """The ``mint_key`` command's success reply (``docs/wire.md``): ``{"ok": true, "value", "expires_at"}``."""
        return {"ok": True, "value": self.reveal(), "expires_at": int(self.expires_at.timestamp())}

    def __repr__(self) -> str:
        return f"EphemeralKey({self.value.redacted!r}, expires_at={self.expires_at.isoformat(timespec='seconds')})"


# ---- interpreting one HTTP exchange ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: the error to raise if it is the last, and whether another attempt may help.

    ``wait_s`` is the wait the server asked for (``Retry-After``); without it our own backoff applies.
    """

    error: RealtimeWidgetError
    retryable: bool
    wait_s: float | None = None

    @classmethod
    def final(cls, info: ErrorInfo) -> _Failure:
        return cls(RealtimeWidgetError(info), retryable=False)


class KeyMinter:
    """Mints ephemeral keys with the standard key, over one reused HTTP connection pool.

    Args:
        base_url: The API root, ``"https://api.openai.com/v1"`` or a local server's ``"http://127.0.0.1:8765/v1"``.
        api_key: The standard key (a :class:`SecretKey`, or a str which is wrapped).
        timeout: An ``httpx.Timeout``; connect and read limits matter most. Default: :data:`DEFAULT_TIMEOUT`.
        max_retries: Extra attempts after a rate limit (429), a server error (5xx), a refused connection or a
            timeout. Other answers (401, 403, 400, ...) are final at once.
        backoff_base_s: The first wait between attempts; each next wait doubles, with random jitter. A
            ``Retry-After`` header from the server takes precedence.
        client: An ``httpx.Client`` to use instead of creating one (it is then not closed by :meth:`close`).
        organization: Sent as ``OpenAI-Organization`` when given.
        project: Sent as ``OpenAI-Project`` when given.

    Use it as a context manager, or call :meth:`close` when done::

        with KeyMinter("https://api.openai.com/v1", resolve_api_key()) as minter:
            key = minter.mint(SessionConfig().to_session())
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretKey | str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff_base_s: float = 0.25,
        client: httpx.Client | None = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must start with http:// or https://; got {base_url!r}")
        self.url = base_url.rstrip("/") + "/realtime/client_secrets"
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self._key = SecretKey(api_key)
        self._owns_client = client is None
        # A proxy from the environment (HTTPS_PROXY) cannot reach this machine's loopback server: ignore it there.
        self._trust_env = not self.is_local
        self._client = client if client is not None else httpx.Client(**self._client_options())
        self._async_client: httpx.AsyncClient | None = None
        self._extra_headers = {
            name: value for name, value in (("OpenAI-Organization", organization), ("OpenAI-Project", project)) if value
        }

    def __repr__(self) -> str:
        return f"KeyMinter({self.url!r}, {self._key!r}, max_retries={self.max_retries})"

    @property
    def is_local(self) -> bool:
        """True when minting from a server on this machine (the offline local server)."""
        return (urlsplit(self.url).hostname or "") in _LOCAL_HOSTS

    # ---- public API --------------------------------------------------------------------------------------------

    def mint(self, session: dict[str, Any], ttl_seconds: int = 600) -> EphemeralKey:
        """A new ephemeral key for ``session`` (a GA session object, e.g. ``SessionConfig.to_session()``).

        Args:
            session: The session settings the key carries; the call it opens starts with them.
            ttl_seconds: How long the key can open calls, 10 to 7200 seconds (the API's limits).

        Raises:
            RealtimeWidgetError: with ``code`` ``bad_key`` (401), ``no_access`` (403), ``rate_limited`` (429),
                ``server_error`` (5xx or an answer that makes no sense), ``network`` (server unreachable or too
                slow) or ``unknown`` (any other refusal, such as 400 for settings the server rejects).
        """
        body = self._body(session, ttl_seconds)
        attempt = 0
        while True:
            result: httpx.Response | httpx.HTTPError
            try:
                result = self._client.post(self.url, json=body, headers=self._headers())
            except httpx.HTTPError as exc:
                result = exc
            outcome = self._key_or_wait(result, session, attempt)
            if isinstance(outcome, EphemeralKey):
                return outcome
            time.sleep(outcome)
            attempt += 1

    async def amint(self, session: dict[str, Any], ttl_seconds: int = 600) -> EphemeralKey:
        """Like :meth:`mint`, without blocking the event loop (uses its own ``httpx.AsyncClient``)."""
        body = self._body(session, ttl_seconds)
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(**self._client_options())
        client = self._async_client
        attempt = 0
        while True:
            result: httpx.Response | httpx.HTTPError
            try:
                result = await client.post(self.url, json=body, headers=self._headers())
            except httpx.HTTPError as exc:
                result = exc
            outcome = self._key_or_wait(result, session, attempt)
            if isinstance(outcome, EphemeralKey):
                return outcome
            await asyncio.sleep(outcome)
            attempt += 1

    async def ahangup(self, call_id: str) -> bool:
        """Ends a call by its id with the standard key (``POST /realtime/calls/{call_id}/hangup``), which the API
        requires for hang-ups; ``False`` when the server answers that it no longer knows the call (it had ended),
        or could not be reached. Never raises: a hang-up is a courtesy after the browser has closed its side."""
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(**self._client_options())
        url = self.url.removesuffix("/client_secrets") + f"/calls/{call_id}/hangup"
        try:
            response = await self._async_client.post(url, headers=self._headers())
        except httpx.HTTPError:
            return False
        return response.status_code < 300

    def close(self) -> None:
        """Close the connection pool (not one passed in as ``client``)."""
        if self._owns_client:
            self._client.close()

    async def aclose(self) -> None:
        """Close both the async and the sync connection pools."""
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ---- one attempt, shared by mint and amint -----------------------------------------------------------------

    def _client_options(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "trust_env": self._trust_env, "verify": _tls_context()}

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}", **self._extra_headers}

    @staticmethod
    def _body(session: dict[str, Any], ttl_seconds: int) -> dict[str, Any]:
        low, high = KEY_TTL_RANGE_S
        if not low <= ttl_seconds <= high:
            raise ValueError(f"ttl_seconds must be between {low} and {high} (the API's limits); got {ttl_seconds}")
        return {"expires_after": {"anchor": "created_at", "seconds": ttl_seconds}, "session": session}

    def _judge(self, result: httpx.Response | httpx.HTTPError, session: dict[str, Any]) -> EphemeralKey | _Failure:
        if isinstance(result, httpx.TimeoutException):
            error = self._network_error(f"no answer in time ({type(result).__name__})")
            return _Failure(error, retryable=True)
        if isinstance(result, httpx.HTTPError):
            reason = self._scrub(str(result)) or type(result).__name__
            # A refused or dropped connection may work next time; a proxy or URL problem will not.
            retryable = isinstance(result, httpx.NetworkError | httpx.RemoteProtocolError)
            return _Failure(self._network_error(reason), retryable=retryable)
        if result.status_code == 200:
            return self._parse_key(result)
        return self._http_error(result, str(session.get("model") or "the requested model"))

    def _key_or_wait(
        self, result: httpx.Response | httpx.HTTPError, session: dict[str, Any], attempt: int
    ) -> EphemeralKey | float:
        """The key from attempt ``attempt``, or the seconds to wait before the next one; raises when it is time
        to give up."""
        outcome = self._judge(result, session)
        if isinstance(outcome, EphemeralKey):
            return outcome
        wait = self._wait_before_retry(outcome, attempt)
        if wait is None:
            # No chained httpx exception: its frames hold the request headers, which verbose tracebacks print.
            raise outcome.error from None
        return wait

    def _wait_before_retry(self, outcome: _Failure, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when it is time to give up."""
        if attempt >= self.max_retries or not outcome.retryable:
            return None
        if outcome.wait_s is not None:
            # A server that asks for a long pause will not be ready sooner; say so now rather than hang.
            return outcome.wait_s if outcome.wait_s <= _MAX_RETRY_AFTER_S else None
        # Exponential backoff with "equal jitter": never less than half the step, so retries stay spread out.
        step = min(_MAX_BACKOFF_S, self.backoff_base_s * 2.0**attempt)
        return step / 2 + random.uniform(0, step / 2)

    # ---- turning answers into keys or errors -------------------------------------------------------------------

    def _parse_key(self, response: httpx.Response) -> EphemeralKey | _Failure:
        try:
            data = response.json()
            value, expires_at = data["value"], data["expires_at"]
            session = data.get("session") or {}
            if not isinstance(value, str) or not value or not isinstance(expires_at, int | float):
                raise TypeError("value must be a non-empty string and expires_at a number")
            if not isinstance(session, dict):
                raise TypeError("session must be an object")
            expiry = datetime.fromtimestamp(expires_at, UTC)
            key = SecretKey(value)
        except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
            reason = f"{type(exc).__name__}: {self._scrub(str(exc))[:200]}"
            info = ErrorInfo(
                "server_error",
                f"The key server at {self.url} sent an answer that is not a client secret ({reason}).",
                "If this is the local server, restart it; otherwise try again in a minute.",
            )
            # Final: the same server will most likely send the same thing again.
            return _Failure.final(info)
        return EphemeralKey(key, expiry, session)

    def _http_error(self, response: httpx.Response, model: str) -> _Failure:
        status = response.status_code
        server_message, server_code = self._server_error(response)
        said = f" The server said: {server_message}" if server_message else ""
        if status == 401:
            info = ErrorInfo(
                "bad_key",
                f"The API key was rejected (401). Check OPENAI_API_KEY or the api_key argument.{said}",
                "Create or copy a key at https://platform.openai.com/api-keys, then set OPENAI_API_KEY "
                "or pass api_key=... to the widget.",
            )
        elif status == 403:
            info = ErrorInfo(
                "no_access",
                f"This API key has no access to the Realtime model {model!r} (403).{said}",
                "Check the project's model permissions and verification at https://platform.openai.com, "
                "or pick another model with SessionConfig(model=...).",
            )
        elif status == 429:
            out_of_quota = server_code == "insufficient_quota"
            what = "has run out of quota" if out_of_quota else "is being rate-limited"
            info = ErrorInfo(
                "rate_limited",
                f"This API key {what} (429).{said}",
                "Add credit or raise the limits under Billing at https://platform.openai.com."
                if out_of_quota
                else "Wait a moment and connect again; if it keeps happening, check your usage limits.",
            )
            return _Failure(RealtimeWidgetError(info), not out_of_quota, _retry_after_s(response))
        elif status >= 500:
            info = ErrorInfo(
                "server_error",
                f"The key server at {self.url} had an error ({status}).{said}",
                "The local server may have crashed; restart it."
                if self.is_local
                else "Try again in a minute; https://status.openai.com shows outages.",
            )
            return _Failure(RealtimeWidgetError(info), retryable=True, wait_s=_retry_after_s(response))
        else:
            info = ErrorInfo(
                "unknown",
                f"The key server refused the request ({status}).{said}",
                "Check the session settings named in the message." if status in (400, 422) else "",
            )
        return _Failure.final(info)

    def _server_error(self, response: httpx.Response) -> tuple[str, str]:
        # OpenAI answers errors as {"error": {"message", "type", "param", "code"}}; anything else is shown briefly.
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict):
            message = str(error.get("message") or "")
            code = str(error.get("code") or "")
        else:
            message, code = response.text.strip()[:300], ""
        return self._scrub(message), code

    def _network_error(self, reason: str) -> RealtimeWidgetError:
        if self.is_local:
            hint = "The local server may have stopped; restart it (re-creating the widget starts a new one)."
        else:
            hint = "Check the internet connection, a proxy or firewall, and the base_url."
        return RealtimeWidgetError(ErrorInfo("network", f"Could not reach {self.url}: {reason}.", hint))

    def _scrub(self, text: str) -> str:
        # Servers echo keys back (OpenAI's 401 names a masked key): never pass any of it on.
        text = text.replace(self._key.reveal(), self._key.redacted)
        return _KEYLIKE.sub(lambda m: SecretKey(m.group(0)).redacted, text)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx's own default (its CA bundle, SSL_CERT_FILE honoured), built once: loading the bundle takes a
    # noticeable moment, and every widget has a minter.
    return httpx.create_ssl_context()


def _retry_after_s(response: httpx.Response) -> float | None:
    """The server's requested wait in seconds (``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date)."""
    headers = response.headers
    wait: float | None = None
    try:
        if "retry-after-ms" in headers:
            wait = float(headers["retry-after-ms"]) / 1000
        elif "retry-after" in headers:
            raw = headers["retry-after"]
            try:
                wait = float(raw)
            except ValueError:
                when = email.utils.parsedate_to_datetime(raw)
                wait = (when - datetime.now(UTC)).total_seconds()
    except (ValueError, TypeError):
        return None
    return wait if wait is not None and wait >= 0 else None
