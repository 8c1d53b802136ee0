"""User callbacks on Realtime events: ``widget.on("response.done", fn)``."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], Any]


class EventDispatcher:
    """Calls the callbacks registered for an event's type (and for ``"*"``). A failing callback is logged and
    does not stop the others, nor the recording of the session."""

    def __init__(self) -> None:
        self._callbacks: defaultdict[str, list[EventCallback]] = defaultdict(list)

    def add(self, event_type: str, callback: EventCallback) -> Callable[[], None]:
        self._callbacks[event_type].append(callback)

        def remove() -> None:
            if callback in self._callbacks[event_type]:
                self._callbacks[event_type].remove(callback)

        return remove

    def dispatch(self, event: dict[str, Any]) -> None:
        event_type = str(event.get("type", ""))
        self._call([*self._callbacks.get(event_type, ()), *self._callbacks.get("*", ())], event_type, event)

    def dispatch_to(self, event_type: str, event: dict[str, Any]) -> None:
        """Calls the callbacks of ``event_type`` (only) with ``event``, whatever its own type."""
        self._call(list(self._callbacks.get(event_type, ())), event_type, event)

    @staticmethod
    def _call(callbacks: list[EventCallback], event_type: str, event: dict[str, Any]) -> None:
        for callback in callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("callback for %s failed", event_type)
