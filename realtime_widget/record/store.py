"""Compact, append-only columns for the event stream.

A long session holds ~10⁵ events. Python objects per event (a dict, or even one ``str`` per field) cost hundreds of
bytes each, so events are kept as: times in an ``array('q')`` of microseconds, small codes in typed arrays, repeated
strings (event types, item/response/call ids) interned once, and each payload as UTF-8 JSON packed into one growing
``bytearray`` with an end-offset array. Appending is a few array appends; nothing is rebuilt.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["NO_CODE", "EventStore", "Interner", "PackedStrings", "ms_to_us"]

#: Code stored for a missing interned string.
NO_CODE = -1

CLIENT, SERVER = 0, 1
_RAW_FLAG = 1
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def ms_to_us(ms: float) -> int:
    """Browser/epoch milliseconds (float) to integer microseconds, the record's time unit (exact through Parquet)."""
    return round(ms * 1000.0)


class PackedStrings:
    """Strings (or ``None``) packed as UTF-8 into one buffer: ~9 bytes of overhead per string instead of ~50."""

    def __init__(self) -> None:
        self._data = bytearray()
        # End offset of each string; -1 marks None (the previous end is found by scanning back, see _start).
        self._ends = array("q")
        self._last_end = 0

    def __len__(self) -> int:
        return len(self._ends)

    def append(self, text: str | None) -> None:
        if text is None:
            self._ends.append(-1)
            return
        self.append_bytes(text.encode())

    def append_bytes(self, data: bytes) -> None:
        self._data += data
        self._last_end = len(self._data)
        self._ends.append(self._last_end)

    def _span(self, i: int) -> tuple[int, int] | None:
        end = self._ends[i]
        if end < 0:
            return None
        j = i - 1
        while j >= 0 and self._ends[j] < 0:
            j -= 1
        return (self._ends[j] if j >= 0 else 0), end

    def get_bytes(self, i: int) -> bytes | None:
        span = self._span(i)
        return None if span is None else bytes(self._data[span[0] : span[1]])

    def get(self, i: int) -> str | None:
        span = self._span(i)
        return None if span is None else self._data[span[0] : span[1]].decode()

    def __iter__(self) -> Iterator[str | None]:
        """Every string in order, in one pass (faster than ``get`` in a loop)."""
        data, start = self._data, 0
        for end in self._ends:
            if end < 0:
                yield None
            else:
                yield data[start:end].decode()
                start = end

    def to_list(self) -> list[str | None]:
        return list(self)

    def nbytes(self) -> int:
        return len(self._data) + self._ends.itemsize * len(self._ends)


