"""Runs against the real local server (a child process, over real WebSocket): each kind of expectation made to pass
and to fail on purpose with its deterministic responder and its scripted mode; variants, repeats and concurrency;
every record saved; and the bad inputs: an unknown tool, a step that never completes, an invalid variant, a
session that drops mid-case."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from PIL import Image as PILImage

from realtime_widget import load_sessions, tool
from realtime_widget.evals import Case, Image, Say, Silence, Typed, expect, load, run
from realtime_widget.server.launcher import LocalServer
from tests.e2e.speech import write_mic_wav


@tool
def get_weather(city: str) -> dict[str, object]:
    """The weather in a city.

    Args:
        city: the city's name.
    """
    return {"city": city, "temperature": 21, "condition": "sunny"}


def _single(results_table: pd.DataFrame, case: str) -> pd.Series:
    rows = results_table[results_table["case"] == case]
    assert len(rows) == 1, rows
    return rows.iloc[0]


async def test_each_expectation_passes_and_fails_on_purpose(offline: LocalServer) -> None:
    greeting = "Hello! How can I help you today?"  # the deterministic responder's answer to a greeting
    cases = [
        Case(
            "typed passes",
            [
                Typed("Hello there"),
                expect.said("how can I help"),
                expect.no_error(),
                expect.cost_under(1.0),
                expect.interrupted(False),
            ],
        ),
        Case("typed fails", [Typed("Hello there"), expect.said("goodbye"), expect.cost_under(1e-9)]),
        Case(
            "tool",
            [
                Typed("What is the weather?"),
                expect.tool_called("get_weather", {"city": "Paris"}),
                expect.tool_called("get_weather", {"city": "Rome"}),
                expect.said("get_weather returned"),
            ],
            script=[{"call_tool": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        ),
        Case(
            "spoken",
            [Say("Hello"), expect.latency_within(8000), expect.latency_within(1), expect.said("scripted words")],
            script=[{"say": "These are the scripted words."}],
        ),
        Case("fails on the server", [Typed("Hello"), expect.no_error()], script=[{"fail": "server_error"}]),
    ]
    results = await run(cases, tools=[get_weather], concurrency=3, progress=False)
    table = results.table
    assert _single(table, "typed passes")["passed"], results.passed
    assert results.records[_single(table, "typed passes")["session_id"]].transcript["text"].iloc[-1] == greeting
    typed_fails = _single(table, "typed fails")["failures"]
    assert typed_fails[0].startswith("step 2 (assistant said /goodbye/): the assistant did not match:")
    assert typed_fails[1].startswith("step 3 (cost under $1e-09): cost $")
    tool_run = _single(table, "tool")
    assert tool_run["tool_calls"] == 1
    assert tool_run["failures"] == [
        'step 3 (tool get_weather called with {"city": "Rome"}): get_weather was called with {"city": "Paris"}'
    ]
    spoken = _single(table, "spoken")
    assert len(spoken["failures"]) == 1
    assert spoken["failures"][0].startswith("step 3 (latency within 1 ms): latency was")
    assert spoken["latency_ms"] > 0
    assert _single(table, "fails on the server")["failures"][0].startswith("step 2 (no error): error ")


async def test_a_barge_in_is_seen_as_an_interruption(offline: LocalServer) -> None:
    long_reply = "This is a long scripted reply " + "that goes on and on " * 12 + "until it ends."
    barge_in = Case(
        "barge-in",
        [Say("Tell me a story"), Say("Stop", interrupt_after_ms=600), expect.interrupted(), expect.said("stopped")],
        script=[{"say": long_reply}, {"say": "OK, I stopped."}],
    )
    heard_out = Case("heard out", [Typed("Hello"), Silence(200), expect.interrupted()])
    results = await run([barge_in, heard_out], progress=False)
    assert _single(results.table, "barge-in")["passed"], results.passed
    assert _single(results.table, "barge-in")["interrupted"]
    assert _single(results.table, "heard out")["failures"] == ["step 3 (reply interrupted): no reply was interrupted"]


async def test_variants_repeats_and_concurrency_save_every_session(offline: LocalServer, tmp_path: Path) -> None:
    cases = [
        Case("greet", [Typed("Hello"), expect.said("over")]),
        Case("thanks", [Typed("Thanks"), expect.said("over")]),
    ]
    variants = {
        "plain": {},
        "radio": {"instructions": 'Always end with "Over."'},
    }
    results = await run(cases, variants, repeats=2, concurrency=4, out=tmp_path / "runs", progress=False)
    table = results.table
    assert len(table) == 8
    assert table.groupby("variant")["passed"].mean().to_dict() == {"plain": 0.0, "radio": 1.0}
    summary = results.compare()
    assert summary["variant"].tolist() == ["plain", "radio"]
    assert summary["pass_rate"].tolist() == [0.0, 1.0]
    folder = results.folder
    assert folder is not None
    assert folder.parent == tmp_path / "runs"
    assert json.loads((folder / "run.json").read_text())["variants"]["radio"] == variants["radio"]
    sessions = load_sessions(folder / "sessions")
    assert set(sessions.sessions) == set(table["session_id"])
    back = load(folder)
    pd.testing.assert_frame_equal(back.table, table)
    assert set(back.sessions.sessions) == set(table["session_id"])
    # Many runs' sessions together, with DuckDB.
    [(spoken,)] = duckdb.sql(
        f"select count(*) from '{tmp_path}/runs/*/sessions/*/transcript.parquet' where role = 'assistant'"
    ).fetchall()
    assert spoken >= 8


async def test_bad_variants_and_unknown_tools_are_refused_before_anything_runs(
    offline: LocalServer, tmp_path: Path
) -> None:
    case = Case("c", [Typed("Hello")])
    with pytest.raises(ValueError, match=r"variant 'b': Session\(\) got an unknown option 'voise'.*'voice'"):
        await run([case], {"a": {}, "b": {"voise": "marin"}}, out=tmp_path / "runs", progress=False)
    with pytest.raises(ValueError, match=r"variant 'fast': speed: Input should be less than or equal to 1\.5"):
        await run([case], {"fast": {"speed": 5.0}}, out=tmp_path / "runs", progress=False)
    weather = Case("w", [Typed("Weather?"), expect.tool_called("get_wether")])
    with pytest.raises(ValueError, match=r"expects tool 'get_wether'.*did you mean 'get_weather'"):
        await run([weather], tools=[get_weather], out=tmp_path / "runs", progress=False)
    scripted = Case("s", [Typed("Hi")], script=[{"say": "Hello."}])
    with pytest.raises(ValueError, match="case 's' scripts the local server's replies, but with an API key"):
        await run([scripted], api_key="sk-not-used", out=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists(), "nothing ran, nothing was written"


async def test_a_step_that_never_completes_times_out_and_is_recorded(offline: LocalServer) -> None:
    never = Case("never answered", [Typed("Hello"), expect.said("help")], timeout_s=0.05)
    fine = Case("answered", [Typed("Hello"), expect.said("help")])
    results = await run([never, fine], progress=False)
    failures = _single(results.table, "never answered")["failures"]
    assert failures[0] == "step 1 (type 'Hello'): did not finish within 0.05 s (the case's timeout_s)"
    record = results.records[_single(results.table, "never answered")["session_id"]]
    assert "eval_step_timeout" in set(record.timeline["what"])
    assert _single(results.table, "answered")["passed"]


async def test_a_session_that_drops_fails_its_case_alone(offline: LocalServer) -> None:
    @tool
    def hang_up() -> str:
        """Hang up the call."""
        for call in offline.calls():
            if call["transport"] == "websocket":
                offline.drop_call(call["call_id"])
        return "bye"

    dropped = Case(
        "dropped",
        [Typed("Hang up please"), Typed("Are you there?"), expect.said("anything")],
        script=[{"call_tool": {"name": "hang_up", "arguments": {}}}],
    )
    fine = Case("fine", [Typed("Hello"), expect.said("help")])
    results = await run([dropped, fine], tools=[hang_up], concurrency=1, progress=False)
    row = _single(results.table, "dropped")
    assert not row["passed"]
    assert "the session failed" in " ".join(row["failures"])
    record = results.records[row["session_id"]]
    assert (record.events["type"] == "response.function_call_arguments.done").any(), "what was recorded is kept"
    assert _single(results.table, "fine")["passed"]


async def test_audio_file_and_image_turns(offline: LocalServer, tmp_path: Path) -> None:
    wav = write_mic_wav(tmp_path / "question.wav", "Hello there", lead_s=0.3, tail_s=0.3)
    png = tmp_path / "red.png"
    PILImage.new("RGB", (32, 24), "red").save(png)
    case = Case(
        "media",
        [
            Say(audio=wav),
            expect.said(r"\w", role="user"),  # the recording was heard (the offline recognizer is rough)
            expect.latency_within(20_000),
            Image(png, "What is this?"),
            expect.said("I see"),  # the local model says what it was shown
        ],
    )
    missing = Case("missing file", [Say(audio=tmp_path / "nowhere.wav"), expect.said("anything")])
    results = await run([case, missing], progress=False)
    assert _single(results.table, "media")["passed"], results.passed
    [failure, not_checked] = _single(results.table, "missing file")["failures"]
    assert failure.startswith("step 1 (say audio nowhere.wav): could not be taken: ")
    assert not_checked == "step 2 (assistant said /anything/): not checked: its turn never happened"
