"""BatchInbox: every batch acknowledged, every (client, seq) processed once, whatever the comm does to them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_widget.batches import BatchInbox


def batch(seq: int, client: str = "c1", n: int = 2) -> dict[str, Any]:
    return {
        "type": "rtw:batch",
        "client": client,
        "seq": seq,
        "items": [{"k": "event", "t": seq * 10.0 + i} for i in range(n)],
    }


def test_a_batch_is_acknowledged_and_its_items_returned() -> None:
    result = BatchInbox().accept(batch(1))
    assert result.ack == {"type": "rtw:ack", "client": "c1", "seq": 1}
    assert [item["t"] for item in result.items] == [10.0, 11.0]
    assert result.error is None
    assert not result.duplicate


def test_a_duplicate_is_acknowledged_again_but_yields_nothing() -> None:
    inbox = BatchInbox()
    inbox.accept(batch(1))
    again = inbox.accept(batch(1))
    assert again.ack == {"type": "rtw:ack", "client": "c1", "seq": 1}
    assert again.items == []
    assert again.duplicate


def test_clients_are_counted_separately() -> None:
    inbox = BatchInbox()
    assert inbox.accept(batch(1, "a")).items
    assert inbox.accept(batch(1, "b")).items
    assert inbox.last_seq() == {"a": 1, "b": 1}


def test_reordered_batches_are_delivered_on_arrival_and_the_high_water_mark_catches_up() -> None:
    inbox = BatchInbox()
    assert inbox.accept(batch(3)).items
    assert inbox.accept(batch(2)).items
    assert inbox.last_seq() == {"c1": 0}
    assert inbox.pending_above("c1") == 2
    assert inbox.accept(batch(1)).items
    assert inbox.last_seq() == {"c1": 3}
    assert inbox.pending_above("c1") == 0
    assert inbox.accept(batch(2)).duplicate


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("not a dict", "JSON object"),
        ({"type": "rtw:other", "client": "c", "seq": 1, "items": []}, "unexpected message type"),
        ({"type": "rtw:batch", "client": "", "seq": 1, "items": []}, "client"),
        ({"type": "rtw:batch", "client": 7, "seq": 1, "items": []}, "client"),
        ({"type": "rtw:batch", "client": "c", "seq": 0, "items": []}, "seq"),
        ({"type": "rtw:batch", "client": "c", "seq": "1", "items": []}, "seq"),
        ({"type": "rtw:batch", "client": "c", "seq": True, "items": []}, "seq"),
        ({"type": "rtw:batch", "client": "c", "seq": 1, "items": {}}, "items"),
        ({"type": "rtw:batch", "client": "c", "seq": 1}, "items"),
    ],
)
def test_malformed_messages_get_an_error_and_no_ack(message: object, fragment: str) -> None:
    result = BatchInbox().accept(message)
    assert result.ack is None
    assert result.items == []
    assert result.error is not None
    assert fragment in result.error


def test_non_object_items_are_dropped_with_an_error_but_the_batch_is_acked() -> None:
    result = BatchInbox().accept({"type": "rtw:batch", "client": "c", "seq": 1, "items": [{"k": "event"}, 5, "x"]})
    assert result.ack is not None
    assert result.items == [{"k": "event"}]
    assert result.error is not None
    assert "2 item(s)" in result.error


# A comm that duplicates, reorders and drops messages; the browser resends what was not acknowledged.
deliveries = st.lists(st.integers(min_value=1, max_value=30), min_size=0, max_size=120)


@settings(max_examples=200, deadline=None)
@given(sent=st.integers(min_value=1, max_value=30), noise=deliveries, order=st.randoms(use_true_random=False))
def test_every_batch_is_processed_exactly_once_under_duplication_reordering_and_loss(
    sent: int, noise: list[int], order: Any
) -> None:
    inbox = BatchInbox()
    # Lossy, noisy first pass: arbitrary seqs (repeats included, some never), in arbitrary order.
    first_pass = [seq for seq in noise if seq <= sent]
    order.shuffle(first_pass)
    received: list[float] = []
    acked: set[int] = set()
    for seq in first_pass:
        result = inbox.accept(batch(seq))
        assert result.ack is not None
        acked.add(result.ack["seq"])
        received.extend(item["t"] for item in result.items)
    # The browser resends everything unacknowledged (in order), and some acknowledged ones again (lost acks).
    for seq in range(1, sent + 1):
        if seq not in acked or seq % 3 == 0:
            result = inbox.accept(batch(seq))
            received.extend(item["t"] for item in result.items)
    expected = sorted(seq * 10.0 + i for seq in range(1, sent + 1) for i in range(2))
    assert sorted(received) == expected
    assert inbox.last_seq() == {"c1": sent}
    assert inbox.pending_above("c1") == 0
