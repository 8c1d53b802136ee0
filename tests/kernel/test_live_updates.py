"""update_session while connected: only the changes go out, the server's answer is awaited, a refusal rolls back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from realtime_widget import RealtimeWidget, RealtimeWidgetError


@pytest.fixture
def widget() -> Any:
    w = RealtimeWidget(api_key="sk-" + "test" * 6, base_url="http://127.0.0.1:9/v1", voice="marin")
    w.sent = []
    w.send = w.sent.append
    w.status = "connected"
    yield w
    w.close()


def sent_events(widget: Any) -> list[dict[str, Any]]:
    return [m["command"]["event"] for m in widget.sent if m.get("type") == "rtw:cmd" and m["command"]["name"] == "send"]


def server_says(widget: Any, seq: int, event: dict[str, Any]) -> None:
    item = {"k": "event", "t": time.time() * 1000, "dir": "server", "event": event}
    widget._on_custom_message(widget, {"type": "rtw:batch", "client": "c1", "seq": seq, "items": [item]}, [])


def test_only_the_changed_options_are_sent_and_the_confirmed_config_is_awaited(widget: Any) -> None:
    update = widget.update_session(instructions="Be brief.")
    (event,) = sent_events(widget)
    assert event["session"] == {"type": "realtime", "instructions": "Be brief."}
    assert not update.done
    server_says(widget, 1, {"type": "session.updated", "session": {}})
    config = asyncio.run(_awaited(update))
    assert config.instructions == "Be brief."
    assert widget.config.instructions == "Be brief."


def test_a_refused_update_rolls_the_config_and_the_ui_back_and_raises_the_api_code(widget: Any) -> None:
    update = widget.update_session(voice="cedar")
    assert widget.settings["voice"] == "cedar"
    (event,) = sent_events(widget)
    refusal = {
        "type": "invalid_request_error",
        "code": "cannot_update_voice",
        "message": "Cannot update a conversation's voice if assistant audio is present.",
        "param": "session.audio.output.voice",
        "event_id": event["event_id"],
    }
    server_says(widget, 1, {"type": "error", "event_id": "event_1", "error": refusal})
    assert widget.config.voice == "marin"
    assert widget.settings["voice"] == "marin"
    notices = [m["command"] for m in widget.sent if m.get("type") == "rtw:cmd" and m["command"]["name"] == "notice"]
    assert notices[-1]["text"] == "The server refused voice: undone."
    with pytest.raises(RealtimeWidgetError) as raised:
        asyncio.run(_awaited(update))
    assert raised.value.code == "cannot_update_voice"


def test_answers_are_matched_in_order_and_a_later_refusal_keeps_earlier_changes(widget: Any) -> None:
    first = widget.update_session(instructions="One.")
    second = widget.update_session(voice="cedar")
    _, refused_event = sent_events(widget)
    server_says(widget, 1, {"type": "session.updated", "session": {}})
    error = {
        "type": "invalid_request_error",
        "code": "cannot_update_voice",
        "message": "No.",
        "event_id": refused_event["event_id"],
    }
    server_says(widget, 2, {"type": "error", "event_id": "event_2", "error": error})
    assert first.done
    assert first.refusal is None
    assert second.refusal is not None
    assert (widget.config.instructions, widget.config.voice) == ("One.", "marin")


def test_not_connected_the_change_waits_for_the_next_key_and_nothing_is_sent(widget: Any) -> None:
    widget.status = "idle"
    update = widget.update_session(voice="cedar")
    assert update.done
    assert sent_events(widget) == []
    assert widget.config.voice == "cedar"


def test_the_model_cannot_change_mid_session(widget: Any) -> None:
    with pytest.raises(ValueError, match="model cannot change"):
        widget.update_session(model="gpt-realtime-mini")
    assert sent_events(widget) == []


async def _awaited(update: Any) -> Any:
    return await update
