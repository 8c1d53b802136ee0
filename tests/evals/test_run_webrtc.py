"""Evals over WebRTC (aiortc), the path the browser uses: spoken and typed turns, a tool call and a barge-in, each
expectation checked as over WebSocket, against the real local server."""

from __future__ import annotations

from realtime_widget.evals import Case, Say, Typed, expect, run
from realtime_widget.server.launcher import LocalServer

from .test_run import _single, get_weather


async def test_cases_run_over_webrtc(offline: LocalServer) -> None:
    long_reply = "This is a long scripted reply " + "that goes on and on " * 12 + "until it ends."
    conversation = Case(
        "spoken then typed",
        [
            Say("Hello"),
            expect.said("scripted words"),
            expect.latency_within(8000),
            Typed("What is the weather?"),
            expect.tool_called("get_weather", {"city": "Paris"}),
            expect.said("get_weather returned"),
            expect.no_error(),
        ],
        script=[
            {"say": "These are the scripted words."},
            {"call_tool": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        ],
    )
    barge_in = Case(
        "barge-in",
        [Say("Tell me a story"), Say("Stop", interrupt_after_ms=600), expect.interrupted(), expect.said("stopped")],
        script=[{"say": long_reply}, {"say": "OK, I stopped."}],
    )
    results = await run(
        [conversation, barge_in], tools=[get_weather], transport="webrtc", concurrency=2, progress=False
    )

    assert results.passed, results.table[["case", "failures"]].to_string()
    table = results.table
    spoken = _single(table, "spoken then typed")
    assert spoken["tool_calls"] == 1
    assert 0 < spoken["latency_ms"] <= 8000
    assert _single(table, "barge-in")["interrupted"]
    for session_id in table["session_id"]:
        record = results.records[session_id]
        kinds = set(record.events["type"])
        # WebRTC's own events: the server played the replies on the media track, not in audio deltas.
        assert "output_audio_buffer.started" in kinds
        assert "response.output_audio.delta" not in kinds
        assert record.validate().empty
