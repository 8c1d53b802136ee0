"""Checking client events as the API does before acting on them: JSON, a known ``type``, fields of the right types.

A failure is a ``Rejection`` carrying what the ``error`` server event needs (code, message, param, event id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from realtime_widget.protocol import CLIENT_EVENT_TYPES, validate_client_event
from realtime_widget.validation_errors import first_error, where


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
    if not isinstance(data, dict):
        return Rejection("Expected an event object.", "invalid_json")
    return check_client_event(data)


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
    try:
        validate_client_event(_without_item_references(data))
    except ValidationError as exc:
        first = first_error(exc)
        param = where(first, tagged_union=True) or None
        code = "missing_required_parameter" if first["type"] == "missing" else "invalid_type"
        return Rejection(f"Invalid '{param}': {first['msg']}.", code, param, event_id)
    return data
