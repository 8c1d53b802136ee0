"""The kernel's commands answer anywidget's command format sent as a plain custom message, as front ends without a
working ``experimental.invoke`` (marimo) send them (js/src/connection/commands.ts)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from realtime_widget import RealtimeWidget

UNUSED_BASE_URL = "http://127.0.0.1:9/v1"


@pytest.fixture
def widget() -> Iterator[Any]:
    w = RealtimeWidget(api_key="sk-" + "test" * 6, base_url=UNUSED_BASE_URL)
    w.sent = []
    w.send = lambda content, buffers=None: w.sent.append(content)
    yield w
    w.close()


def command_message(request_id: str, name: str, msg: dict[str, Any]) -> dict[str, Any]:
    return {"id": request_id, "kind": "anywidget-command", "name": name, "msg": msg}


def test_a_command_sent_as_a_custom_message_gets_anywidgets_response(widget: Any) -> None:
    before = time.time() * 1000
    # Through the widget's comm dispatch, as a message from the browser arrives.
    widget._handle_custom_msg(command_message("req-1", "clock", {"t_browser": before}), [])
    [reply] = [m for m in widget.sent if m.get("kind") == "anywidget-command-response"]
    assert reply["id"] == "req-1"
    assert before <= reply["response"]["t_kernel"] <= time.time() * 1000


def test_history_over_a_custom_message_and_replies_find_their_request(widget: Any) -> None:
    widget._handle_custom_msg(command_message("a", "history", {}), [])
    widget._handle_custom_msg(command_message("b", "clock", {}), [])
    replies = {m["id"]: m["response"] for m in widget.sent if m.get("kind") == "anywidget-command-response"}
    assert replies["a"] == {"items": [], "last_seq": {}}
    assert "t_kernel" in replies["b"]
    # The batch handler ignores command messages: nothing was recorded and nothing acknowledged.
    assert len(widget.record) == 0
    assert not [m for m in widget.sent if m.get("type") == "rtw:ack"]
