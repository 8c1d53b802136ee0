"""Keys: redaction, and minting against a real HTTP server on 127.0.0.1 that answers each status in turn."""

from __future__ import annotations

import json
import pickle
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from realtime_widget.errors import RealtimeWidgetError
from realtime_widget.keys import EphemeralKey, KeyMinter, SecretKey, resolve_api_key

# Built at run time so no key-shaped literal sits in the source.
FAKE_KEY = "sk-" + "test" * 6 + "WXYZ"
FAKE_EPHEMERAL = "ek_" + "fake" * 5
FAST = httpx.Timeout(connect=1.0, read=2.0, write=1.0, pool=1.0)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict → JSON, str → as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def minted(expires_in_s: int = 600) -> Reply:
    session = {"type": "realtime", "object": "realtime.session", "id": "sess_1", "model": "gpt-realtime"}
    return Reply(200, {"value": FAKE_EPHEMERAL, "expires_at": int(time.time()) + expires_in_s, "session": session})


def error(status: int, message: str, code: str | None = None, **headers: str) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return Reply(status, body, headers)


class KeyServer:
    """Answers POST /v1/realtime/client_secrets with scripted replies (the last one repeats) and logs requests."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                reply = server._next(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body, "t": time.monotonic()}
                )
                time.sleep(reply.delay_s)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def server() -> Iterator[KeyServer]:
    key_server = KeyServer()
    yield key_server
    key_server.close()


@pytest.fixture
def minter(server: KeyServer) -> Iterator[KeyMinter]:
    with KeyMinter(server.base_url, SecretKey(FAKE_KEY), timeout=FAST, max_retries=3, backoff_base_s=0.01) as m:
        yield m


SESSION = {"type": "realtime", "model": "gpt-realtime"}


def mint_error(minter: KeyMinter, session: dict[str, Any] = SESSION) -> RealtimeWidgetError:
    with pytest.raises(RealtimeWidgetError) as caught:
        minter.mint(session)
    exc = caught.value
    for text in (str(exc), repr(exc), json.dumps(exc.info.to_dict()), repr(exc.info)):
        assert FAKE_KEY not in text
        assert "test" * 6 not in text
    return exc


def refused(
    server: KeyServer,
    minter: KeyMinter,
    reply: Reply,
    code: str,
    *,
    says: tuple[str, ...] = (),
    tries: int = 1,
    session: dict[str, Any] = SESSION,
) -> RealtimeWidgetError:
    """Script ``reply``, mint, and check the error: its code, texts in its message, how many requests were made."""
    server.script(reply)
    exc = mint_error(minter, session)
    assert exc.code == code
    for text in says:
        assert text in exc.info.message
    assert len(server.requests) == tries
    return exc


# ---- SecretKey and EphemeralKey ------------------------------------------------------------------------------------


def test_secret_key_prints_redacted() -> None:
    key = SecretKey(FAKE_KEY)
    assert repr(key) == "SecretKey('sk-…WXYZ')"
    assert str(key) == repr(key)
    assert f"{key}" == repr(key)
    assert FAKE_KEY not in repr([key, {"k": key}])
    assert key.reveal() == FAKE_KEY


def test_short_keys_show_no_characters() -> None:
    assert repr(SecretKey("abc123")) == "SecretKey('…')"
    assert repr(SecretKey("sk-" + "abcdef")) == "SecretKey('sk-…')"


def test_secret_key_compares_and_refuses_pickling() -> None:
    assert SecretKey(FAKE_KEY) == SecretKey(FAKE_KEY)
    assert SecretKey(FAKE_KEY) != SecretKey(FAKE_KEY + "0")
    assert len({SecretKey(FAKE_KEY), SecretKey(FAKE_KEY)}) == 1
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(SecretKey(FAKE_KEY))


@pytest.mark.parametrize("blank", ["", "   "])
def test_secret_key_must_not_be_blank(blank: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        SecretKey(blank)


def test_resolve_api_key_prefers_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    env_key = "sk-" + "env" * 8
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    assert resolve_api_key(FAKE_KEY) == SecretKey(FAKE_KEY)
    assert resolve_api_key(None) == SecretKey(env_key)
    assert resolve_api_key("  ") == SecretKey(env_key)
    assert resolve_api_key(SecretKey(FAKE_KEY)) == SecretKey(FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert resolve_api_key(None) is None
    monkeypatch.delenv("OPENAI_API_KEY")
    assert resolve_api_key(None) is None


def test_ephemeral_key_is_redacted_and_knows_its_expiry() -> None:
    expires = datetime.now(UTC) + timedelta(minutes=10)
    key = EphemeralKey(FAKE_EPHEMERAL, expires, {"type": "realtime"})  # type: ignore[arg-type]
    assert isinstance(key.value, SecretKey)
    assert FAKE_EPHEMERAL not in repr(key)
    assert repr(key).startswith("EphemeralKey('ek_…")
    assert 590 < key.seconds_left() <= 600
    assert not key.expired
    assert key.to_reply() == {"ok": True, "value": FAKE_EPHEMERAL, "expires_at": int(expires.timestamp())}
    with pytest.raises(ValueError, match="timezone-aware"):
        EphemeralKey(SecretKey(FAKE_EPHEMERAL), datetime.now(), {})


# ---- minting: success ----------------------------------------------------------------------------------------------


def test_mint_posts_the_session_and_returns_the_key(server: KeyServer, minter: KeyMinter) -> None:
    server.script(minted())
    key = minter.mint(SESSION, ttl_seconds=120)
    assert key.reveal() == FAKE_EPHEMERAL
    assert key.session["id"] == "sess_1"
    assert 500 < key.seconds_left() <= 600
    (request,) = server.requests
    assert request["path"] == "/v1/realtime/client_secrets"
    assert request["auth"] == f"Bearer {FAKE_KEY}"
    assert request["body"] == {"expires_after": {"anchor": "created_at", "seconds": 120}, "session": SESSION}


def test_one_client_is_reused(server: KeyServer, minter: KeyMinter) -> None:
    server.script(minted())
    minter.mint(SESSION)
    minter.mint(SESSION)
    assert len(server.requests) == 2


@pytest.mark.parametrize("ttl", [9, 7201])
def test_ttl_outside_the_api_limits_is_refused(minter: KeyMinter, ttl: int) -> None:
    with pytest.raises(ValueError, match="between 10 and 7200"):
        minter.mint(SESSION, ttl_seconds=ttl)


def test_minter_repr_hides_the_key(minter: KeyMinter) -> None:
    assert FAKE_KEY not in repr(minter)
    assert "sk-…WXYZ" in repr(minter)


# ---- minting: refusals that retrying cannot fix --------------------------------------------------------------------


def test_401_is_bad_key_without_retry_and_without_the_echoed_key(server: KeyServer, minter: KeyMinter) -> None:
    # OpenAI's real 401 names the key it was given; that must not reach the user.
    refused(
        server,
        minter,
        error(401, f"Incorrect API key provided: {FAKE_KEY}.", "invalid_api_key"),
        "bad_key",
        says=(
            "The API key was rejected (401). Check OPENAI_API_KEY or the api_key argument.",
            "Incorrect API key provided",
        ),
    )


def test_403_is_no_access_and_names_the_model(server: KeyServer, minter: KeyMinter) -> None:
    refused(
        server,
        minter,
        error(403, "Project does not have access to model."),
        "no_access",
        says=("'gpt-realtime-2'", "Project does not have access"),
        session={"type": "realtime", "model": "gpt-realtime-2"},
    )


def test_400_is_reported_with_the_servers_message(server: KeyServer, minter: KeyMinter) -> None:
    reply = error(400, "Invalid value: 'loud'. Supported values are: 'near_field' and 'far_field'.")
    refused(server, minter, reply, "unknown", says=("(400)", "near_field"))


def test_insufficient_quota_is_not_retried(server: KeyServer, minter: KeyMinter) -> None:
    reply = error(429, "You exceeded your current quota.", "insufficient_quota")
    exc = refused(server, minter, reply, "rate_limited", says=("quota",))
    assert "Billing" in exc.info.hint


# ---- minting: retries ----------------------------------------------------------------------------------------------


def test_429_then_200_retries_after_the_servers_retry_after(server: KeyServer, minter: KeyMinter) -> None:
    server.script(error(429, "Rate limit reached.", "rate_limit_exceeded", **{"Retry-After": "1"}), minted())
    key = minter.mint(SESSION)
    assert key.reveal() == FAKE_EPHEMERAL
    first, second = server.requests
    # our own backoff is 10 ms here, so only Retry-After explains a wait of about a second
    assert second["t"] - first["t"] >= 0.9


def test_retry_after_ms_is_honoured(server: KeyServer, minter: KeyMinter) -> None:
    server.script(error(429, "Slow down.", **{"retry-after-ms": "300"}), minted())
    minter.mint(SESSION)
    first, second = server.requests
    assert second["t"] - first["t"] >= 0.28


def test_a_long_retry_after_gives_up_at_once(server: KeyServer, minter: KeyMinter) -> None:
    reply = error(429, "Try again in 2 minutes.", **{"Retry-After": "120"})
    refused(server, minter, reply, "rate_limited", says=("Try again in 2 minutes.",))


def test_persistent_429_gives_up_with_the_servers_message(server: KeyServer, minter: KeyMinter) -> None:
    reply = error(429, "Rate limit reached for requests.", "rate_limit_exceeded")
    # four tries: the first and max_retries=3 more
    refused(server, minter, reply, "rate_limited", says=("Rate limit reached for requests.",), tries=4)


def test_500s_give_up_after_max_retries_with_server_error(server: KeyServer, minter: KeyMinter) -> None:
    reply = error(500, "The server had an error while processing your request.")
    refused(server, minter, reply, "server_error", says=("(500)", "The server had an error"), tries=4)
    gaps = [b["t"] - a["t"] for a, b in zip(server.requests, server.requests[1:], strict=False)]
    assert all(gap >= 0.004 for gap in gaps)  # backoff happened (10 ms base, half of it at least)


def test_5xx_then_success(server: KeyServer, minter: KeyMinter) -> None:
    server.script(Reply(502, "<html>Bad gateway</html>"), Reply(503, "busy"), minted())
    assert minter.mint(SESSION).reveal() == FAKE_EPHEMERAL
    assert len(server.requests) == 3


def test_a_local_server_error_suggests_a_restart(server: KeyServer, minter: KeyMinter) -> None:
    server.script(Reply(500, "Traceback ..."))
    exc = mint_error(minter)
    assert minter.is_local
    assert "local server" in exc.info.hint


# ---- minting: answers that make no sense ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        '{"value": 3, "expires_at": 1}',
        '{"expires_at": 1}',
        '["a"]',
        '{"value": "x", "expires_at": "soon"}',
    ],
)
def test_malformed_answers_are_server_errors(server: KeyServer, minter: KeyMinter, body: str) -> None:
    refused(server, minter, Reply(200, body), "server_error", says=("not a client secret",))


# ---- minting: the network ------------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_is_network_and_names_the_url() -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    with KeyMinter(base, SecretKey(FAKE_KEY), timeout=FAST, max_retries=2, backoff_base_s=0.01) as minter:
        exc = mint_error(minter)
    assert exc.code == "network"
    assert f"{base}/realtime/client_secrets" in exc.info.message
    assert "local server may have stopped" in exc.info.hint


def test_a_remote_host_gets_a_network_hint_not_a_local_one() -> None:
    minter = KeyMinter("https://api.example.invalid/v1", FAKE_KEY)
    assert not minter.is_local
    minter.close()


def test_a_slow_answer_times_out_as_network(server: KeyServer) -> None:
    server.script(Reply(200, "{}", delay_s=1.5))
    timeout = httpx.Timeout(connect=1.0, read=0.2, write=1.0, pool=1.0)
    with KeyMinter(server.base_url, SecretKey(FAKE_KEY), timeout=timeout, max_retries=1, backoff_base_s=0.01) as m:
        exc = mint_error(m)
    # Had the client waited out the server's delay it would have got an answer, not a network error.
    assert exc.code == "network"
    assert "no answer in time" in exc.info.message
    # A timeout is retried. The server's handler thread records the retry in its own time (it may not have yet,
    # on a loaded machine), so wait for it rather than read the count at once.
    deadline = time.monotonic() + 30
    while len(server.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(server.requests) == 2


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        KeyMinter("api.openai.com/v1", FAKE_KEY)


# ---- the client's lifetime and the async variant -------------------------------------------------------------------


def test_close_leaves_a_client_passed_in_open(server: KeyServer) -> None:
    with httpx.Client(timeout=FAST) as client:
        with KeyMinter(server.base_url, FAKE_KEY, client=client):
            pass
        assert not client.is_closed
    owned = KeyMinter(server.base_url, FAKE_KEY)
    owned.close()
    assert owned._client.is_closed


async def test_amint_retries_and_returns_the_key(server: KeyServer) -> None:
    server.script(error(429, "Slow down.", **{"Retry-After": "0.1"}), minted())
    async with KeyMinter(server.base_url, SecretKey(FAKE_KEY), timeout=FAST, backoff_base_s=0.01) as minter:
        key = await minter.amint(SESSION)
    assert key.reveal() == FAKE_EPHEMERAL
    assert len(server.requests) == 2


async def test_amint_reports_errors_like_mint(server: KeyServer) -> None:
    server.script(error(401, "Incorrect API key provided."))
    async with KeyMinter(server.base_url, SecretKey(FAKE_KEY), timeout=FAST) as minter:
        with pytest.raises(RealtimeWidgetError) as caught:
            await minter.amint(SESSION)
    assert caught.value.code == "bad_key"
    assert FAKE_KEY not in str(caught.value)


def test_errors_carry_no_chained_http_exception() -> None:
    # A chained httpx error would bring frames whose locals hold the Authorization header.
    with KeyMinter(f"http://127.0.0.1:{closed_port()}/v1", FAKE_KEY, timeout=FAST, max_retries=0) as minter:
        exc = mint_error(minter)
    assert exc.__cause__ is None
    assert exc.__suppress_context__


def test_a_proxy_from_the_environment_is_not_used_for_a_local_server(
    server: KeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    server.script(minted())
    with KeyMinter(server.base_url, FAKE_KEY, timeout=FAST, max_retries=0) as minter:
        assert minter.mint(SESSION).reveal() == FAKE_EPHEMERAL


@pytest.mark.parametrize("pasted", ["sk-abc\ndef-ghijkl", "sk-abcdéfghijkl", "sk-abc def-ghijkl"])
def test_a_key_with_breaks_spaces_or_non_ascii_is_not_a_valid_key(pasted: str) -> None:
    with pytest.raises(ValueError, match="not a valid API key") as raised:
        SecretKey(pasted)
    assert pasted not in str(raised.value)  # the key itself is never echoed
