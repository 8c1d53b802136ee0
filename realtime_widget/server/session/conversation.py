"""The conversation: an ordered list of GA conversation items, with the lookups the client events need."""

from __future__ import annotations

import copy
from typing import Any

from realtime_widget.server.session.ids import new_id


class ItemNotFoundError(KeyError):
    """No item with that id in the conversation."""


def complete_item(item: dict[str, Any]) -> dict[str, Any]:
    """A client-supplied item as the server reports it: with ``id``, ``object``, ``status`` and (for messages)
    content parts filled in the way the API echoes them."""
    full = copy.deepcopy(item)
    full.setdefault("id", new_id("item"))
    full["object"] = "realtime.item"
    if full.get("type") in ("message", "function_call", "function_call_output"):
        full.setdefault("status", "completed")
    for part in full.get("content") or []:
        if part.get("type") == "input_audio":
            part.setdefault("transcript", None)
    return full


class Conversation:
    """Items oldest first. Ids are unique; ``insert`` places an item after ``previous_item_id`` like the API."""

    def __init__(self) -> None:
        self.id = new_id("conv")
        self.items: list[dict[str, Any]] = []
        # By id, so that the lookups every client event makes cost the same in a long conversation as in a short
        # one (a scan made 20k item creates quadratic).
        self._by_id: dict[str, dict[str, Any]] = {}

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def last_id(self) -> str | None:
        return self.items[-1]["id"] if self.items else None

    def get(self, item_id: str) -> dict[str, Any]:
        item = self._by_id.get(item_id)
        if item is None:
            raise ItemNotFoundError(item_id)
        return item

    def insert(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Add ``item`` at the end, first (``previous_item_id="root"``) or after a given item; returns the id of
        the item now before it (``None`` at the start)."""
        if previous_item_id is None:
            previous = self.last_id()
            self.items.append(item)
        elif previous_item_id == "root":
            previous = None
            self.items.insert(0, item)
        else:
            previous = previous_item_id
            self.items.insert(self.index(previous_item_id) + 1, item)
        self._by_id[item["id"]] = item
        return previous

    def index(self, item_id: str) -> int:
        if item_id in self._by_id:
            # Most lookups are of recent items: search from the end.
            for index in range(len(self.items) - 1, -1, -1):
                if self.items[index]["id"] == item_id:
                    return index
        raise ItemNotFoundError(item_id)

    def delete(self, item_id: str) -> None:
        del self.items[self.index(item_id)]
        del self._by_id[item_id]
