"""The Realtime API's rules in one place: ``events`` (checking client and server events against the SDK's models,
as the API does) and ``rules`` (voices, defaults, limits, key lifetimes, how updates merge)."""

from realtime_widget.protocol.events import (
    CLIENT_EVENT_TYPES,
    Rejection,
    ValidationError,
    check_client_event,
    client_event_adapter,
    parse_client_event,
    require_client_event,
    server_event_adapter,
    validate_client_event,
    validate_server_event,
)

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
