"""The HTTP endpoints: client secrets, calls, hang-up, keys and CORS."""

from __future__ import annotations

import json

import aiohttp
from openai.types.realtime import ClientSecretCreateResponse

from realtime_widget.server.http.app import RealtimeServer
from tests.server.clients import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}


async def post(server: RealtimeServer, path: str, **kwargs: object) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as http, http.post(f"{server.base_url}{path}", **kwargs) as r:  # type: ignore[arg-type]
        return r.status, dict(r.headers), await r.text()


async def test_client_secret_has_the_api_shape(server: RealtimeServer) -> None:
    body = {
        "expires_after": {"anchor": "created_at", "seconds": 60},
        "session": {"type": "realtime", "instructions": "Be brief.", "audio": {"output": {"voice": "marin"}}},
    }
    status, _, text = await post(server, "/realtime/client_secrets", json=body, headers=AUTH)
    assert status == 200, text
    secret = ClientSecretCreateResponse.model_validate_json(text)
    assert secret.value.startswith("ek_")
    assert secret.session.id.startswith("sess_")  # type: ignore[union-attr]
    assert secret.session.instructions == "Be brief."  # type: ignore[union-attr]
    assert secret.session.audio.output.voice == "marin"  # type: ignore[union-attr]
    assert secret.session.audio.input.turn_detection.type == "server_vad"  # type: ignore[union-attr]


async def test_client_secret_without_body_uses_defaults(server: RealtimeServer) -> None:
    status, _, text = await post(server, "/realtime/client_secrets", headers=AUTH)
    assert status == 200, text
    ClientSecretCreateResponse.model_validate_json(text)


async def test_client_secret_ttl_out_of_range_is_400(server: RealtimeServer) -> None:
    for seconds in (5, 7201):
        status, _, text = await post(
            server,
            "/realtime/client_secrets",
            headers=AUTH,
            json={"expires_after": {"anchor": "created_at", "seconds": seconds}},
        )
        assert status == 400, text
        assert '"param": "expires_after.seconds"' in text


async def test_bad_keys_are_401_with_the_api_error_body(server: RealtimeServer) -> None:
    for headers in ({}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Bearer ek_unknown"}):
        status, _, text = await post(server, "/realtime/client_secrets", json={}, headers=headers)
        assert status == 401
        assert '"code": "invalid_api_key"' in text
        assert '"type": "invalid_request_error"' in text
        status, _, _ = await post(server, "/realtime/calls", data="v=0\r\nm=audio", headers=headers)
        assert status == 401


async def test_ephemeral_key_cannot_mint_keys(server: RealtimeServer) -> None:
    _, _, text = await post(server, "/realtime/client_secrets", headers=AUTH)
    ek = ClientSecretCreateResponse.model_validate_json(text).value
    status, _, _ = await post(server, "/realtime/client_secrets", headers={"Authorization": f"Bearer {ek}"})
    assert status == 401


async def test_body_that_is_not_an_offer_is_400(server: RealtimeServer) -> None:
    status, _, text = await post(
        server, "/realtime/calls", data="hello", headers={**AUTH, "Content-Type": "application/sdp"}
    )
    assert status == 400
    assert '"error"' in text


async def test_hangup_of_unknown_call_is_404(server: RealtimeServer) -> None:
    status, _, text = await post(server, "/realtime/calls/rtc_nope/hangup", headers=AUTH)
    assert status == 404
    assert "call_id_not_found" in text


async def test_preflight_allows_requested_headers_and_exposes_location(server: RealtimeServer) -> None:
    headers = {
        "Origin": "http://localhost:8888",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, openai-beta, x-stainless-os",
    }
    async with aiohttp.ClientSession() as http, http.options(f"{server.base_url}/realtime/calls", headers=headers) as r:
        assert r.status == 204
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert r.headers["Access-Control-Allow-Headers"] == headers["Access-Control-Request-Headers"]
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:8888"
        assert "Access-Control-Allow-Private-Network" not in r.headers
    async with (
        aiohttp.ClientSession() as http,
        http.options(
            f"{server.base_url}/realtime/calls", headers={**headers, "Access-Control-Request-Private-Network": "true"}
        ) as r,
    ):
        assert r.headers["Access-Control-Allow-Private-Network"] == "true"
    _status, response_headers, _ = await post(
        server, "/realtime/calls/rtc_nope/hangup", headers={**AUTH, "Origin": "http://localhost:8888"}
    )
    assert response_headers["Access-Control-Expose-Headers"] == "Location"


async def test_unknown_paths_answer_json_errors(server: RealtimeServer) -> None:
    status, headers, text = await post(server, "/realtime/nothing", headers=AUTH)
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    assert '"error"' in text
    async with aiohttp.ClientSession() as http, http.get(f"{server.base_url}/realtime/calls") as r:
        assert r.status == 405
        assert "error" in await r.json()


async def test_a_client_secret_with_an_unknown_or_null_field_is_refused(server: RealtimeServer) -> None:
    for session, param in (
        ({"instructionz": "x"}, "session.instructionz"),
        ({"instructions": None}, "session.instructions"),
    ):
        body = {"session": {"type": "realtime", **session}}
        status, _, text = await post(server, "/realtime/client_secrets", json=body, headers=AUTH)
        assert status == 400, text
        assert f"'{param}'" in text


async def test_only_the_standard_key_may_hang_up(server: RealtimeServer) -> None:
    status, _, text = await post(server, "/realtime/client_secrets", headers=AUTH)
    ephemeral = ClientSecretCreateResponse.model_validate_json(text).value
    status, _, _ = await post(
        server, "/realtime/calls/rtc_nope/hangup", headers={"Authorization": f"Bearer {ephemeral}"}
    )
    assert status == 401
    status, _, _ = await post(server, "/realtime/calls/rtc_nope/hangup", headers=AUTH)
    assert status == 404  # the standard key is accepted; there is just no such call


async def test_every_http_error_has_the_api_json_shape(server: RealtimeServer) -> None:
    bodies = [
        (
            "/realtime/client_secrets",
            {"data": b"\xff\xfe not utf-8", "headers": {**AUTH, "Content-Type": "application/json"}},
        ),
        ("/realtime/calls", {"data": b"\xff\xfe", "headers": {**AUTH, "Content-Type": "application/sdp"}}),
        ("/realtime/client_secrets", {"data": b"x" * (33 * 1024 * 1024), "headers": AUTH}),
    ]
    for path, kwargs in bodies:
        status, headers, text = await post(server, path, **kwargs)
        assert status >= 400, text
        assert headers["Content-Type"].startswith("application/json"), (path, status, text[:200])
        error = json.loads(text)["error"]
        assert set(error) == {"message", "type", "param", "code"}
