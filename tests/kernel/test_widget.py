"""RealtimeWidget's kernel side without a browser: options, batch intake, tool calls, secrets in reprs."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from realtime_widget import RealtimeWidget, SessionConfig, tool

# Never contacted: these tests exercise what happens before and after the browser talks to a server.
UNUSED_BASE_URL = "http://127.0.0.1:9/v1"


def fake_key() -> str:
    return "sk-" + "test" * 6


@pytest.fixture
def widget() -> Any:
    @tool
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    w = RealtimeWidget(tools=[add], api_key=fake_key(), base_url=UNUSED_BASE_URL)
    w.sent = []  # what the kernel sent to the browser, in order
    w.send = w.sent.append
    yield w
    w.close()


def batch(seq: int, *events: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    items = [{"k": "event", "t": time.time() * 1000, "dir": d, "event": e} for d, e in events]
    return {"type": "rtw:batch", "client": "c1", "seq": seq, "items": items}


def client_events(widget: Any) -> list[dict[str, Any]]:
    return [m["command"]["event"] for m in widget.sent if m.get("type") == "rtw:cmd" and m["command"]["name"] == "send"]


def test_misspelt_options_name_the_closest_one() -> None:
    with pytest.raises(TypeError, match="did you mean 'api_key'"):
        RealtimeWidget(api_keys=fake_key())
    with pytest.raises(TypeError, match="did you mean 'voice'"):
        RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, voise="marin")


def test_batches_are_recorded_once_and_acknowledged(widget: Any) -> None:
    done = {
        "type": "response.output_audio_transcript.done",
        "event_id": "event_1",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "transcript": "Hello there.",
    }
    message = batch(1, ("server", done))
    widget._on_custom_message(widget, message, [])
    widget._on_custom_message(widget, message, [])  # resent after a lost ack
    assert [m for m in widget.sent if m.get("type") == "rtw:ack"] == [{"type": "rtw:ack", "client": "c1", "seq": 1}] * 2
    assert len(widget.record) == 1
    assert widget.transcript == [
        {"role": "assistant", "text": "Hello there.", "item_id": "item_1", "response_id": "resp_1"}
    ]


def test_a_function_call_runs_the_tool_and_answers_once_the_response_is_done(widget: Any) -> None:
    call = {
        "type": "response.function_call_arguments.done",
        "event_id": "event_2",
        "response_id": "resp_2",
        "item_id": "item_2",
        "output_index": 0,
        "call_id": "call_1",
        "name": "add",
        "arguments": '{"a": 2, "b": 3}',
    }
    widget._on_custom_message(widget, batch(1, ("server", call)), [])
    deadline = time.monotonic() + 10
    while not client_events(widget) and time.monotonic() < deadline:
        time.sleep(0.02)  # no event loop here, so the tool runs on a thread of its own
    assert client_events(widget) == [
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_1", "output": "5"},
        }
    ]
    widget._on_custom_message(
        widget,
        batch(
            2,
            (
                "server",
                {"type": "response.done", "event_id": "event_3", "response": {"id": "resp_2", "status": "completed"}},
            ),
        ),
        [],
    )
    assert client_events(widget)[-1] == {"type": "response.create"}
    assert list(widget.record.tool_calls.name) == ["add"]


def test_bad_client_events_are_refused_before_sending(widget: Any) -> None:
    with pytest.raises(ValueError, match="not a valid Realtime client event"):
        widget.send_event({"type": "response.creat"})
    assert client_events(widget) == []


def test_the_key_is_in_no_repr(widget: Any) -> None:
    shown = repr(widget) + repr(widget.config) + repr(widget.record) + str(widget.get_state())
    assert fake_key() not in shown


def test_a_malformed_batch_is_logged_not_dropped_silently(widget: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="realtime_widget.widget"):
        widget._on_custom_message(widget, {"type": "rtw:batch", "client": "c1", "seq": 0, "items": []}, [])
        widget._on_custom_message(widget, {"type": "rtw:batch", "client": "c1", "seq": 1, "items": [7]}, [])
    assert "seq' must be an integer >= 1" in caplog.text
    assert "were not objects and were dropped" in caplog.text


def test_send_event_accepts_and_refuses_exactly_what_the_server_does(widget: Any) -> None:
    # An item_reference in response.input is valid for the API (and the local server), though the SDK's event model
    # lists only full items: the one check both sides use knows it.
    widget.send_event({"type": "response.create", "response": {"input": [{"type": "item_reference", "id": "item_1"}]}})
    with pytest.raises(ValueError, match=r"Supported values are: .* \[invalid_value\]"):
        widget.send_event({"type": "no.such.event"})


MCP = {"type": "mcp", "server_label": "docs", "server_url": "https://example.invalid/mcp", "require_approval": "never"}


def test_config_tools_may_be_python_functions_tools_or_definitions_and_mcp_is_passed_untouched() -> None:
    @tool
    def area(width: float, height: float) -> float:
        """The area of a rectangle."""
        return width * height

    def perimeter(width: float, height: float) -> float:
        """The perimeter of a rectangle."""
        return 2 * (width + height)

    def volume(width: float, height: float, depth: float) -> float:
        """The volume of a box."""
        return width * height * depth

    config = SessionConfig(tools=[area, perimeter, MCP])
    assert [t.get("name", t.get("server_label")) for t in config.to_session()["tools"]] == ["area", "perimeter", "docs"]
    w = RealtimeWidget(config=config, api_key=fake_key(), base_url=UNUSED_BASE_URL)
    w.sent = []
    w.send = w.sent.append
    try:
        assert "area" in w.tools
        assert "perimeter" in w.tools  # Python tools of the config run in the kernel
        assert MCP in w.config.to_session()["tools"]  # the MCP server is passed on untouched
        w.status = "connected"
        w.add_tool(volume)
        (update,) = client_events(w)
        assert MCP in update["session"]["tools"]  # a change of tools does not drop it
        assert {t.get("name") for t in update["session"]["tools"]} >= {"area", "perimeter", "volume"}
    finally:
        w.close()


def test_a_slow_tool_says_it_is_working_on_it_out_of_band_then_answers() -> None:
    release = threading.Event()

    @tool(progress_message="One moment, I'm checking.", progress_after_s=0.05)
    def slow_lookup(region: str) -> str:
        """Looks a region up, slowly."""
        release.wait(10)
        return f"{region}: 42"

    w = RealtimeWidget(tools=[slow_lookup], api_key=fake_key(), base_url=UNUSED_BASE_URL)
    w.sent = []
    w.send = w.sent.append
    try:
        call = {"type": "response.function_call_arguments.done", "event_id": "event_2", "response_id": "resp_2",
                "item_id": "item_2", "output_index": 0, "call_id": "call_9", "name": "slow_lookup",
                "arguments": '{"region": "north"}'}  # fmt: skip
        w._on_custom_message(w, batch(1, ("server", call)), [])
        deadline = time.monotonic() + 10
        while not client_events(w) and time.monotonic() < deadline:
            time.sleep(0.02)
        (progress,) = client_events(w)
        assert progress["type"] == "response.create"
        assert progress["response"]["conversation"] == "none"  # not in the conversation, not held behind it
        assert "One moment, I'm checking." in progress["response"]["instructions"]
        notices = [m["command"] for m in w.sent if m.get("type") == "rtw:cmd" and m["command"]["name"] == "notice"]
        assert "slow_lookup is still running" in notices[-1]["text"]
        release.set()
        while len(client_events(w)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client_events(w)[1]["item"]["output"] == "north: 42"
        assert "tool_progress" in list(w.record.timeline["what"])
    finally:
        release.set()
        w.close()


def test_autosave_saves_while_connected_and_says_once_when_the_disk_is_full(tmp_path: Path) -> None:
    from realtime_widget.record import SessionRecord
    from realtime_widget.sample import synthetic_items

    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, autosave=tmp_path, autosave_every_s=0.05)
    w.sent = []
    w.send = w.sent.append
    w.record.add_items(synthetic_items(2, seed=1))
    folder = tmp_path / w.record.session_id
    real_save = w.record.save

    attempts: list[Path] = []

    def full_disk(path: Path) -> Path:
        attempts.append(path)
        raise OSError(28, "No space left on device")

    async def eventually(check: Any) -> None:
        for _ in range(1000):  # ten seconds at most
            if check():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the condition never held")

    async def scenario() -> None:
        w._autosave.follow("connected", w)
        await eventually((folder / "meta.json").exists)
        w.record.save = full_disk
        await eventually(lambda: len(attempts) >= 3)  # several failed saves, said once
        w.record.save = real_save
        w._autosave.follow("closed", w)
        await w._autosave._tasks.drain()

    try:
        asyncio.run(scenario())
        notices = [
            m["command"]["text"] for m in w.sent if m.get("type") == "rtw:cmd" and m["command"]["name"] == "notice"
        ]
        assert len(notices) == 1
        assert "No space left on device" in notices[0]
        assert "the last good save is kept" in notices[0]
        assert list(w.record.timeline["what"]).count("autosave_failed") == 1
        assert len(SessionRecord.load(folder)) == len(w.record)  # the save on close has everything
    finally:
        w.close()


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: RealtimeWidget(tools=[1]), TypeError, "a tool must be a function; got int"),
        (lambda: tool(_doubled, description=5), TypeError, "description must be a string"),
        (lambda: tool(_doubled, timeout_s=float("nan")), ValueError, "timeout_s must be a positive, finite"),
        (lambda: RealtimeWidget(api_key=123), TypeError, "api_key must be a string"),
        (lambda: RealtimeWidget(key_ttl_seconds="x"), TypeError, "key_ttl_seconds must be a whole number"),
        (lambda: RealtimeWidget(key_ttl_seconds=5), ValueError, "between 10 and 7200"),
        (lambda: SessionConfig(max_output_tokens=True), TypeError, "max_output_tokens must be a whole number"),
        (lambda: tool(_counting), TypeError, "must return its result, not yield it"),
    ],
)
def test_wrong_arguments_are_refused_at_once_naming_the_argument(make: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        make()


def _doubled(x: int) -> int:
    """Doubles x."""
    return 2 * x


def _counting(n: int) -> Any:
    """Counts to n."""
    yield from range(n)


def test_autosave_follows_the_status_the_browser_writes(tmp_path: Path) -> None:
    # The browser's status trait usually reaches the kernel before the batch with the timeline's milestone.
    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, autosave=tmp_path, autosave_every_s=0.05)
    w.sent = []
    w.send = w.sent.append

    async def scenario() -> None:
        w.status = "connected"
        assert w._autosave is not None
        assert w._autosave._periodic is not None
        w.status = "closed"
        assert w._autosave._periodic is None
        await w._autosave._tasks.drain()

    try:
        asyncio.run(scenario())
        assert (tmp_path / w.record.session_id / "meta.json").exists()  # the save when the connection ended
    finally:
        w.close()


def test_an_error_from_a_failed_attempt_is_cleared_once_connected() -> None:
    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL)
    try:
        w.status = "reconnecting"
        w.error = {"code": "network", "message": "Could not reach the server.", "hint": "Check it runs."}
        w.status = "connected"
        assert w.error == {}
        w.error = {"code": "channel_closed", "message": "Lost.", "hint": ""}
        w.status = "failed"
        assert w.error["code"] == "channel_closed"  # a failure's error stays
    finally:
        w.close()


def test_a_failed_call_is_hung_up_even_when_the_status_trait_came_first() -> None:
    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL)
    hung_up: list[str] = []
    w._hang_up = hung_up.append  # type: ignore[method-assign]
    try:
        w._follow_timeline({"k": "timeline", "what": "answer_received", "detail": {"call_id": "rtc_stuck"}})
        w.status = "failed"  # the browser's trait, ahead of its batch
        w._follow_timeline({"k": "timeline", "what": "failed", "detail": {"code": "ice_failed"}})
        assert hung_up == ["rtc_stuck"]
        w._follow_timeline({"k": "timeline", "what": "failed", "detail": {"code": "ice_failed"}})
        assert hung_up == ["rtc_stuck"]  # once
    finally:
        w.close()


def test_a_webrtc_call_left_behind_by_the_websocket_fallback_is_hung_up() -> None:
    w = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL)
    hung_up: list[str] = []
    w._hang_up = hung_up.append  # type: ignore[method-assign]
    try:
        w._follow_timeline({"k": "timeline", "what": "transport", "detail": {"transport": "webrtc"}})
        w._follow_timeline({"k": "timeline", "what": "answer_received", "detail": {"call_id": "rtc_stuck"}})
        assert hung_up == []
        w._follow_timeline(
            {"k": "timeline", "what": "transport", "detail": {"transport": "websocket", "reason": "ICE"}}
        )
        assert hung_up == ["rtc_stuck"]
        assert w.call_id is None  # the WebSocket session has no call
        w._follow_timeline({"k": "timeline", "what": "connected", "detail": {}})
        assert hung_up == ["rtc_stuck"]
    finally:
        w.close()
