"""Which fields a session object may have, and which may be null, checked as strictly as the API checks them.

The SDK's models (``openai.types.realtime``) make every field optional, so for them null and absent look the same,
and they accept unknown keys. The API does neither: it refuses a field it does not know (``unknown_parameter``)
and a null where it declares a type (``invalid_type``). Null is meaningful only where the API says so: the SDK's
docstrings say "set to null to turn off" for ``tracing``, ``audio.input.noise_reduction``,
``audio.input.transcription`` and ``audio.input.turn_detection`` (and its ``idle_timeout_ms`` is null by default).
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from openai.types.realtime import RealtimeSessionCreateRequest
from pydantic import BaseModel

from realtime_widget.protocol.rules import MAX_INSTRUCTIONS_CHARS, MAX_SESSION_JSON_BYTES, MAX_TOOLS

NULLABLE = frozenset(
    {
        "tracing",
        "audio.input.noise_reduction",
        "audio.input.transcription",
        "audio.input.turn_detection",
        "audio.input.turn_detection.idle_timeout_ms",
    }
)


@dataclass(frozen=True)
class FieldProblem:
    """A field the API would refuse: ``param`` as the API names it (``session.audio.output.voice``)."""

    message: str
    code: str
    param: str


def check_session_fields(session: dict[str, Any], root: str = "session") -> FieldProblem | None:
    """The first unknown field, unwanted null or oversized value in a (partial) session object, or ``None``."""
    return _check_sizes(session, root) or _check(RealtimeSessionCreateRequest, session, "", root)


def _check_sizes(session: dict[str, Any], root: str) -> FieldProblem | None:
    """Sizes first, before anything walks a huge object. The codes and words are those the OpenAI API gives for an
    over-long string or array (``string_above_max_length``, ``array_above_max_length``)."""
    instructions = session.get("instructions")
    if isinstance(instructions, str) and len(instructions) > MAX_INSTRUCTIONS_CHARS:
        return FieldProblem(
            f"Invalid '{root}.instructions': string too long. Expected a string with maximum length "
            f"{MAX_INSTRUCTIONS_CHARS}, but got a string with length {len(instructions)} instead.",
            "string_above_max_length",
            f"{root}.instructions",
        )
    tools = session.get("tools")
    if isinstance(tools, list) and len(tools) > MAX_TOOLS:
        return FieldProblem(
            f"Invalid '{root}.tools': array too long. Expected an array with maximum length {MAX_TOOLS}, but got an "
            f"array with length {len(tools)} instead.",
            "array_above_max_length",
            f"{root}.tools",
        )
    try:
        size = len(json.dumps(session, ensure_ascii=False).encode())
    except (TypeError, ValueError, RecursionError):
        return None  # not JSON-shaped: the schema check says what is wrong
    if size > MAX_SESSION_JSON_BYTES:
        return FieldProblem(
            f"The '{root}' object is too large: {size} bytes as JSON, at most {MAX_SESSION_JSON_BYTES} are accepted.",
            "session_too_large",
            root,
        )
    return None


def _check(model: type[BaseModel], data: dict[str, Any], path: str, root: str) -> FieldProblem | None:
    for key, value in data.items():
        here = f"{path}.{key}" if path else str(key)
        param = f"{root}.{here}"
        field = model.model_fields.get(str(key))
        if field is None:
            return FieldProblem(f"Unknown parameter: '{param}'.", "unknown_parameter", param)
        if value is None:
            if here in NULLABLE:
                continue
            return FieldProblem(
                f"Invalid type for '{param}': expected {_kind(field.annotation)}, but got null instead.",
                "invalid_type",
                param,
            )
        if isinstance(value, dict):
            inner = _model_for(field.annotation, value)
            if inner is not None:
                problem = _check(inner, value, here, root)
                if problem is not None:
                    return problem
    return None


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation allows (through Optional, Union and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _models(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [model for arg in get_args(annotation) for model in _models(arg)]
    return []


def _model_for(annotation: Any, value: dict[str, Any]) -> type[BaseModel] | None:
    """The one model ``value`` must match: the only one allowed, or the one whose ``type`` literal it names."""
    models = _models(annotation)
    if len(models) == 1:
        return models[0]
    for model in models:
        type_field = model.model_fields.get("type")
        if type_field is not None and value.get("type") in get_args(type_field.annotation):
            return model
    return None


def _kind(annotation: Any) -> str:
    """What the API declares, in its words: "a string", "an integer or a string", ..."""
    kinds: list[str] = []
    for arg in _flatten(annotation):
        kind = _KINDS.get(arg) or ("a string" if get_origin(arg) is typing.Literal else None)
        if kind is None:
            kind = "an array" if get_origin(arg) is list else "an object"
        if arg is not type(None) and kind not in kinds:
            kinds.append(kind)
    return " or ".join(kinds) or "a value"


_KINDS: dict[Any, str] = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _flatten(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [a for arg in get_args(annotation) for a in _flatten(arg)]
    return [annotation]