class Interner:
    """Maps repeated strings to small ints, so each distinct id is stored once."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, text: object) -> int:
        if not isinstance(text, str):
            return NO_CODE
        code = self._codes.get(text)
        if code is None:
            code = self._codes[text] = len(self.values)
            self.values.append(text)
        return code

    def lookup(self, text: str) -> int:
        """The code of ``text``, or NO_CODE when it never occurred (does not intern)."""
        return self._codes.get(text, NO_CODE)

    def decode(self, codes: npt.NDArray[np.int32]) -> list[str | None]:
        values = self.values
        return [values[c] if c >= 0 else None for c in codes.tolist()]


@dataclass
class EventStore:
    """The event items of a session: one entry per message that crossed the data channel, in arrival order."""

    time_us: array[int] = field(default_factory=lambda: array("q"))
    direction: array[int] = field(default_factory=lambda: array("b"))
    flags: array[int] = field(default_factory=lambda: array("b"))
    type_code: array[int] = field(default_factory=lambda: array("i"))
    item_code: array[int] = field(default_factory=lambda: array("i"))
    response_code: array[int] = field(default_factory=lambda: array("i"))
    call_code: array[int] = field(default_factory=lambda: array("i"))
    event_id: PackedStrings = field(default_factory=PackedStrings)
    # JSON text of the event, or the raw text for a message that was not JSON (flags & _RAW_FLAG).
    payload: PackedStrings = field(default_factory=PackedStrings)
    types: Interner = field(default_factory=Interner)
    ids: Interner = field(default_factory=Interner)

    def __len__(self) -> int:
        return len(self.time_us)

    def append(self, time_us: int, direction: str, event: object, raw: str | None) -> None:
        """Store one event item. ``event`` is the parsed JSON (any JSON value), or ``None`` with ``raw`` text."""
        self.time_us.append(time_us)
        self.direction.append(CLIENT if direction == "client" else SERVER)
        if not isinstance(event, dict):
            self.flags.append(_RAW_FLAG if event is None else 0)
            for codes in (self.type_code, self.item_code, self.response_code, self.call_code):
                codes.append(NO_CODE)
            self.event_id.append(None)
            if event is None:
                self.payload.append(raw if raw is not None else "")
            else:
                self.payload.append_bytes(_dumps(event).encode())
            return
        self.flags.append(0)
        self.type_code.append(self.types.code(event.get("type")))
        nested_item = event.get("item")
        nested_item = nested_item if isinstance(nested_item, dict) else {}
        nested_response = event.get("response")
        nested_response = nested_response if isinstance(nested_response, dict) else {}
        self.item_code.append(self.ids.code(event.get("item_id", nested_item.get("id"))))
        self.response_code.append(self.ids.code(event.get("response_id", nested_response.get("id"))))
        self.call_code.append(self.ids.code(event.get("call_id", nested_item.get("call_id"))))
        event_id = event.get("event_id")
        self.event_id.append(event_id if isinstance(event_id, str) else None)
        self.payload.append_bytes(_dumps(event).encode())

    def is_raw(self, i: int) -> bool:
        return bool(self.flags[i] & _RAW_FLAG)

    def event(self, i: int) -> dict[str, Any] | None:
        """The parsed event at position ``i`` (``None`` for a raw message or a non-object JSON value)."""
        if self.is_raw(i):
            return None
        data = self.payload.get_bytes(i)
        value = json.loads(data) if data else None
        return value if isinstance(value, dict) else None

    def wire_item(self, i: int) -> dict[str, Any]:
        """The event at ``i`` back in wire form (``docs/wire.md``), with ``t`` on the record's clock."""
        item: dict[str, Any] = {
            "k": "event",
            "t": self.time_us[i] / 1000.0,
            "dir": "client" if self.direction[i] == CLIENT else "server",
        }
        if self.is_raw(i):
            item["event"] = None
            item["raw"] = self.payload.get(i)
        else:
            data = self.payload.get_bytes(i)
            item["event"] = json.loads(data) if data else None
        return item

    def wire_lines(self) -> Iterator[str]:
        """Each event as one JSON line in wire form, built from the stored text without re-parsing it."""
        for i, text in enumerate(self.payload):
            direction = "client" if self.direction[i] == CLIENT else "server"
            head = f'{{"k":"event","t":{self.time_us[i] / 1000.0!r},"dir":"{direction}"'
            if self.flags[i] & _RAW_FLAG:
                yield head + ',"event":null,"raw":' + _dumps(text or "") + "}"
            else:
                yield head + ',"event":' + (text or "null") + "}"

    def codes(self, name: str) -> npt.NDArray[np.int32]:
        """A NumPy copy of one code column (``type_code``, ``item_code``, ...).

        A copy, not a view: an ``array`` exporting its buffer cannot grow, and the record must keep appending.
        """
        return np.frombuffer(getattr(self, name), dtype=np.int32).copy()

    def times(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self.time_us, dtype=np.int64).copy()

    def positions_of(self, *types: str) -> npt.NDArray[np.intp]:
        """Positions of events whose type is one of ``types``, in order."""
        wanted = [c for c in (self.types.lookup(t) for t in types) if c != NO_CODE]
        if not wanted or len(self) == 0:
            return np.empty(0, dtype=np.intp)
        return np.flatnonzero(np.isin(self.codes("type_code"), wanted))

    def nbytes(self) -> int:
        """Approximate bytes held (arrays and packed text; the interned strings are counted by tracemalloc only)."""
        arrays = (self.time_us, self.direction, self.flags, self.type_code, self.item_code, self.response_code)
        return (
            sum(a.itemsize * len(a) for a in (*arrays, self.call_code)) + self.event_id.nbytes() + self.payload.nbytes()
        )
