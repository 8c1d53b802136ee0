"""Agents of the OpenAI Agents SDK (``openai-agents``, the ``agents`` extra) in a realtime session.

``RealtimeWidget(agent=realtime_agent, context=...)`` runs an ``agents.realtime.RealtimeAgent``: its instructions,
function tools, handoffs and output guardrails, as the SDK's ``RealtimeSession`` runs them, but from the kernel over
the widget's connection (:mod:`.driver`). :class:`AgentDriver` knows nothing of the widget; a headless session can
host it through :class:`AgentHooks`.
"""

from .driver import AgentDriver, AgentHooks, AgentSettings
from .guardrails import DEBOUNCE_TEXT_LENGTH, GuardrailTrip
from .sdk import INSTALL_HINT
from .toolbox import AgentToolbox

__all__ = [
    "DEBOUNCE_TEXT_LENGTH",
    "INSTALL_HINT",
    "AgentDriver",
    "AgentHooks",
    "AgentSettings",
    "AgentToolbox",
    "GuardrailTrip",
]
