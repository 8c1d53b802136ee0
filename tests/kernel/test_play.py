"""widget.play(case) without a browser: the audio messages, following the record (ReplyWatch), and whole plays
against a scripted browser that answers over the same batches a real one sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from realtime_widget import RealtimeWidget, tool
from realtime_widget.evals import Case, Say, Silence, Typed, expect
from realtime_widget.play import PlayError
from realtime_widget.play.messages import audio_messages
from realtime_widget.play.reply_watch import ReplyWatch

UNUSED_BASE_URL = "http://127.0.0.1:9/v1"


def fake_key() -> str:
    return "sk-" + "test" * 6


def quiet_tts(text: str) -> Any:
    """A stand-in text-to-speech: 0.2 s of low noise per word (the tests look at messages, not sound)."""
    return np.full(4800 * max(1, len(text.split())), 100, dtype=np.int16)


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"k": "event", "t": time.time() * 1000, "dir": "server", "event": {"type": kind, **fields}}


def timeline(what: str, **detail: Any) -> dict[str, Any]:
    return {"k": "timeline", "t": time.time() * 1000, "what": what, "attempt": 1, "detail": detail}


def reply(response_id: str, text: str) -> list[dict[str, Any]]:
    """A whole spoken reply as the browser reports it over WebRTC: created, transcript, done, audio played."""
    done = {"id": response_id, "object": "realtime.response", "status": "completed", "output": []}
    return [
        event("response.created", response={"id": response_id, "object": "realtime.response"}),
        event("output_audio_buffer.started", response_id=response_id),
        event(
            "response.output_audio_transcript.done",
            response_id=response_id,
            item_id="item_" + response_id,
            output_index=0,
            content_index=0,
            transcript=text,
        ),
        event("response.done", response=done),
        event("output_audio_buffer.stopped", response_id=response_id),
    ]


# ---- the audio messages ----------------------------------------------------------------------------------------


def test_speech_goes_as_one_second_buffers_of_little_endian_pcm_the_last_one_marked() -> None:
    pcm = np.arange(60_000, dtype=np.int16)  # 2.5 s at 24 kHz
    messages = audio_messages("p1", 3, pcm)
    assert [len(buffer) for _, buffer in messages] == [48_000, 48_000, 24_000]
    bodies = [content["command"] for content, _ in messages]
    assert [b["seq"] for b in bodies] == [0, 1, 2]
    assert [b["last"] for b in bodies] == [False, False, True]
    assert {(b["name"], b["play_id"], b["step"], b["sample_rate"]) for b in bodies} == {("play_audio", "p1", 3, 24000)}
    assert np.frombuffer(b"".join(buffer for _, buffer in messages), dtype="<i2").tolist() == pcm.tolist()
    assert all(isinstance(buffer, bytes) for _, buffer in messages)  # binary buffers, never JSON arrays
    empty = audio_messages("p1", 1, np.zeros(0, dtype=np.int16))
    assert [(c["command"]["last"], b) for c, b in empty] == [(True, b"")]


# ---- following the record ----------------------------------------------------------------------------------


def test_a_typed_turn_is_answered_once_its_reply_is_done_and_heard() -> None:
    watch = ReplyWatch("p1")
    watch.begin_turn(spoken=False)
    items = reply("resp_1", "hello")
    for item in items[:-1]:
        watch.feed(item)
        assert not watch.reply_heard()
    assert watch.reply_audio_started()
    watch.feed(items[-1])  # output_audio_buffer.stopped: the audio was heard to the end
    assert watch.reply_heard()


def test_a_tool_call_waits_for_its_follow_up_reply() -> None:
    watch = ReplyWatch("p1")
    watch.begin_turn(spoken=False)
    call = {"id": "resp_1", "status": "completed", "output": [{"type": "function_call", "name": "add"}]}
    watch.feed(event("response.created", response={"id": "resp_1"}))
    watch.feed(event("response.done", response=call))
    assert not watch.reply_heard()  # the kernel's follow-up response.create is on its way
    for item in reply("resp_2", "three"):
        watch.feed(item)
    assert watch.reply_heard()


def test_a_spoken_turn_is_answered_by_a_response_to_its_committed_audio_not_one_it_cut_off() -> None:
    watch = ReplyWatch("p1")
    watch.feed(event("response.created", response={"id": "resp_old"}))
    watch.begin_turn(spoken=True)
    watch.feed(event("response.done", response={"id": "resp_old", "status": "cancelled", "output": []}))
    assert not watch.reply_heard()
    watch.feed(event("input_audio_buffer.committed", item_id="item_1"))
    for item in reply("resp_new", "answer"):
        watch.feed(item)
    assert watch.reply_heard()


def test_the_browser_reports_spoken_steps_and_stop_for_its_own_play_only() -> None:
    watch = ReplyWatch("p1")
    watch.feed(timeline("play_spoken", play_id="other", step=1, started_t=1.0, ended_t=2.0, played=True))
    watch.feed(timeline("play_stopped", play_id="other", step=1))
    assert watch.spoken == {}
    assert not watch.stopped
    watch.feed(timeline("play_spoken", play_id="p1", step=1, started_t=1.0, ended_t=2.5, played=True))
    assert watch.spoken[1].ended_t == 2.5
    assert watch.spoken[1].played
    watch.feed(timeline("play_stopped", play_id="p1", step=2))
    assert watch.stopped


def test_over_websocket_the_reply_is_heard_when_the_browser_player_drains() -> None:
    watch = ReplyWatch("p1")
    watch.feed(timeline("transport", transport="websocket"))
    watch.begin_turn(spoken=False)
    watch.feed(event("response.created", response={"id": "resp_1"}))
    watch.feed(timeline("playback_started"))
    assert watch.reply_audio_started()
    watch.feed(event("response.done", response={"id": "resp_1", "status": "completed", "output": []}))
    assert not watch.reply_heard()  # generated faster than it plays: still sounding
    watch.feed(timeline("playback_drained"))
    assert watch.reply_heard()


# ---- whole plays, against a scripted browser ----------------------------------------------------------------


@tool
def total_sales(region: str) -> float:
    """Total sales in a region.

    Args:
        region: the region's name.
    """
    return 12.5


class ScriptedBrowser:
    """Answers the kernel's play commands and client events with the batches a browser would send."""

    def __init__(self, widget: RealtimeWidget) -> None:
        self.widget = widget
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self.seq = 0
        self.responses = 0
        self.on_audio: Callable[[dict[str, Any]], list[dict[str, Any]]] = self.speak_and_answer
        widget.send = self.receive  # type: ignore[method-assign]

    def commands(self, name: str) -> list[dict[str, Any]]:
        return [c["command"] for c, _ in self.sent if c.get("type") == "rtw:cmd" and c["command"]["name"] == name]

    def receive(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.sent.append((content, list(buffers or [])))
        body = content.get("command") or {}
        if body.get("name") == "play_audio" and body.get("last"):
            self.later(self.on_audio(body))
        elif body.get("name") == "send":
            # Every event sent is reported back as it crossed the channel, as the browser does.
            self.later([{"k": "event", "t": time.time() * 1000, "dir": "client", "event": body["event"]}])
            if body["event"]["type"] == "response.create":
                self.responses += 1
                self.later(reply(f"resp_t{self.responses}", "you typed it"))

    def speak_and_answer(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        self.responses += 1
        spoken = timeline(
            "play_spoken",
            play_id=body["play_id"],
            step=body["step"],
            started_t=time.time() * 1000 - 500,
            ended_t=time.time() * 1000,
            played=True,
        )
        heard = event(
            "conversation.item.input_audio_transcription.completed", item_id="item_u", content_index=0, transcript="hi"
        )
        return [spoken, event("input_audio_buffer.committed", item_id="item_u"), heard, *reply("resp_s", "hello")]

    def later(self, items: list[dict[str, Any]]) -> None:
        """A batch that arrives after this send returns, as the comm delivers it."""
        self.seq += 1
        message = {"type": "rtw:batch", "client": "c1", "seq": self.seq, "items": items}
        asyncio.get_running_loop().call_soon(self.widget._on_custom_message, self.widget, message, [])


@pytest.fixture
def connected() -> Any:
    w = RealtimeWidget(tools=[total_sales], api_key=fake_key(), base_url=UNUSED_BASE_URL)
    browser = ScriptedBrowser(w)
    w.status = "connected"
    yield w, browser
    w.close()


def test_a_played_case_speaks_types_and_passes_with_the_evals_result(connected: Any) -> None:
    w, browser = connected
    case = Case(
        "demo",
        [
            Say("Hello there"),
            expect.said("hello"),
            Silence(10),
            Typed("What now?"),
            expect.said("typed"),
            expect.no_error(),
        ],
    )
    results = asyncio.run(w.play(case, tts=quiet_tts))
    assert results.passed, results.passed
    row = results.table.iloc[0]
    assert (row["variant"], row["case"], row["session_id"]) == ("widget", "demo", w.record.session_id)
    steps = browser.commands("play_step")
    assert [(s["step"], s["what"]) for s in steps] == [
        (1, "say 'Hello there'"),
        (2, "silence 10 ms"),
        (3, "type 'What now?'"),
    ]
    assert browser.commands("play_start")[0]["steps"] == 3
    assert browser.commands("play_end")[0]["outcome"] == "passed"
    audio = [buffers for c, buffers in browser.sent if c.get("command", {}).get("name") == "play_audio"]
    assert audio
    assert all(len(buffers) == 1 for buffers in audio)
    whats = list(w.record.timeline["what"])
    assert whats.count("eval_step") == 3
    assert "play_end" in whats


def test_an_expectation_that_fails_reads_as_the_evals_failures_do(connected: Any) -> None:
    w, _ = connected
    case = Case("typed", [Typed("What now?"), expect.said("never said")])
    results = asyncio.run(w.play(case, tts=quiet_tts))
    assert not results.passed
    text = repr(results.passed)
    assert "widget / typed / repeat 0, step 2" in text
    assert "assistant: you typed it" in text


def test_only_the_part_of_the_record_made_during_the_play_is_checked(connected: Any) -> None:
    w, browser = connected

    async def scenario() -> Any:
        browser.later(reply("resp_before", "a tool before the play"))
        await asyncio.sleep(0)  # the earlier reply is recorded before the play starts
        return await w.play(Case("late", [Typed("Hi"), expect.said("tool before", scope="case")]), tts=quiet_tts)

    results = asyncio.run(scenario())
    assert not results.passed


def test_stop_in_the_browser_ends_the_play_with_a_stopped_result(connected: Any) -> None:
    w, browser = connected
    browser.on_audio = lambda body: [timeline("play_stopped", play_id=body["play_id"], step=body["step"], by="user")]
    case = Case("long", [Say("A long speech"), Typed("never sent")])
    results = asyncio.run(w.play(case, tts=quiet_tts))
    assert not results.passed
    assert "stopped: Stop was pressed" in results.table.iloc[0]["failures"][0]
    assert browser.commands("play_end")[0]["outcome"] == "stopped"
    assert not any(c["event"]["type"] == "conversation.item.create" for c in browser.commands("send"))


def test_a_connection_that_drops_mid_play_fails_the_play_and_keeps_the_record(connected: Any) -> None:
    w, browser = connected
    browser.on_audio = lambda body: [
        event("input_audio_buffer.committed", item_id="item_u"),
        timeline("failed", code="channel_closed", message="The data channel closed.", hint=""),
    ]
    results = asyncio.run(w.play(Case("drop", [Say("Hello there"), Typed("never sent")]), tts=quiet_tts))
    failure = results.table.iloc[0]["failures"][0]
    assert "the connection dropped mid-play (status 'failed')" in failure
    assert "input_audio_buffer.committed" in set(w.record.events["type"])  # what came before is kept
    assert browser.commands("play_end")[0]["outcome"] == "failed"


def test_a_browser_with_no_call_left_to_play_into_is_a_dropped_connection(connected: Any) -> None:
    # The browser's play_error can arrive before its status write (held at the start of a reconnect).
    w, browser = connected
    browser.on_audio = lambda body: [
        timeline(
            "play_error",
            play_id=body["play_id"],
            step=body["step"],
            reason="not_connected",
            message="Could not play: not connected.",
        )
    ]
    results = asyncio.run(w.play(Case("drop", [Say("Hello there")]), tts=quiet_tts))
    failure = results.table.iloc[0]["failures"][0]
    assert "the connection dropped mid-play (the browser had no call to play into)" in failure
    assert browser.commands("play_end")[0]["outcome"] == "failed"


def test_a_step_that_never_completes_times_out_and_says_which(connected: Any) -> None:
    w, browser = connected
    browser.on_audio = lambda body: []  # the browser never says the speech has sounded
    results = asyncio.run(w.play(Case("stuck", [Say("Hello")], timeout_s=0.2), tts=quiet_tts))
    assert "did not finish within 0.2 s" in results.table.iloc[0]["failures"][0]
    assert "eval_step_timeout" in set(w.record.timeline["what"])


def test_bad_plays_are_refused_before_anything_is_sent(connected: Any) -> None:
    w, browser = connected
    with pytest.raises(ValueError, match="expects tool 'total_sale', which the session does not have") as caught:
        asyncio.run(w.play(Case("typo", [Typed("Sales?"), expect.tool_called("total_sale")])))
    assert "did you mean 'total_sales'" in str(caught.value).lower()

    async def two_at_once() -> None:
        first = asyncio.ensure_future(w.play(Case("one", [Typed("Hi")]), tts=quiet_tts))
        await asyncio.sleep(0)
        with pytest.raises(PlayError, match="case 'one' is playing"):
            await w.play(Case("two", [Typed("Hi")]), tts=quiet_tts)
        await first

    asyncio.run(two_at_once())
    w.status = "closed"
    with pytest.raises(PlayError, match="not connected"):
        asyncio.run(w.play(Case("offline", [Typed("Hi")])))
    assert len(browser.commands("play_start")) == 1


def test_a_barge_in_speaks_its_delay_after_the_reply_began_to_sound_without_waiting_for_it_to_end(
    connected: Any,
) -> None:
    w, browser = connected
    order: list[str] = []
    typed_reply = reply("resp_long", "a long answer")

    def answer_typed(content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        body = content.get("command") or {}
        if body.get("name") == "send" and body["event"]["type"] == "response.create":
            order.append("response.create")
            browser.sent.append((content, []))
            # The reply begins to sound, and never ends by itself: the barge-in must not wait for it.
            browser.later(typed_reply[:2])
            return
        if body.get("name") == "play_audio":
            order.append("barge-in audio")
            # The server hears the user over the reply: it cancels the reply and clears its audio.
            cancelled = {"id": "resp_long", "object": "realtime.response", "status": "cancelled", "output": []}
            browser.later([event("response.done", response=cancelled), event("output_audio_buffer.cleared")])
        ScriptedBrowser.receive(browser, content, buffers)

    w.send = answer_typed  # type: ignore[method-assign]
    case = Case("barge", [Typed("Tell me everything"), Say("Stop please", interrupt_after_ms=50), expect.no_error()])
    results = asyncio.run(w.play(case, tts=quiet_tts))
    assert results.passed, results.passed
    assert order[:2] == ["response.create", "barge-in audio"]
