"""The OpenAI Agents SDK (``openai-agents``), an optional dependency: imported only when an agent is given."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

INSTALL_HINT = "pip install 'realtime-widget[agents]'  (or: pip install openai-agents)"


def agents_sdk() -> ModuleType:
    """The ``agents`` package, or an ``ImportError`` that says what to install."""
    try:
        return importlib.import_module("agents")
    except ImportError as exc:
        raise ImportError(
            f"agent= needs the OpenAI Agents SDK, which is not installed. Install it with: {INSTALL_HINT}"
        ) from exc


def check_realtime_agent(agent: Any) -> None:
    """``agent`` is an SDK ``RealtimeAgent``, else a ``TypeError`` saying what is expected."""
    realtime = importlib.import_module(agents_sdk().__name__ + ".realtime")
    if not isinstance(agent, realtime.RealtimeAgent):
        hint = (
            " (an Agent runs over the Responses API; for voice, build a RealtimeAgent with the same tools)"
            if type(agent).__name__ == "Agent"
            else ""
        )
        raise TypeError(f"agent= must be an agents.realtime.RealtimeAgent; got {type(agent).__name__}{hint}")
