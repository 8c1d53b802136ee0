"""Talk to a realtime voice model from a notebook over WebRTC, and study the session as DataFrames.

The names here are the whole public API; everything else is an implementation detail. They are imported on first
use, so the local server's process (``python -m realtime_widget.server``) does not load the widget, pandas or
anywidget just because it lives in this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import SessionConfig
    from .connection_options import ConnectionOptions
    from .errors import ErrorInfo, RealtimeWidgetError
    from .record import SessionRecord, load_sessions
    from .session import Reply, Session, Utterance
    from .tools import tool
    from .widget import RealtimeWidget

_WHERE = {
    "ConnectionOptions": ".connection_options",
    "ErrorInfo": ".errors",
    "RealtimeWidget": ".widget",
    "RealtimeWidgetError": ".errors",
    "Reply": ".session",
    "Session": ".session",
    "SessionConfig": ".config",
    "SessionRecord": ".record",
    "load_sessions": ".record",
    "Utterance": ".session",
    "tool": ".tools",
}

__all__ = [
    "ConnectionOptions",
    "ErrorInfo",
    "RealtimeWidget",
    "RealtimeWidgetError",
    "Reply",
    "Session",
    "SessionConfig",
    "SessionRecord",
    "Utterance",
    "load_sessions",
    "tool",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'realtime_widget' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
