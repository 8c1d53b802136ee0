"""Talk to a realtime voice model from a notebook over WebRTC, and study the session as DataFrames.

The names here are the whole public API; everything else is an implementation detail.
"""

from .config import SessionConfig
from .connection_options import ConnectionOptions
from .errors import ErrorInfo, RealtimeWidgetError
from .record import SessionRecord, load_sessions
from .tools import tool
from .widget import RealtimeWidget

__all__ = [
    "ConnectionOptions",
    "ErrorInfo",
    "RealtimeWidget",
    "RealtimeWidgetError",
    "SessionConfig",
    "SessionRecord",
    "load_sessions",
    "tool",
]
__version__ = "0.1.0"
