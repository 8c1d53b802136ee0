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
        for callback in [*self._callbacks.get(event_type, ()), *self._callbacks.get("*", ())]:
            try:
                callback(event)
            except Exception:
                log.exception("callback for %s failed", event_type)
