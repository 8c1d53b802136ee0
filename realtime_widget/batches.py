"""The kernel side of the browser → kernel batch protocol (``docs/wire.md``, "Batches").

The browser sends ``{"type": "rtw:batch", "client": str, "seq": int, "items": [...]}`` and resends a batch until the
kernel acknowledges it, so the same batch can arrive twice and batches can arrive out of order. :class:`BatchInbox`
turns that stream into "every batch exactly once":

- every well-formed batch is acknowledged, duplicates included (the first ack may have been lost);
- the items of each ``(client, seq)`` are delivered once, in the order batches *arrive*. Nothing waits for a gap to
  fill, because a held-back batch would delay a tool call. The record therefore orders by each item's own time
  (``t``), never by arrival;
- malformed messages give an :class:`InboxResult` with ``error`` set and no ack; nothing raises.

Memory is bounded per client: a high-water mark below which every seq has been seen, plus the few seqs seen above it
(at most what the browser keeps pending, about 100, since the browser merges rather than grows past that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACK_TYPE", "BATCH_TYPE", "BatchInbox", "InboxResult"]

BATCH_TYPE = "rtw:batch"
ACK_TYPE = "rtw:ack"


@dataclass(frozen=True)
class InboxResult:
    """What to do with one incoming message.

    ``ack`` is the message to send back (``{"type": "rtw:ack", "client", "seq"}``), or ``None`` when the message was
    malformed. ``items`` are the new items to record (empty for a duplicate). ``error`` describes why a message was
    rejected, and is ``None`` for every well-formed batch. ``duplicate`` is true when the batch was seen before.
    """

    ack: dict[str, Any] | None
    items: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    duplicate: bool = False


@dataclass
class _ClientSeqs:
    # Every seq <= high_water has been processed; `above` holds processed seqs beyond it.
    high_water: int = 0
    above: set[int] = field(default_factory=set)

    def seen(self, seq: int) -> bool:
        return seq <= self.high_water or seq in self.above

    def mark(self, seq: int) -> None:
        self.above.add(seq)
        while self.high_water + 1 in self.above:
            self.high_water += 1
            self.above.discard(self.high_water)


class BatchInbox:
    """Deduplicates browser batches by ``(client, seq)``; pure logic, no I/O.

    >>> inbox = BatchInbox()
    >>> r = inbox.accept({"type": "rtw:batch", "client": "c1", "seq": 1, "items": [{"k": "event", "t": 1.0}]})
    >>> r.ack, len(r.items)
    ({'type': 'rtw:ack', 'client': 'c1', 'seq': 1}, 1)
    >>> len(inbox.accept({"type": "rtw:batch", "client": "c1", "seq": 1, "items": [{"k": "event"}]}).items)
    0
    """

    def __init__(self) -> None:
        self._clients: dict[str, _ClientSeqs] = {}

    def accept(self, message: object) -> InboxResult:
        """Validate one message, acknowledge it, and return its items unless it was seen before."""
        problem = _envelope_problem(message)
        if problem is not None:
            return InboxResult(ack=None, error=problem)
        assert isinstance(message, dict)  # checked by _envelope_problem; narrows the type for mypy
        client: str = message["client"]
        seq: int = message["seq"]
        ack = {"type": ACK_TYPE, "client": client, "seq": seq}
        seqs = self._clients.setdefault(client, _ClientSeqs())
        if seqs.seen(seq):
            return InboxResult(ack=ack, duplicate=True)
        seqs.mark(seq)
        items = [item for item in message["items"] if isinstance(item, dict)]
        dropped = len(message["items"]) - len(items)
        error = f"{dropped} item(s) in batch {seq} were not objects and were dropped" if dropped else None
        return InboxResult(ack=ack, items=items, error=error)

    def last_seq(self) -> dict[str, int]:
        """The high-water mark per client: every seq up to it has been processed (the ``history`` reply's
        ``last_seq``)."""
        return {client: seqs.high_water for client, seqs in self._clients.items()}

    def pending_above(self, client: str) -> int:
        """How many seqs above the high-water mark are held for ``client`` (a measure of reordering)."""
        seqs = self._clients.get(client)
        return len(seqs.above) if seqs else 0


def _envelope_problem(message: object) -> str | None:
    if not isinstance(message, dict):
        return f"a batch must be a JSON object, got {type(message).__name__}"
    if message.get("type") != BATCH_TYPE:
        return f"unexpected message type {message.get('type')!r}; expected {BATCH_TYPE!r}"
    client = message.get("client")
    if not isinstance(client, str) or not client:
        return "batch 'client' must be a non-empty string"
    seq = message.get("seq")
    # bool is an int subclass; True is not a sequence number.
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return f"batch 'seq' must be an integer >= 1, got {seq!r}"
    if not isinstance(message.get("items"), list):
        return "batch 'items' must be a list"
    return None
