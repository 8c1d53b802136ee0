"""The control API for tests and the scripted mode, under ``/_local/`` (not part of the Realtime protocol).

Authenticated with the standard key. Wrapped by ``LocalServer`` methods of the same names.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiohttp import web

from realtime_widget.server.http import bodies
from realtime_widget.server.http.errors import error_response, invalid_api_key
from realtime_widget.server.http.faults import NEXT_CALL_FAULTS
from realtime_widget.server.http.state import server_of
from realtime_widget.server.transports.call import Call


@web.middleware
async def _require_standard_key(request: web.Request, handler: Any) -> web.StreamResponse:
    if server_of(request).keys.check(request.headers.get("Authorization"), allow_ephemeral=False) is None:
        return invalid_api_key()
    response: web.StreamResponse = await handler(request)
    return response


def _call(request: web.Request) -> Call:
    call = server_of(request).calls.get(request.match_info["call_id"])
    if call is None:
        raise web.HTTPNotFound(
            text=json.dumps(
                {
                    "error": {
                        "message": "No such call.",
                        "type": "invalid_request_error",
                        "param": "call_id",
                        "code": "call_id_not_found",
                    }
                }
            ),
            content_type="application/json",
        )
    return call


async def list_calls(request: web.Request) -> web.Response:
    """``GET /_local/calls``: ``{"calls": [{"call_id", "transport", "connection_state", "channel_open",
    "session_id"}]}``."""
    return web.json_response({"calls": [call.describe() for call in server_of(request).calls.values()]})


async def violations(request: web.Request) -> web.Response:
    """``GET /_local/violations``: ``{"strict": bool, "violations": [str]}``, the server events that failed
    validation (checked only in strict mode)."""
    checker = server_of(request).checker
    return web.json_response({"strict": checker.strict, "violations": checker.violations})


async def script(request: web.Request) -> web.Response:
    """``POST /_local/script`` ``{"turns": [...], "call_id": null}``: queue scripted replies."""
    body = await bodies.json_object(request)
    turns = body.get("turns")
    if not isinstance(turns, list):
        return error_response(400, "'turns' must be a list.", code="invalid_type", param="turns")
    call_id = body.get("call_id")
    server = server_of(request)
    if call_id is not None and call_id not in server.calls:
        return error_response(404, f"No call with id '{call_id}'.", code="call_id_not_found", param="call_id")
    if not all(isinstance(turn, dict) for turn in turns):
        return error_response(400, "Each turn must be an object.", code="invalid_type", param="turns")
    try:
        queued = (await server.get_deps()).script.push(*turns, call_id=call_id)
    except ValueError as exc:
        return error_response(400, str(exc), code="invalid_value", param="turns")
    return web.json_response({"queued": queued})


async def drop_call(request: web.Request) -> web.Response:
    """``POST /_local/calls/{call_id}/drop``: close the peer abruptly, as a crash would."""
    await _call(request).drop()
    return web.json_response({})


async def close_channel(request: web.Request) -> web.Response:
    """``POST /_local/calls/{call_id}/close_channel``: close only the data channel."""
    _call(request).close_channel()
    return web.json_response({})


async def say(request: web.Request) -> web.Response:
    """``POST /_local/calls/{call_id}/say`` ``{"text": ...}``: the assistant speaks now, unprompted."""
    call = _call(request)
    text = (await bodies.json_object(request)).get("text")
    if not isinstance(text, str) or not text:
        return error_response(400, "'text' must be a non-empty string.", code="invalid_value", param="text")
    try:
        run = call.engine.say(text)
    except RuntimeError as exc:
        return error_response(409, f"Cannot speak now: {exc}.", code="conversation_already_has_active_response")
    return web.json_response({"response_id": run.id})


async def call_stats(request: web.Request) -> web.Response:
    """``GET /_local/calls/{call_id}/stats``: outgoing audio pacing of a WebRTC call (needs ``--record-timing``):
    ``{"frames", "interval_ms": {"mean", "p50", "p99", "max"}, "late_frames"}``; a late frame left more than
    30 ms after the one before it (the nominal gap is 20 ms). ``?reset=1`` starts a new measurement afterwards."""
    call = _call(request)
    recorded = call.frame_send_times
    times = list(recorded)
    if request.query.get("reset") == "1":
        recorded.clear()
    gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(times))
    if not gaps:
        return web.json_response({"frames": len(times), "interval_ms": None, "late_frames": 0})

    def at(q: float) -> float:
        return round(gaps[min(len(gaps) - 1, int(q * len(gaps)))], 2)

    return web.json_response(
        {
            "frames": len(times),
            "interval_ms": {"mean": round(sum(gaps) / len(gaps), 2), "p50": at(0.5), "p99": at(0.99), "max": at(1.0)},
            "late_frames": sum(1 for g in gaps if g > 30),
        }
    )


async def advance_clock(request: web.Request) -> web.Response:
    """``POST /_local/clock`` ``{"advance_s": seconds}``: run the server's clock ahead, so keys expire and sessions
    reach their time limit now. Answers ``{"clock_ahead_s"}``, the total so far."""
    seconds = (await bodies.json_object(request)).get("advance_s")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < 10**7:
        return error_response(400, "'advance_s' must be a positive number of seconds.", code="invalid_value")
    server = server_of(request)
    server.advance_clock(float(seconds))
    return web.json_response({"clock_ahead_s": server.keys.clock_ahead_s})


async def next_call_fault(request: web.Request) -> web.Response:
    """``POST /_local/faults/next_call`` ``{"fault": "server_error" | "unreachable_ice" | null}``: how the next
    ``POST /v1/realtime/calls`` fails (a 500 in the API's shape, or an answer whose candidates nothing listens on);
    used once. ``null`` disarms it."""
    fault = (await bodies.json_object(request)).get("fault")
    if fault is not None and fault not in NEXT_CALL_FAULTS:
        choices = ", ".join(NEXT_CALL_FAULTS)
        return error_response(400, f"'fault' must be one of {choices}, or null.", code="invalid_value", param="fault")
    server_of(request).faults.next_call = fault
    return web.json_response({"fault": fault})


def control_app() -> web.Application:
    """A sub-application mounted at ``/_local``; the parent app's ``state.SERVER_KEY`` is copied in by ``app.py``."""
    app = web.Application(middlewares=[_require_standard_key])
    app.router.add_get("/calls", list_calls)
    app.router.add_post("/script", script)
    app.router.add_get("/violations", violations)
    app.router.add_post("/clock", advance_clock)
    app.router.add_post("/faults/next_call", next_call_fault)
    app.router.add_post("/calls/{call_id}/drop", drop_call)
    app.router.add_post("/calls/{call_id}/close_channel", close_channel)
    app.router.add_post("/calls/{call_id}/say", say)
    app.router.add_get("/calls/{call_id}/stats", call_stats)
    return app
