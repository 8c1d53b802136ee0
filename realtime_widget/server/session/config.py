"""The GA session object: defaults, partial updates and the checks the API applies to them."""

from __future__ import annotations

import math
import time
from typing import Any

from openai.types.realtime import RealtimeSessionCreateRequest
from pydantic import ValidationError

from realtime_widget.protocol.rules import (
    DEFAULT_MODEL,
    FUNCTION_NAME,
    MAX_VAD_MS,
    OUTPUT_MODALITIES,
    SPEED_RANGE,
    VAD_THRESHOLD_RANGE,
    VOICES,
    merge_update,
    server_vad_defaults,
    with_turn_detection_defaults,
)
from realtime_widget.protocol.session_fields import check_session_fields
from realtime_widget.server.session.ids import new_id
from realtime_widget.validation_errors import first_error, where


def default_session(model: str = DEFAULT_MODEL, expires_at: int | None = None) -> dict[str, Any]:
    """A complete GA realtime session with the API's defaults and a fresh ``sess_`` id."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "You are a helpful assistant.",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at if expires_at is not None else int(time.time()) + 3600,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": server_vad_defaults(),
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
        },
        "include": None,
    }


class SessionConfigError(ValueError):
    """A session object the API would refuse; ``param`` names the offending field like the API's errors do."""

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def check_session(session: dict[str, Any]) -> None:
    """Raise ``SessionConfigError`` for values the API rejects (beyond what the event schema already checks)."""
    modalities = session.get("output_modalities")
    if modalities is not None and (
        not isinstance(modalities, list) or len(modalities) != 1 or modalities[0] not in OUTPUT_MODALITIES
    ):
        raise SessionConfigError(
            "Invalid value for 'output_modalities': exactly one of 'text' or 'audio' is supported.",
            "session.output_modalities",
        )
    output = (session.get("audio") or {}).get("output") or {}
    _check_between(output.get("speed"), *SPEED_RANGE, "session.audio.output.speed")
    voice = output.get("voice")
    if isinstance(voice, str) and voice not in VOICES:
        raise SessionConfigError(
            f"Invalid value: '{voice}'. Supported values are: {', '.join(VOICES)}.",
            "session.audio.output.voice",
        )
    turn = (session.get("audio") or {}).get("input", {}).get("turn_detection")
    if isinstance(turn, dict):
        _check_between(turn.get("threshold"), *VAD_THRESHOLD_RANGE, "session.audio.input.turn_detection.threshold")
        _check_between(
            turn.get("idle_timeout_ms"), 5000, 30000, "session.audio.input.turn_detection.idle_timeout_ms", integer=True
        )
        for name in ("prefix_padding_ms", "silence_duration_ms"):
            _check_between(turn.get(name), 0, MAX_VAD_MS, f"session.audio.input.turn_detection.{name}", integer=True)
    _check_tool_names(session.get("tools"))
    max_tokens = session.get("max_output_tokens")
    if isinstance(max_tokens, int | float) and not isinstance(max_tokens, bool) and not 1 <= max_tokens <= 4096:
        raise SessionConfigError(
            f"Invalid 'max_output_tokens': {max_tokens}. Expected a value between 1 and 4096, or 'inf'.",
            "session.max_output_tokens",
            "integer_out_of_range",
        )


def _check_tool_names(tools: object) -> None:
    """Function names as the API takes them: 1 to 64 letters, digits, underscores or dashes."""
    if not isinstance(tools, list):
        return
    for index, tool in enumerate(tools):
        name = tool.get("name") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if isinstance(name, str) and not FUNCTION_NAME.fullmatch(name):
            raise SessionConfigError(
                f"Invalid 'tools[{index}].name': {name!r}. Expected a string that matches the pattern "
                f"'{FUNCTION_NAME.pattern}'.",
                f"session.tools[{index}].name",
                "invalid_value",
            )


def _check_between(value: Any, low: float, high: float, param: str, *, integer: bool = False) -> None:
    """Raise ``SessionConfigError`` when ``value`` (if set) is outside ``low``..``high``, compared as ``int(value)``
    when ``integer`` (an ``integer_out_of_range`` error), else as ``float(value)`` (``decimal_out_of_range``)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return  # absent, or not a number: the schema check names what it should be
    if not math.isfinite(value) or not low <= (int(value) if integer else float(value)) <= high:
        raise SessionConfigError(
            f"Invalid '{param}': {value}. Expected a value between {low:g} and {high:g}.",
            param,
            "integer_out_of_range" if integer else "decimal_out_of_range",
        )


def apply_update(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Merge a (partial) ``session`` object from ``session.update`` or a client-secret request into ``current``.

    Nested objects merge key by key; lists and scalars replace. Raises ``SessionConfigError`` when the result is
    not a session the API would accept. ``id``, ``object`` and ``expires_at`` stay the server's.
    """
    if update.get("type") not in (None, "realtime"):
        raise SessionConfigError(
            "Only realtime sessions are supported by this server; transcription sessions are not.", "session.type"
        )
    problem = check_session_fields(update)
    if problem is not None:
        raise SessionConfigError(problem.message, problem.param, problem.code)
    fixed: dict[str, Any] = {k: current[k] for k in ("id", "object", "expires_at") if k in current}
    merged = merge_update(current, {k: v for k, v in update.items() if k not in fixed})
    merged.update(fixed)
    audio_input = merged.get("audio", {}).get("input", {})
    if isinstance(audio_input.get("turn_detection"), dict):
        audio_input["turn_detection"] = with_turn_detection_defaults(audio_input["turn_detection"])
    check_session(merged)
    _check_schema(merged)
    return merged


def _check_schema(session: dict[str, Any]) -> None:
    try:
        RealtimeSessionCreateRequest.model_validate(session)
    except ValidationError as exc:
        first = first_error(exc)
        param = f"session.{where(first)}".rstrip(".")
        raise SessionConfigError(f"Invalid value for '{param}': {first['msg']}.", param) from exc
