"""Every kind of expectation, passing and failing, checked against the synthetic session of realtime_widget.sample.

The sample's user turns, in order: weather in Paris; sales numbers; a joke about databases (the assistant calls
query_table with {"table": "orders", "question": "row count"}); rows in the orders table; ... with one barge-in and
one recoverable error (item_not_found).
"""

from __future__ import annotations

import pytest

from realtime_widget.evals import Case, Say, Silence, Typed, check, expect
from realtime_widget.record import SessionRecord
from realtime_widget.sample import sample_session


@pytest.fixture(scope="module")
def record() -> SessionRecord:
    return sample_session(8)


def _case(*steps: object) -> Case:
    """A case of these steps; a last user step closes the last expectation's turn, as the sample goes on."""
    return Case("sample", [*steps, Typed("and then")])  # type: ignore[list-item]


def _messages(case: Case, record: SessionRecord) -> list[str]:
    return [f.message for f in check(case, record)]


USER_TURNS = [Say(text=f"turn {n}") for n in range(8)]


def test_said_passes_on_the_reply_to_its_own_turn(record: SessionRecord) -> None:
    case = _case(USER_TURNS[0], expect.said(r"sunny in paris"), USER_TURNS[1], expect.said("sales grew"))
    assert check(case, record) == []


def test_said_fails_with_what_was_said_and_an_excerpt(record: SessionRecord) -> None:
    case = _case(USER_TURNS[0], expect.said(r"raining"))
    [failure] = check(case, record)
    assert failure.step == 2
    assert "did not match" in failure.message
    assert "sunny in Paris" in failure.message
    assert failure.excerpt.startswith("user: What's the weather like in Paris today")


def test_said_is_scoped_to_its_turn(record: SessionRecord) -> None:
    # "sales grew" is the reply to the second turn, not the first.
    assert _messages(_case(USER_TURNS[0], expect.said("sales grew"), USER_TURNS[1]), record)


def test_not_said_and_user_role(record: SessionRecord) -> None:
    assert check(_case(USER_TURNS[0], expect.said("raining", negate=True)), record) == []
    assert _messages(_case(USER_TURNS[0], expect.said("sunny", negate=True)), record)
    assert check(_case(USER_TURNS[0], expect.said("weather", role="user")), record) == []


def test_a_judge_decides_and_says_why(record: SessionRecord) -> None:
    def mentions_temperature(text: str) -> tuple[bool, str]:
        return "degrees" in text, "no temperature given"

    def is_rude(text: str) -> bool:
        return "stupid" in text

    assert check(_case(USER_TURNS[0], expect.said(mentions_temperature)), record) == []
    [failure] = check(_case(*USER_TURNS[:2], expect.said(mentions_temperature)), record)
    assert "no temperature given" in failure.message
    assert "mentions_temperature" in failure.expected
    assert check(_case(USER_TURNS[0], expect.said(is_rude, negate=True)), record) == []


def test_tool_called_exact_subset_and_predicate(record: SessionRecord) -> None:
    turns = USER_TURNS[:3]
    exact = {"table": "orders", "question": "row count"}
    assert check(_case(*turns, expect.tool_called("query_table")), record) == []
    assert check(_case(*turns, expect.tool_called("query_table", exact)), record) == []
    assert check(_case(*turns, expect.tool_called("query_table", {"table": "orders"}, match="subset")), record) == []
    assert check(_case(*turns, expect.tool_called("query_table", lambda a: a["table"] == "orders")), record) == []


def test_tool_called_failures_say_what_happened(record: SessionRecord) -> None:
    turns = USER_TURNS[:3]
    [wrong_args] = _messages(_case(*turns, expect.tool_called("query_table", {"table": "orders"})), record)
    assert wrong_args.startswith('query_table was called with {"table": "orders", "question": "row count"}')
    [wrong_subset] = _messages(
        _case(*turns, expect.tool_called("query_table", {"table": "users"}, match="subset")), record
    )
    assert "was called with" in wrong_subset
    [other_tool] = _messages(_case(*turns, expect.tool_called("get_weather")), record)
    assert other_tool == "get_weather was not called (called: query_table)"
    [no_tool] = _messages(_case(USER_TURNS[0], expect.tool_called("query_table")), record)
    assert no_tool == "query_table was not called (no tool was called)"


