"""Property: whatever malformed input arrives, the engine answers it with exactly one ``error`` and keeps serving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.protocol import CLIENT_EVENT_TYPES
from tests.server.clients import EngineHarness

# Values of a JSON type other than the one a field needs (pydantic's lax mode turns "5" into 5, so numeric strings
# are left out of the wrong values for integer fields).
NOT_STRING = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.none(),
)
NOT_INTEGER = st.one_of(
    st.text(alphabet="abcxyz", min_size=1, max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.none(),
)
NOT_OBJECT = st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2))

# (event type, field, wrong values): one required or typed field per event, replaced by a wrong value.
CORRUPTIONS: list[tuple[str, str, st.SearchStrategy[Any]]] = [
    ("conversation.item.delete", "item_id", NOT_STRING),
    ("conversation.item.retrieve", "item_id", NOT_STRING),
    ("conversation.item.truncate", "item_id", NOT_STRING),
    ("conversation.item.truncate", "content_index", NOT_INTEGER),
    ("conversation.item.truncate", "audio_end_ms", NOT_INTEGER),
    ("conversation.item.create", "item", NOT_OBJECT),
    ("input_audio_buffer.append", "audio", NOT_STRING),
    ("session.update", "session", NOT_OBJECT),
    ("response.create", "response", NOT_OBJECT),
    ("response.cancel", "response_id", NOT_STRING.filter(lambda v: v is not None)),
]
VALID_BASE: dict[str, dict[str, Any]] = {
    "conversation.item.delete": {"item_id": "item_x"},
    "conversation.item.retrieve": {"item_id": "item_x"},
    "conversation.item.truncate": {"item_id": "item_x", "content_index": 0, "audio_end_ms": 0},
    "conversation.item.create": {"item": {"type": "message", "role": "user", "content": []}},
    "input_audio_buffer.append": {"audio": ""},
    "session.update": {"session": {"type": "realtime"}},
    "response.create": {"response": {}},
    "response.cancel": {},
}


@st.composite
def wrongly_typed_event(draw: st.DrawFn) -> str:
    event_type, field, wrong = draw(st.sampled_from(CORRUPTIONS))
    event = {"type": event_type, **VALID_BASE[event_type], field: draw(wrong)}
    if draw(st.booleans()):
        event["event_id"] = draw(st.text(min_size=1, max_size=8))
    return json.dumps(event)


unknown_type_event = st.builds(
    lambda t, eid: json.dumps({"type": t, "event_id": eid}),
    st.one_of(st.text(max_size=20).filter(lambda t: t not in CLIENT_EVENT_TYPES), st.integers(), st.none()),
    st.text(max_size=8),
)
not_json = st.text(max_size=40).filter(lambda s: not _is_json(s))
not_an_object = st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=5)).map(json.dumps)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# Well-formed events the session state cannot honour: unknown items, an empty buffer, nothing to cancel.
unknown_id = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12).map(
    lambda s: "item_zz" + s
)
impossible_event = st.one_of(
    st.builds(lambda i: json.dumps({"type": "conversation.item.delete", "item_id": i}), unknown_id),
    st.builds(lambda i: json.dumps({"type": "conversation.item.retrieve", "item_id": i}), unknown_id),
    st.builds(
        lambda i, ms: json.dumps(
            {"type": "conversation.item.truncate", "item_id": i, "content_index": 0, "audio_end_ms": ms}
        ),
        unknown_id,
        st.integers(min_value=0, max_value=10_000),
    ),
    st.just(json.dumps({"type": "input_audio_buffer.commit"})),
    st.just(json.dumps({"type": "response.cancel"})),
    st.builds(lambda i: json.dumps({"type": "response.cancel", "response_id": i}), unknown_id),
)

MALFORMED = st.one_of(wrongly_typed_event(), unknown_type_event, not_json, not_an_object, impossible_event)


@pytest.fixture(scope="module")
def long_session() -> Iterator[tuple[asyncio.AbstractEventLoop, EngineHarness, str]]:
    """One engine for every example: it must keep serving after thousands of bad events, not just one."""
    loop = asyncio.new_event_loop()

    async def make() -> EngineHarness:
        return EngineHarness()  # the engine starts its session timer on the running loop

    h = loop.run_until_complete(make())
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "kept"}]}
    known = loop.run_until_complete(h.send({"type": "conversation.item.create", "item": item}))[0]["item"]["id"]
    yield loop, h, known
    loop.run_until_complete(h.engine.close())
    loop.close()
    assert h.checker.violations == []


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raws=st.lists(MALFORMED, min_size=1, max_size=3))
def test_malformed_events_get_one_error_each_and_the_session_goes_on(
    long_session: tuple[asyncio.AbstractEventLoop, EngineHarness, str], raws: list[str]
) -> None:
    loop, h, known = long_session
    for raw in raws:
        out = loop.run_until_complete(h.send(raw))
        assert h.types(out) == ["error"], (raw, out)
        error = out[0]["error"]
        assert error["type"] == "invalid_request_error"
        assert error["message"]
        sent = json.loads(raw) if _is_json(raw) else None
        if isinstance(sent, dict) and isinstance(sent.get("event_id"), str) and sent.get("type") is not None:
            assert error["event_id"] == sent["event_id"]
    out = loop.run_until_complete(h.send({"type": "conversation.item.retrieve", "item_id": known}))
    assert h.types(out) == ["conversation.item.retrieved"]
