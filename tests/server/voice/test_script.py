"""Scripted mode: the script queue and the responder that follows it."""

from __future__ import annotations

import threading

import pytest

from realtime_widget.server.voice.interfaces import FunctionCall, Reply, ResponseContext
from realtime_widget.server.voice.script import Script, ScriptedResponder, step_to_reply


class Echo:
    """A fallback responder that says which kind of context it got."""

    def respond(self, context: ResponseContext) -> Reply:
        if context.pending_function_outputs:
            return Reply(text="fallback result")
        return Reply(text=f"fallback {context.last_user_text}")


def context(text: str | None = "hi", *, outputs: bool = False) -> ResponseContext:
    pending = [{"type": "function_call_output", "call_id": "c1", "output": "{}"}] if outputs else []
    return ResponseContext("", [], "auto", [], text, pending, False)


def test_steps_become_replies() -> None:
    assert step_to_reply({"say": "Hi"}) == Reply(text="Hi")
    assert step_to_reply({"call_tool": {"name": "f", "arguments": {"x": 1}}}) == Reply(
        function_call=FunctionCall("f", {"x": 1})
    )
    assert step_to_reply({"call_tool": {"name": "f"}}) == Reply(function_call=FunctionCall("f", {}))


@pytest.mark.parametrize(
    "step", [{}, {"say": 3}, {"call_tool": {"arguments": {}}}, {"call_tool": {"name": "f", "arguments": []}}]
)
def test_bad_steps_are_refused_and_queue_nothing(step: dict[str, object]) -> None:
    script = Script()
    with pytest.raises(ValueError, match="script step"):
        script.push({"say": "ok"}, step)
    assert len(script) == 0


def test_responder_pops_one_step_per_user_turn_then_falls_back() -> None:
    script = Script()
    script.push({"say": "one"}, {"say": "two"})
    responder = ScriptedResponder(script, Echo())
    assert [responder.respond(context()).text for _ in range(3)] == ["one", "two", "fallback hi"]


def test_after_a_scripted_tool_call_the_fallback_speaks_the_result() -> None:
    script = Script()
    script.push({"call_tool": {"name": "lookup", "arguments": {"q": "x"}}}, {"call_tool": {"name": "again"}})
    responder = ScriptedResponder(script, Echo())
    assert responder.respond(context()).function_call == FunctionCall("lookup", {"q": "x"})
    assert responder.respond(context(outputs=True)).text == "fallback result"  # the queued call waits
    assert responder.respond(context()).function_call == FunctionCall("again", {})


def test_a_queued_say_speaks_after_the_function_output() -> None:
    script = Script()
    script.push({"call_tool": {"name": "lookup"}}, {"say": "It is sunny."})
    responder = ScriptedResponder(script, Echo())
    responder.respond(context())
    assert responder.respond(context(outputs=True)).text == "It is sunny."
    assert len(script) == 0


def test_per_call_steps_come_before_shared_ones_and_stay_with_their_call() -> None:
    script = Script()
    script.push({"say": "shared"})
    script.push({"say": "for A"}, call_id="call_A")
    a, b = ScriptedResponder(script, Echo(), call_id="call_A"), ScriptedResponder(script, Echo(), call_id="call_B")
    assert b.respond(context()).text == "shared"
    assert b.respond(context()).text == "fallback hi"
    assert a.respond(context()).text == "for A"
    assert a.respond(context()).text == "fallback hi"


def test_clear_and_len() -> None:
    script = Script()
    script.push({"say": "a"}, {"say": "b"})
    script.push({"say": "c"}, call_id="x")
    assert len(script) == 3
    script.clear(call_id="x")
    assert len(script) == 2
    script.clear()
    assert len(script) == 0
    assert script.pop() is None


def test_queue_is_safe_across_threads() -> None:
    script = Script()
    script.push(*({"say": str(i)} for i in range(1000)))
    taken: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        while (reply := script.pop()) is not None:
            with lock:
                taken.append(reply.text or "")

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken, key=int) == [str(i) for i in range(1000)]
