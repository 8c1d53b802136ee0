"""The quickstart conversation every notebook front end must carry: connect with the button, a typed turn and a
spoken turn answered, disconnect; checked in the page and in Python, whichever front end runs the kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from .lab_page import WIDGET

TYPED = "hello from the keyboard"
USER_SPOKE = "'conversation.item.input_audio_transcription.completed' in set(widget.record.events['type'])"
COMPLETED_RESPONSES = (
    "sum(__import__('json').loads(p)['response']['status'] == 'completed'"
    " for p in widget.record.events.query('type == \"response.done\"').payload)"
)


class PythonSide(Protocol):
    """Evaluates expressions where the widget lives (a Jupyter kernel client, or marimo's probe)."""

    def value(self, expression: str, timeout: float = 30) -> Any: ...

    def wait_until(self, expression: str, timeout: float = 30, interval: float = 0.25) -> Any: ...


REPO = Path(__file__).resolve().parents[2]


def converse_through_quickstart(page: Any, python: PythonSide) -> None:
    """Connects with the button, has a typed and a spoken turn answered, and disconnects."""
    # The kernel runs this checkout's package, not another copy installed beside it.
    assert Path(python.value("__import__('realtime_widget').__file__")).is_relative_to(REPO)
    assert python.value("widget.status") == "idle"
    page.click(f"{WIDGET} [data-testid=connect]")
    page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=connected]", timeout=30_000)
    python.wait_until("widget.status == 'connected'")

    # A typed turn: the words reach Python's record, and the widget shows them.
    page.fill(f"{WIDGET} [data-testid=text-input]", TYPED)
    page.click(f"{WIDGET} [data-testid=send]")
    page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(TYPED).wait_for(timeout=30_000)
    python.wait_until(f"({TYPED!r} == widget.record.transcript.text).any()")

    # A spoken turn: the fake microphone says a phrase a few seconds after it opens, which the server's VAD takes
    # as a turn. The two turns may be answered in either order; each gets its own completed response.
    python.wait_until(USER_SPOKE, timeout=60)
    python.wait_until(f"{COMPLETED_RESPONSES} >= 2", timeout=60)
    python.wait_until("(widget.record.transcript.role == 'assistant').sum() >= 2", timeout=30)
    last_answer = python.value("widget.record.transcript.query('role == \"assistant\"').text.iloc[-1]")
    page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text(last_answer).first.wait_for(timeout=30_000)
    assert python.value("widget.mic_off") == {}, "the fake microphone was granted: the connection should use it"

    page.click(f"{WIDGET} [data-testid=disconnect]")
    page.wait_for_selector(f"{WIDGET} [data-testid=status][data-status=closed]", timeout=30_000)
    python.wait_until("widget.status == 'closed'", timeout=15)
    python.wait_until("'closed' in set(widget.record.timeline['what'])", timeout=15)
    assert python.value("len(widget.record.validate())") == 0
