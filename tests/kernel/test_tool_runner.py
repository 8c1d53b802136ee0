"""The tool runner answers a response's calls once, whatever order the browser's batches reach the kernel in."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from realtime_widget.record import SessionRecord
from realtime_widget.tools.registry import ToolRegistry
from realtime_widget.tools.runner import ToolRunner


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def call_done(call_id: str, arguments: str = '{"a": 1, "b": 2}') -> dict[str, Any]:
    return {
        "type": "response.function_call_arguments.done",
        "event_id": f"event_{call_id}",
        "response_id": "resp_1",
        "item_id": f"item_{call_id}",
        "output_index": 0,
        "call_id": call_id,
        "name": "add",
        "arguments": arguments,
    }


def response_done(*call_ids: str, status: str = "completed") -> dict[str, Any]:
    output = [
        {
            "type": "function_call",
            "id": f"item_{call_id}",
            "call_id": call_id,
            "name": "add",
            "arguments": '{"a": 1, "b": 2}',
            "status": status,
        }
        for call_id in call_ids
    ]
    return {"type": "response.done", "event_id": "event_done", "response": {"id": "resp_1", "output": output}}


class Harness:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.runner = ToolRunner(ToolRegistry([add]), send=self.send, notify=lambda _: None, record=SessionRecord())

    def send(self, event: dict[str, Any]) -> None:
        self.sent.append(event)
        self.arrived.set()

    def outputs(self) -> list[str]:
        return [e["item"]["call_id"] for e in self.sent if e["type"] == "conversation.item.create"]

    def follow_ups(self) -> int:
        return sum(1 for e in self.sent if e["type"] == "response.create")

    async def settled(self, outputs: int) -> None:
        async def until_answered() -> None:
            while len(self.outputs()) < outputs:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until_answered(), 10)
        await asyncio.sleep(0)  # the follow-up goes out in the same step as the last output


EVENTS = [call_done("call_a"), call_done("call_b"), response_done("call_a", "call_b")]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
async def test_two_calls_get_one_output_each_and_one_follow_up_in_any_arrival_order(order: tuple[int, ...]) -> None:
    harness = Harness()
    for index in order:
        harness.runner.on_server_event(EVENTS[index])
    await harness.settled(outputs=2)
    assert sorted(harness.outputs()) == ["call_a", "call_b"]
    assert harness.follow_ups() == 1


async def test_response_done_alone_starts_its_calls() -> None:
    # The batch with the arguments may come late (or be resent); the done event names every call in full.
    harness = Harness()
    harness.runner.on_server_event(response_done("call_a"))
    await harness.settled(outputs=1)
    assert harness.follow_ups() == 1
    harness.runner.on_server_event(call_done("call_a"))  # arrives at last: not run again
    await asyncio.sleep(0.05)
    assert harness.outputs() == ["call_a"]
    assert harness.follow_ups() == 1


async def test_a_call_cut_off_in_a_cancelled_response_is_not_run_from_the_done_event() -> None:
    harness = Harness()
    harness.runner.on_server_event(response_done("call_a", status="incomplete"))
    await asyncio.sleep(0.05)
    assert harness.sent == []
