"""The browser's recorded audio reaching the kernel (docs/wire.md, "Audio chunks"): each chunk acknowledged, recorded
once, in order per side, gaps given up after a bound and filled with silence; and the widget's side of it."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from realtime_widget import RealtimeWidget
from realtime_widget.audio_inbox import AudioChunkInbox

UNUSED_BASE_URL = "http://127.0.0.1:9/v1"
RATE = 24_000
CHUNK = RATE // 2  # the browser's half-second chunks
T0 = 1_764_800_000_000.0  # browser ms


def fake_key() -> str:
    return "sk-" + "test" * 6


def tone(seq: int) -> bytes:
    """Half a second whose samples all equal ``seq`` (so the order on disk can be read back)."""
    return np.full(CHUNK, seq, dtype="<i2").tobytes()


def chunk(seq: int, side: str = "user", client: str = "c1", t: float | None = None) -> dict[str, Any]:
    start = T0 + (seq - 1) * 500.0 if t is None else t
    return {
        "type": "rtw:audio",
        "client": client,
        "side": side,
        "seq": seq,
        "t": start,
        "rate": RATE,
        "format": "pcm16",
    }


def test_every_chunk_is_acknowledged_and_released_once() -> None:
    inbox = AudioChunkInbox()
    first = inbox.accept(chunk(1), [tone(1)])
    again = inbox.accept(chunk(1), [tone(1)])  # resent after a lost ack
    assert first.ack == again.ack == {"type": "rtw:audio_ack", "client": "c1", "side": "user", "seq": 1}
    assert [c.seq for c in first.chunks] == [1]
    assert again.chunks == []
    assert again.duplicate


def test_chunks_are_released_in_order_per_side_whatever_order_they_arrive_in() -> None:
    inbox = AudioChunkInbox()
    released: list[tuple[str, int]] = []
    for seq, side in [(2, "user"), (1, "assistant"), (3, "user"), (1, "user"), (2, "assistant")]:
        result = inbox.accept(chunk(seq, side), [tone(seq)])
        assert result.ack is not None  # early ones are acknowledged too: they are kept, not resent
        released += [(c.side, c.seq) for c in result.chunks]
    assert released == [("assistant", 1), ("user", 1), ("user", 2), ("user", 3), ("assistant", 2)]
    assert inbox.received() == {"c1": {"user": 4, "assistant": 3}}


def test_a_gap_that_never_fills_is_given_up_after_a_bound() -> None:
    inbox = AudioChunkInbox(max_held=3)
    inbox.accept(chunk(1), [tone(1)])
    waiting = [inbox.accept(chunk(seq), [tone(seq)]).chunks for seq in (3, 4, 5)]
    assert waiting == [[], [], []]
    assert inbox.held() == 3
    released = inbox.accept(chunk(6), [tone(6)]).chunks  # a fourth held: chunk 2 is given up
    assert [c.seq for c in released] == [3, 4, 5, 6]
    assert inbox.skipped() == 1
    assert inbox.accept(chunk(2), [tone(2)]).chunks == []  # too late to place without shifting what follows


def test_each_page_numbers_its_own_chunks() -> None:
    inbox = AudioChunkInbox()
    inbox.accept(chunk(1, client="before-reload"), [tone(1)])
    after = inbox.accept(chunk(1, client="after-reload"), [tone(1)])
    assert [c.client for c in after.chunks] == ["after-reload"]
    assert inbox.received() == {"before-reload": {"user": 2}, "after-reload": {"user": 2}}


@pytest.mark.parametrize(
    ("change", "buffers", "words"),
    [
        ({"side": "both"}, None, "'side'"),
        ({"seq": 0}, None, "'seq'"),
        ({"seq": True}, None, "'seq'"),
        ({"t": float("nan")}, None, "'t'"),
        ({"rate": 0}, None, "'rate'"),
        ({"format": "opus"}, None, "'format'"),
        ({}, [], "one binary buffer"),
        ({}, [b"\x00\x01\x02"], "even number"),
    ],
)
def test_malformed_chunks_are_refused_with_a_reason_and_no_ack(
    change: dict[str, Any], buffers: list[bytes] | None, words: str
) -> None:
    result = AudioChunkInbox().accept({**chunk(1), **change}, [tone(1)] if buffers is None else buffers)
    assert result.ack is None
    assert result.chunks == []
    assert result.error is not None
    assert words in result.error


@pytest.fixture
def widget() -> Any:
    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, record_audio=True)
    w.sent = []
    w.send = w.sent.append
    yield w
    w.record.close_audio()
    w.close()


def test_the_widget_writes_chunks_in_order_on_the_records_clock(widget: Any) -> None:
    assert widget.record_audio is True
    widget.record.set_clock_offset(250.0)  # kernel minus browser
    for seq in (2, 1, 2, 3):  # early, then its predecessor, a repeat, and the next
        widget._on_custom_message(widget, chunk(seq), [memoryview(tone(seq))])
    acks = [m for m in widget.sent if m.get("type") == "rtw:audio_ack"]
    assert [a["seq"] for a in acks] == [2, 1, 2, 3]
    user = widget.record.audio.user
    assert user is not None
    assert user.sample_rate == RATE
    assert len(user.samples) == 3 * CHUNK
    assert [int(user.samples[i * CHUNK]) for i in range(3)] == [1, 2, 3]
    assert user.start.value // 1000 == round((T0 + 250.0) * 1000)


def test_a_lost_chunk_leaves_silence_where_it_was(widget: Any) -> None:
    inbox = widget._audio_inbox
    inbox._max_held = 1
    for seq in (1, 3, 4):
        widget._on_custom_message(widget, chunk(seq), [tone(seq)])
    user = widget.record.audio.user
    assert user is not None
    assert len(user.samples) == 4 * CHUNK
    assert [int(user.samples[i * CHUNK]) for i in range(4)] == [1, 0, 3, 4]


def test_recording_is_off_by_default_and_chunks_are_then_not_kept(caplog: pytest.LogCaptureFixture) -> None:
    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL)
    w.sent = []
    w.send = w.sent.append
    try:
        assert w.record_audio is False
        w._on_custom_message(w, chunk(1), [tone(1)])
        assert not w.record.audio
        with caplog.at_level(logging.WARNING):
            w._on_custom_message(w, {**chunk(2), "seq": -1}, [tone(1)])
        assert "not recorded" in caplog.text
    finally:
        w.close()


def test_record_audio_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="record_audio"):
        RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, record_audio="yes")
