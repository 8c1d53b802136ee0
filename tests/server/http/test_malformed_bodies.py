"""Every body a client can get wrong is a 400 in the API's JSON error shape, never a 500 or plain text: bodies that
are not UTF-8, not JSON, nested past the parser, broken multipart, and the same on the ``/_local/`` control API."""

from __future__ import annotations

import json

import aiohttp
import pytest

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
JSON = {**AUTH, "Content-Type": "application/json"}
MULTIPART = {**AUTH, "Content-Type": "multipart/form-data; boundary=xx"}


def _part(name: str, body: bytes, content_type: str | None = None) -> bytes:
    head = f'--xx\r\nContent-Disposition: form-data; name="{name}"\r\n'
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + body + b"\r\n"


CASES = {
    "secrets: not UTF-8": ("/v1/realtime/client_secrets", b"\xff\xfe\xfa not utf-8", JSON),
    "secrets: not JSON": ("/v1/realtime/client_secrets", b"{nope", JSON),
    "secrets: a list": ("/v1/realtime/client_secrets", b"[1, 2]", JSON),
    "secrets: nested 100k deep": ("/v1/realtime/client_secrets", b"[" * 100_000, JSON),
    "calls: SDP not UTF-8": ("/v1/realtime/calls", b"v=0\r\n\xff\xfe", {**AUTH, "Content-Type": "application/sdp"}),
    "calls: SDP with an unknown charset": (
        "/v1/realtime/calls",
        b"v=0\r\nm=audio 9 bogus\r\n",
        {**AUTH, "Content-Type": "application/sdp; charset=bogus"},
    ),
    "calls: multipart without a boundary": (
        "/v1/realtime/calls",
        b"x",
        {**AUTH, "Content-Type": "multipart/form-data"},
    ),
    "calls: multipart with a broken header": ("/v1/realtime/calls", b"--xx\r\nbroken", MULTIPART),
    "calls: multipart SDP not UTF-8": ("/v1/realtime/calls", _part("sdp", b"\xff\xfe") + b"--xx--\r\n", MULTIPART),
    "calls: multipart SDP file not UTF-8": (
        "/v1/realtime/calls",
        b'--xx\r\nContent-Disposition: form-data; name="sdp"; filename="o.sdp"\r\n\r\n\xff\xfe\r\n--xx--\r\n',
        MULTIPART,
    ),
    "calls: multipart session not JSON": (
        "/v1/realtime/calls",
        _part("sdp", b"v=0\r\nm=audio") + _part("session", b"\xff{", "application/json") + b"--xx--\r\n",
        MULTIPART,
    ),
    "calls: multipart session a list": (
        "/v1/realtime/calls",
        _part("sdp", b"v=0\r\nm=audio") + _part("session", b"[]", "application/json") + b"--xx--\r\n",
        MULTIPART,
    ),
    "calls: an offer aiortc cannot answer": (
        "/v1/realtime/calls",
        b"v=0\r\nm=audio 9 bogus\r\n",
        {**AUTH, "Content-Type": "application/sdp"},
    ),
    "local: not JSON": ("/_local/script", b"{nope", JSON),
    "local: not UTF-8": ("/_local/script", b"\xff\xfe\xfa", JSON),
    "local: a list": ("/_local/script", b"[1]", JSON),
    "local: nested 100k deep": ("/_local/script", b"[" * 100_000, JSON),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_malformed_body_is_a_400_in_the_api_shape(server: RealtimeServer, case: str) -> None:
    path, data, headers = CASES[case]
    url = f"http://127.0.0.1:{server.port}{path}"
    async with aiohttp.ClientSession() as http, http.post(url, data=data, headers=headers) as response:
        text = await response.text(errors="replace")
        assert response.status == 400, text
        assert response.headers["Content-Type"].startswith("application/json"), text
    error = json.loads(text)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["code"], error  # a code a client can act on, not null
    assert "Traceback" not in error["message"]


async def test_nulls_and_wrong_types_in_a_client_secret_session_are_400(server: RealtimeServer) -> None:
    sessions = [
        ({"audio": None}, "session.audio"),
        ({"audio": {"input": None}}, "session.audio.input"),
        ({"audio": {"output": {"voice": 5}}}, "session.audio.output.voice"),
        ({"tools": None}, "session.tools"),
        ({"tools": "x"}, "session.tools"),
        ({"tools": [1]}, "session.tools"),
        ({"model": 5}, "session.model"),
        ({"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": None}}}}, "session.audio.input"),
    ]
    async with aiohttp.ClientSession() as http:
        for session, param in sessions:
            body = {"session": {"type": "realtime", **session}}
            async with http.post(f"{server.base_url}/realtime/client_secrets", json=body, headers=AUTH) as response:
                text = await response.text()
                assert response.status == 400, (session, text)
                error = json.loads(text)["error"]
                assert error["param"].startswith(param), (session, error)