def test_latency_within_budget(record: SessionRecord) -> None:
    # Turn 1's voice-to-voice latency is about 1.2 s in the sample.
    assert check(_case(USER_TURNS[0], expect.latency_within(2000)), record) == []
    [message] = _messages(_case(USER_TURNS[0], expect.latency_within(500)), record)
    assert message.startswith("latency was 1203 ms (budget 500 ms)")


def test_interrupted_looks_at_the_reply_the_barge_in_cut(record: SessionRecord) -> None:
    transcript = record.transcript
    cut = transcript[transcript["interrupted"]]
    assert len(cut) == 1, "the sample has one barge-in"
    users = transcript[transcript["role"] == "user"].reset_index(drop=True)
    barge_in = int((users["started"] > cut["started"].iloc[0]).idxmax())
    steps = [*USER_TURNS[:barge_in], Say(text="stop", interrupt_after_ms=300), expect.interrupted()]
    assert check(_case(*steps), record) == []
    assert _messages(_case(*USER_TURNS[: barge_in + 1], expect.interrupted(False)), record)[0].startswith(
        "a reply was cut off after"
    )
    assert _messages(_case(USER_TURNS[0], expect.interrupted()), record) == ["no reply was interrupted"]
    assert check(_case(USER_TURNS[0], expect.interrupted(False)), record) == []


def test_no_error_covers_the_whole_case(record: SessionRecord) -> None:
    [message] = _messages(_case(USER_TURNS[0], expect.no_error()), record)
    assert message.startswith("error item_not_found: Item with item_id 'item_missing' not found.")
    assert check(_case(USER_TURNS[0], expect.no_error(scope="turn")), record) == []


def test_cost_under_a_limit(record: SessionRecord) -> None:
    cost = float(record.usage["cost_usd"].sum())
    assert check(_case(USER_TURNS[0], expect.cost_under(cost * 2)), record) == []
    [message] = _messages(_case(USER_TURNS[0], expect.cost_under(cost / 2)), record)
    assert message.startswith(f"cost ${cost:.4f}")


def test_cost_is_unknown_without_prices() -> None:
    record = sample_session(2)
    record.prices.clear()
    [message] = _messages(_case(USER_TURNS[0], expect.cost_under(1.0)), record)
    assert message.startswith("the cost is unknown")


def test_silences_do_not_start_turns_and_missing_turns_are_reported(record: SessionRecord) -> None:
    assert check(_case(USER_TURNS[0], Silence(500), expect.said("sunny")), record) == []
    steps = [Typed(text=f"t{n}") for n in range(9)]
    [failure] = check(_case(*steps, expect.said("anything")), record)
    assert failure.message == "not checked: its turn never happened"


def test_runner_marks_replace_the_transcript(record: SessionRecord) -> None:
    users = record.transcript[record.transcript["role"] == "user"]["started"].tolist()
    # Marks put the second user step where the first utterance began, so "sunny" is in the second step's turn.
    case = _case(USER_TURNS[0], USER_TURNS[1], expect.said("sunny"))
    before = users[0] - __import__("pandas").Timedelta(seconds=1)
    assert check(case, record, [before, users[0]]) == []
    assert check(case, record, [before, None])[0].message == "not checked: its turn never happened"


def test_bad_expectations_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        expect.said("(")
    with pytest.raises(ValueError, match="match is 'exact' or 'subset'"):
        expect.tool_called("x", {}, match="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="latency budget"):
        expect.latency_within(0)
    with pytest.raises(ValueError, match="cost limit"):
        expect.cost_under(-1)
