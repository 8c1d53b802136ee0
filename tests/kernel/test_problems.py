"""Problems a session reports: read from server events, listed in record.problems, raised to on("error")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from realtime_widget import RealtimeWidget
from realtime_widget.problems import DEFAULT_HINT, HINTS, problem_of
from realtime_widget.record import SessionRecord

QUOTA = {
    "type": "response.done",
    "response": {
        "id": "resp_1",
        "status": "failed",
        "status_details": {
            "type": "failed",
            "error": {"type": "insufficient_quota", "code": "insufficient_quota", "message": "Out of quota."},
        },
    },
}
FILTERED = {
    "type": "response.done",
    "response": {
        "id": "resp_2",
        "status": "incomplete",
        "status_details": {"type": "incomplete", "reason": "content_filter"},
    },
}
CANCELLED = {
    "type": "response.done",
    "response": {
        "id": "resp_3",
        "status": "cancelled",
        "status_details": {"type": "cancelled", "reason": "turn_detected"},
    },
}
RATE_LIMITED_EVENT = {
    "type": "error",
    "event_id": "event_9",
    "error": {
        "type": "tokens",
        "code": "rate_limit_exceeded",
        "message": "Slow down.",
        "param": None,
        "event_id": None,
    },
}


def test_a_failed_response_is_an_error_with_its_code_and_a_hint() -> None:
    problem = problem_of(QUOTA)
    assert problem is not None
    assert (problem.level, problem.code, problem.message) == ("error", "insufficient_quota", "Out of quota.")
    assert problem.hint == HINTS["insufficient_quota"]
    assert problem.response_id == "resp_1"


def test_a_reply_cut_short_is_a_warning_and_a_cancelled_one_is_no_problem() -> None:
    problem = problem_of(FILTERED)
    assert problem is not None
    assert (problem.level, problem.code) == ("warning", "content_filter")
    assert "content filter" in problem.message
    assert problem_of(CANCELLED) is None
    assert problem_of({"type": "response.done", "response": {"id": "r", "status": "completed"}}) is None


def test_error_events_and_unknown_codes() -> None:
    problem = problem_of(RATE_LIMITED_EVENT)
    assert problem is not None
    assert (problem.source, problem.code) == ("error", "rate_limit_exceeded")
    odd = problem_of({"type": "error", "error": {"type": "invalid_request_error", "code": "brand_new", "message": "?"}})
    assert odd is not None
    assert odd.hint == DEFAULT_HINT
    assert problem_of({"type": "error"}) is not None  # malformed, still shown rather than lost


def test_record_problems_lists_them_in_time_order() -> None:
    record = SessionRecord()
    t0 = time.time() * 1000
    record.add_items(
        [
            {"k": "event", "t": t0 + i, "dir": "server", "event": {"event_id": f"e{i}", **event}}
            for i, event in enumerate([QUOTA, CANCELLED, FILTERED, RATE_LIMITED_EVENT])
        ]
    )
    problems = record.problems
    assert problems["code"].tolist() == ["insufficient_quota", "content_filter", "rate_limit_exceeded"]
    assert problems["level"].tolist() == ["error", "warning", "error"]
    assert problems["response_id"].tolist()[:2] == ["resp_1", "resp_2"]


@pytest.fixture
def widget() -> Any:
    w = RealtimeWidget(api_key="sk-" + "test" * 6, base_url="http://127.0.0.1:9/v1")
    w.send = lambda _message: None
    yield w
    w.close()


def test_on_error_gets_error_events_and_failed_or_cut_short_responses(widget: Any) -> None:
    seen: list[dict[str, Any]] = []
    widget.on("error", seen.append)
    items = [
        {"k": "event", "t": time.time() * 1000, "dir": "server", "event": event}
        for event in (QUOTA, CANCELLED, FILTERED, RATE_LIMITED_EVENT)
    ]
    widget._on_custom_message(widget, {"type": "rtw:batch", "client": "c1", "seq": 1, "items": items}, [])
    assert [e["type"] for e in seen] == ["response.done", "response.done", "error"]
    assert widget.problem_hints["codes"]["insufficient_quota"] == HINTS["insufficient_quota"]
