"""What every row of the fault matrix (FAULTS.md) checks before and after its fault: a conversation recorded
first, and afterwards the record (and the widget's transcript) still holding all of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from realtime_widget.server.launcher import LocalServer

from .harness import KernelClient
from .lab_page import WIDGET, LabPage, connect_scripted


@dataclass(frozen=True)
class Before:
    """What was recorded before the fault: the number of events, and the answer that must survive it."""

    events: int
    answer: str
    call_id: str


def converse(
    lab_page: LabPage, kernel: KernelClient, local_server: LocalServer, answer: str, *, name: str = "widget"
) -> Before:
    """Connects ``name`` from the page, asks a typed question, waits for the scripted ``answer`` in the record."""
    call_id = connect_scripted(lab_page, kernel, local_server, [{"say": answer}])
    kernel.run(f"{name}.send_text('A question before the fault.')")
    kernel.wait_until(f"({name}.record.transcript.text == {answer!r}).any()")
    return Before(kernel.value(f"len({name}.record.events)"), answer, call_id)


def assert_record_kept(
    lab_page: LabPage, kernel: KernelClient, before: Before, *, name: str = "widget", root: str = WIDGET
) -> None:
    """Nothing recorded before the fault is lost: the events, the answer in the record and in the widget, and the
    record still checks out."""
    assert kernel.value(f"len({name}.record.events)") >= before.events
    assert kernel.value(f"({name}.record.transcript.text == {before.answer!r}).any()")
    assert kernel.value(f"any({before.call_id!r} in detail for detail in {name}.record.timeline.detail)")
    transcript = lab_page.page.locator(f"{root} [data-testid=transcript]")
    transcript.get_by_text(before.answer).first.wait_for(state="attached", timeout=30_000)
    assert kernel.value(f"len({name}.record.validate())") == 0, kernel.value(
        f"{name}.record.validate().to_dict('records')"
    )


def websocket_call(kernel: KernelClient, local_server: LocalServer) -> str:
    """The local server's id of the widget's latest session, a WebSocket one (found by the session id the browser
    recorded: the call id is WebRTC's)."""
    session_id = kernel.wait_until(
        "next((__import__('json').loads(e['payload'])['session']['id'] for _, e in widget.record.events[::-1]"
        ".iterrows() if e['type'] == 'session.created'), None)"
    )
    calls = [c for c in local_server.calls() if c["session_id"] == session_id]
    assert calls, f"no call with session {session_id}: {local_server.calls()}"
    call: dict[str, Any] = calls[0]
    assert call["transport"] == "websocket"
    return str(call["call_id"])
