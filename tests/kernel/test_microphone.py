"""Mic-less mode on the kernel side: microphone=False reaches the browser, and a connection without a microphone
is visible in Python (the mic_off trait and a timeline row) from the browser's batches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from realtime_widget import RealtimeWidget

UNUSED_BASE_URL = "http://127.0.0.1:9/v1"


def make(**kwargs: Any) -> Any:
    w = RealtimeWidget(api_key="sk-" + "test" * 6, base_url=UNUSED_BASE_URL, **kwargs)
    w.sent = []
    w.send = lambda content, buffers=None: w.sent.append(content)
    return w


@pytest.fixture
def widget() -> Iterator[Any]:
    w = make()
    yield w
    w.close()


def timeline(seq: int, what: str, **detail: Any) -> dict[str, Any]:
    item = {"k": "timeline", "t": time.time() * 1000, "what": what, "attempt": 1, "detail": detail}
    return {"type": "rtw:batch", "client": "c1", "seq": seq, "items": [item]}


def test_the_microphone_is_asked_for_by_default_and_microphone_false_syncs_to_the_browser() -> None:
    asks, receive_only = make(), make(microphone=False)
    try:
        assert asks.microphone is True
        assert receive_only.microphone is False
        assert receive_only.get_state()["microphone"] is False
    finally:
        asks.close()
        receive_only.close()


def test_microphone_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="microphone must be True or False"):
        RealtimeWidget(api_key="sk-" + "test" * 6, base_url=UNUSED_BASE_URL, microphone="no")


def test_a_connection_without_microphone_says_why_in_python_and_in_the_record(widget: Any) -> None:
    changes: list[dict[str, Any]] = []
    widget.observe(lambda change: changes.append(change["new"]), names=["mic_off"])
    off = {
        "reason": "denied",
        "message": "The microphone is off: access to it was refused.",
        "hint": "Type to talk; ...",
        "detail": "NotAllowedError: Permission denied",
    }
    widget._on_custom_message(widget, timeline(1, "mic_off", **off), [])
    assert widget.mic_off == off
    assert changes == [off]
    rows = widget.record.timeline
    assert list(rows[rows["what"] == "mic_off"]["what"]) == ["mic_off"]
    # A later connection with the microphone clears it.
    widget._on_custom_message(widget, timeline(2, "mic_ready", label="Fake mic"), [])
    assert widget.mic_off == {}
