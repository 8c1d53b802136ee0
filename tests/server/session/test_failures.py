"""Responses that fail as the real API's do, on cue from the script: quota, rate limit, server error, content
filter. Each is reported in ``response.done`` (validated against the SDK), and the session goes on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from realtime_widget.server.session.responses import FAILURE_ERRORS
from tests.server.clients import EngineHarness

Make = Callable[..., EngineHarness]

TEXT_ONLY = {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}


def user_text(text: str) -> dict[str, object]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


@pytest.mark.parametrize("kind", ["insufficient_quota", "rate_limit_exceeded", "server_error"])
async def test_a_scripted_failure_fails_the_response_and_the_session_goes_on(harness: Make, kind: str) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    h.engine.deps.script.push({"fail": kind})
    await h.send(user_text("hello"))
    out = await h.send({"type": "response.create"})
    assert h.types(out) == ["response.created", "rate_limits.updated", "response.done"]
    response = out[-1]["response"]
    assert response["status"] == "failed"
    assert response["output"] == []
    assert response["status_details"] == {"type": "failed", "error": FAILURE_ERRORS[kind]}
    after = await h.send({"type": "response.create"})
    assert after[-1]["response"]["status"] == "completed"


async def test_the_content_filter_cuts_a_reply_short(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    h.engine.deps.script.push({"fail": "content_filter", "say": "one two three four"})
    await h.send(user_text("hello"))
    out = await h.send({"type": "response.create"})
    response = out[-1]["response"]
    assert response["status"] == "incomplete"
    assert response["status_details"] == {"type": "incomplete", "reason": "content_filter"}
    assert response["output"][0]["content"][0]["text"] == "one two"
    assert response["output"][0]["status"] == "incomplete"


def test_an_unknown_failure_is_refused_when_scripted(harness: Make) -> None:
    with pytest.raises(ValueError, match="'fail' is one of"):
        harness().engine.deps.script.push({"fail": "gremlins"})


async def test_a_scripted_mcp_call_then_the_answer_in_one_response(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    call = {"server_label": "docs", "name": "search", "arguments": {"q": "pricing"}, "output": "3 results"}
    h.engine.deps.script.push({"mcp_call": call, "say": "I found three results."})
    await h.send(user_text("Search the docs for pricing."))
    out = await h.send({"type": "response.create"})
    kinds = h.types(out)
    assert kinds.index("response.mcp_call_arguments.done") < kinds.index("response.mcp_call.completed")
    response = out[-1]["response"]
    mcp, message = response["output"]
    assert (mcp["type"], mcp["server_label"], mcp["name"], mcp["output"]) == ("mcp_call", "docs", "search", "3 results")
    assert message["content"][0]["text"] == "I found three results."


async def test_an_mcp_call_that_needs_approval_ends_the_response_with_the_request(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    call = {"server_label": "docs", "name": "delete", "arguments": {}, "needs_approval": True}
    h.engine.deps.script.push({"mcp_call": call, "say": "Deleted."})
    await h.send(user_text("Delete it."))
    out = await h.send({"type": "response.create"})
    (request,) = out[-1]["response"]["output"]
    assert request["type"] == "mcp_approval_request"
    assert "response.mcp_call.completed" not in h.types(out)
