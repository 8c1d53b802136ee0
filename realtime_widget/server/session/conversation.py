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

    def __contains__(self, item_id: object) -> bool:
        return any(item["id"] == item_id for item in self.items)

    def last_id(self) -> str | None:
        return self.items[-1]["id"] if self.items else None

    def get(self, item_id: str) -> dict[str, Any]:
        for item in self.items:
            if item["id"] == item_id:
                return item
        raise ItemNotFoundError(item_id)

    def insert(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Add ``item`` at the end, first (``previous_item_id="root"``) or after a given item; returns the id of
        the item now before it (``None`` at the start)."""
        if previous_item_id is None:
            previous = self.last_id()
            self.items.append(item)
            return previous
        if previous_item_id == "root":
            self.items.insert(0, item)
            return None
        index = self.index(previous_item_id)
        self.items.insert(index + 1, item)
        return previous_item_id

    def index(self, item_id: str) -> int:
        for index, item in enumerate(self.items):
            if item["id"] == item_id:
                return index
        raise ItemNotFoundError(item_id)

    def delete(self, item_id: str) -> None:
        del self.items[self.index(item_id)]
