"""Realtime events, checked as the API checks them, against the pydantic models in ``openai.types.realtime``.

The SDK's unions are tagged with its own marker, which pydantic ignores; rebuilding them with a real
``discriminator`` makes an unknown ``type`` fail with ``union_tag_invalid`` instead of a vague error.
:func:`check_client_event` is the one check of a client event: the kernel's ``send_event`` and the local server
accept and refuse exactly the same events, and a refusal (:class:`Rejection`) carries what the API's ``error``
event says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from realtime_widget.protocol.session_fields import check_session_fields
from realtime_widget.validation_errors import first_error, where

__all__ = [
    "CLIENT_EVENT_TYPES",
    "Rejection",
    "ValidationError",
    "check_client_event",
    "client_event_adapter",
    "parse_client_event",
    "require_client_event",
    "server_event_adapter",
    "validate_client_event",
    "validate_server_event",
]


def _members(union: object) -> tuple[type[BaseModel], ...]:
    # RealtimeXEvent is Annotated[Union[...], PropertyInfo]: the first arg is the bare Union.
    return tuple(get_args(get_args(union)[0]))


def _event_type(model: type[BaseModel]) -> str:
    annotation = model.model_fields["type"].annotation
    (literal,) = get_args(annotation)
    return str(literal)


def _tagged_adapter(union: object) -> TypeAdapter[Any]:
    members = _members(union)
    return TypeAdapter(Annotated[Union[members], Field(discriminator="type")])  # type: ignore[arg-type]  # noqa: UP007


CLIENT_EVENT_TYPES: frozenset[str] = frozenset(_event_type(m) for m in _members(RealtimeClientEvent))


@cache
def client_event_adapter() -> TypeAdapter[Any]:
    """A tagged-union adapter over every GA client event."""
    return _tagged_adapter(RealtimeClientEvent)


@cache
def server_event_adapter() -> TypeAdapter[Any]:
    """A tagged-union adapter over every GA server event."""
    return _tagged_adapter(RealtimeServerEvent)


def validate_client_event(event: dict[str, Any] | str | bytes) -> BaseModel:
    """Parse a client event (dict or JSON text); raises ``pydantic.ValidationError`` when it is not one."""
    adapter = client_event_adapter()
    if isinstance(event, str | bytes):
        return adapter.validate_json(event)  # type: ignore[no-any-return]
    return adapter.validate_python(event)  # type: ignore[no-any-return]


def validate_server_event(event: dict[str, Any] | str | bytes) -> BaseModel:
    """Parse a server event (dict or JSON text); raises ``pydantic.ValidationError`` when it is not one."""
    adapter = server_event_adapter()
    if isinstance(event, str | bytes):
        return adapter.validate_json(event)  # type: ignore[no-any-return]
    return adapter.validate_python(event)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Rejection:
    """Why a client event was refused, in the fields of the API's ``error`` object."""

    message: str
    code: str
    param: str | None = None
    event_id: str | None = None


def _without_item_references(data: dict[str, Any]) -> dict[str, Any]:
    # The API takes {"type": "item_reference", "id": ...} in response.input (the SDK's params allow it), but the
    # SDK's event model lists only full items; check the rest and the references separately.
    response = data.get("response")
    if data.get("type") != "response.create" or not isinstance(response, dict):
        return data
    given = response.get("input")
    if not isinstance(given, list):
        return data
    kept = [
        e
        for e in given
        if not (isinstance(e, dict) and e.get("type") == "item_reference" and isinstance(e.get("id"), str))
    ]
    return {**data, "response": {**response, "input": kept}}


def parse_client_event(raw: str | bytes) -> dict[str, Any] | Rejection:
    """The event as a dict when it is valid JSON holding a valid GA client event, else why not."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return Rejection(f"Invalid JSON: {exc}", "invalid_json")
    except RecursionError:
        return Rejection("Invalid JSON: nested too deeply.", "invalid_json")
    if not isinstance(data, dict):
        return Rejection("Expected an event object.", "invalid_json")
    return check_client_event(data)


def require_client_event(event: object) -> dict[str, Any]:
    """``event`` when it is a client event the API accepts, else ``ValueError`` with the API's message (what
    ``widget.send_event`` and ``Session.send_event`` raise before sending anything)."""
    checked = (
        check_client_event(event) if isinstance(event, dict) else Rejection("Expected an event object.", "invalid_json")
    )
    if isinstance(checked, Rejection):
        where_ = f" ({checked.param})" if checked.param else ""
        raise ValueError(f"not a valid Realtime client event{where_}: {checked.message} [{checked.code}]")
    return checked


def check_client_event(data: dict[str, Any]) -> dict[str, Any] | Rejection:
    """``data`` itself when it is a valid GA client event, else why not."""
    raw_event_id = data.get("event_id")
    event_id = raw_event_id if isinstance(raw_event_id, str) else None
    event_type = data.get("type")
    if not isinstance(event_type, str):
        return Rejection("Missing required parameter: 'type'.", "missing_required_parameter", "type", event_id)
    if event_type not in CLIENT_EVENT_TYPES:
        supported = ", ".join(sorted(CLIENT_EVENT_TYPES))
        return Rejection(
            f"Invalid value: '{event_type}'. Supported values are: {supported}.", "invalid_value", "type", event_id
        )
    session = data.get("session")
    if event_type == "session.update" and isinstance(session, dict):
        problem = check_session_fields(session)
        if problem is not None:
            return Rejection(problem.message, problem.code, problem.param, event_id)
    try:
        validate_client_event(_without_item_references(data))
    except ValidationError as exc:
        first = first_error(exc)
        param = where(first, tagged_union=True) or None
        code = "missing_required_parameter" if first["type"] == "missing" else "invalid_type"
        return Rejection(f"Invalid '{param}': {first['msg']}.", code, param, event_id)
    return data
