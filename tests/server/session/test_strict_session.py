"""As strict as the API about the session: null is not absent, unknown fields are refused, the model and (once the
assistant has spoken) the voice cannot change. Each refusal is an ``error`` event and the session goes on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.server.clients import EngineHarness

Make = Callable[..., EngineHarness]


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": None}, "invalid_type", "session.instructions"),
        ({"audio": None}, "invalid_type", "session.audio"),
        ({"audio": {"output": {"voice": None}}}, "invalid_type", "session.audio.output.voice"),
        ({"tools": None}, "invalid_type", "session.tools"),
        ({"instructionz": "Be brief."}, "unknown_parameter", "session.instructionz"),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshhold": 0.4}}}},
            "unknown_parameter",
            "session.audio.input.turn_detection.threshhold",
        ),
        ({"model": "gpt-realtime-mini"}, "invalid_value", "session.model"),
        ({"instructions": "x" * (3 * 1024 * 1024)}, "string_above_max_length", "session.instructions"),
        (
            {"tools": [{"type": "function", "name": f"tool_{i}", "parameters": {}} for i in range(5000)]},
            "array_above_max_length",
            "session.tools",
        ),
        (
            {"tools": [{"type": "function", "name": f"t{i}", "description": "d" * 20_000} for i in range(100)]},
            "session_too_large",
            "session",
        ),
    ],
)
async def test_refused_updates_name_the_field_and_leave_the_session_as_it_was(
    harness: Make, session: dict[str, object], code: str, param: str
) -> None:
    h = harness()
    before = h.engine.session
    out = await h.send({"type": "session.update", "event_id": "evt_1", "session": {"type": "realtime", **session}})
    assert h.types(out) == ["error"]
    assert (out[0]["error"]["code"], out[0]["error"]["param"], out[0]["error"]["event_id"]) == (code, param, "evt_1")
    assert h.engine.session == before
    assert h.types(await h.send({"type": "session.update", "session": {"type": "realtime"}})) == ["session.updated"]


async def test_null_turns_off_what_the_api_says_null_turns_off(harness: Make) -> None:
    h = harness()
    off = {"turn_detection": None, "noise_reduction": None, "transcription": None}
    out = await h.send(
        {"type": "session.update", "session": {"type": "realtime", "tracing": None, "audio": {"input": off}}}
    )
    assert h.types(out) == ["session.updated"]
    assert out[0]["session"]["audio"]["input"]["turn_detection"] is None


async def test_the_same_model_may_be_named_again(harness: Make) -> None:
    h = harness()
    model = h.engine.session["model"]
    assert h.types(await h.send({"type": "session.update", "session": {"type": "realtime", "model": model}})) == [
        "session.updated"
    ]


async def test_a_custom_voice_is_taken_and_speaks(harness: Make) -> None:
    h = harness()
    custom = {"id": "voice_1234"}
    out = await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"voice": custom}}}}
    )
    assert out[0]["session"]["audio"]["output"]["voice"] == custom
    await h.send({"type": "response.create"})
    done = h.of_type("response.done")[-1]["response"]
    assert done["status"] == "completed"
    assert done["audio"]["output"]["voice"] == "voice_1234"  # a response names it (the SDK declares a string)
    assert h.of_type("response.output_audio.delta")  # spoken, in the local model's default voice


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": -5}}}},
         "integer_out_of_range", "session.audio.input.turn_detection.silence_duration_ms"),
        ({"max_output_tokens": 1e30}, "invalid_type", "session.max_output_tokens"),
        ({"max_output_tokens": 5000}, "integer_out_of_range", "session.max_output_tokens"),
        ({"tools": [{"type": "function", "name": "bad/name", "parameters": {}}]}, "invalid_value",
         "session.tools[0].name"),
        ({"tools": [{"type": "function", "name": "nul\x00name", "parameters": {}}]}, "invalid_value",
         "session.tools[0].name"),
    ],
)  # fmt: skip
async def test_out_of_range_numbers_and_bad_tool_names_are_refused(
    harness: Make, session: dict[str, object], code: str, param: str
) -> None:
    h = harness()
    out = await h.send({"type": "session.update", "session": {"type": "realtime", **session}})
    assert h.types(out) == ["error"]
    assert (out[0]["error"]["code"], out[0]["error"]["param"]) == (code, param)
