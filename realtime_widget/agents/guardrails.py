"""Output guardrails on the assistant's transcript as it streams, debounced as the Agents SDK does.

The SDK (``agents/realtime/session.py``: ``_record_output_guardrail_delta`` and ``_run_output_guardrails``) runs an
agent's output guardrails each time an item's transcript grows past another multiple of
``debounce_text_length`` characters (100 by default), on the whole transcript so far; the first guardrail that
trips interrupts the response (cancel and clear the audio), and the model is told
``"guardrail triggered: <names>"`` as user input. A response is interrupted at most once; a guardrail that raises
is skipped. This module keeps that logic, and leaves what interrupting means to its caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

#: The SDK's default ``guardrails_settings.debounce_text_length`` (agents/realtime/session.py).
DEBOUNCE_TEXT_LENGTH = 100

#: Server events that carry the assistant's words as they stream (audio transcript, or text).
TRANSCRIPT_DELTAS = ("response.output_audio_transcript.delta", "response.output_text.delta")


@dataclass(frozen=True)
class GuardrailTrip:
    """A tripped output guardrail: which response, which guardrails, on what text, and what they said."""

    response_id: str
    item_id: str
    agent: str
    guardrails: tuple[str, ...]
    text: str
    output_info: tuple[Any, ...]

    @property
    def names(self) -> str:
        return ", ".join(self.guardrails)


class TranscriptGuardrails:
    """Follows transcript deltas per item and decides when the guardrails run (see the module docstring).

    Args:
        debounce_text_length: Run the guardrails each time an item's transcript crosses another multiple of this
            many characters (the SDK's ``guardrails_settings.debounce_text_length``).
    """

    def __init__(self, debounce_text_length: int = DEBOUNCE_TEXT_LENGTH) -> None:
        if debounce_text_length <= 0:
            raise ValueError(f"debounce_text_length must be positive; got {debounce_text_length}")
        self.debounce_text_length = debounce_text_length
        self._text: dict[str, str] = {}
        self._runs: dict[str, int] = {}
        self.interrupted: set[str] = set()

    def add_delta(self, item_id: str, delta: str) -> str | None:
        """Adds ``delta`` to the item's transcript; returns the text to check when a threshold was crossed."""
        text = self._text.get(item_id, "") + delta
        self._text[item_id] = text
        runs = self._runs.get(item_id, 0)
        if len(text) < (runs + 1) * self.debounce_text_length:
            return None
        # Several thresholds crossed by one long delta still give one run (as the SDK counts them).
        self._runs[item_id] = max(runs + 1, len(text) // self.debounce_text_length)
        return text

    def forget(self, item_id: str) -> None:
        self._text.pop(item_id, None)
        self._runs.pop(item_id, None)


async def run_output_guardrails(
    guardrails: list[Any], run_context: Any, agent: Any, text: str
) -> tuple[list[str], list[Any]]:
    """Runs each SDK ``OutputGuardrail`` on ``text``; returns the names and ``output_info`` of those that tripped.

    A guardrail that raises is skipped, as the SDK does (it logs and goes on)."""
    names: list[str] = []
    infos: list[Any] = []
    seen: set[int] = set()
    for guardrail in guardrails:
        if id(guardrail) in seen:  # the SDK runs a guardrail given twice once
            continue
        seen.add(id(guardrail))
        try:
            result = await guardrail.run(run_context, agent, text)
        except Exception:
            continue
        if result.output.tripwire_triggered:
            names.append(str(guardrail.get_name()))
            infos.append(result.output.output_info)
    return names, infos


RunGuardrails = Callable[[str], Awaitable[tuple[list[str], list[Any]]]]
