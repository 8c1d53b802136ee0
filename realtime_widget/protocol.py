"""Validation of Realtime events against the pydantic models in ``openai.types.realtime``.

The SDK's unions are tagged with its own marker, which pydantic ignores; rebuilding them with a real
``discriminator`` makes an unknown ``type`` fail with ``union_tag_invalid`` instead of a vague error.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union, get_args

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

__all__ = [
    "CLIENT_EVENT_TYPES",
    "ValidationError",
    "client_event_adapter",
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
