"""The widget's side of an agent: the driver and toolbox it needs, the config the agent gives, the hooks it binds.

Imported by the widget always; the Agents SDK itself is imported only when an agent is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realtime_widget.config import SessionConfig
from realtime_widget.tools import ToolRegistry

from .driver import AgentDriver, AgentHooks, AgentSettings
from .toolbox import AgentToolbox

if TYPE_CHECKING:
    from realtime_widget.widget import RealtimeWidget


class AgentSupport:
    """An agent in a widget: ``driver`` follows the session, ``toolbox`` answers the calls of both kinds of tools."""

    def __init__(self, driver: AgentDriver, toolbox: AgentToolbox) -> None:
        self.driver = driver
        self.toolbox = toolbox

    @classmethod
    def start(cls, agent: Any, context: Any, registry: ToolRegistry) -> AgentSupport:
        driver = AgentDriver(agent, context=context)
        return cls(driver, AgentToolbox(registry, driver))

    def configure(self, config: SessionConfig, *, with_voice: bool = True) -> SessionConfig:
        """``config`` with the current agent's instructions, prompt and (with ``with_voice``) voice."""
        return apply_settings(config, self.driver.settings, with_voice=with_voice)

    def tool_definitions(self) -> list[dict[str, Any]]:
        """The current agent's function tools and transfer tools, as ``session.tools`` carries them."""
        return [dict(t) for t in self.driver.settings.tools]

    def bind(self, widget: RealtimeWidget) -> None:
        def switch(settings: AgentSettings) -> None:
            widget._switch_agent(settings)

        self.driver.bind(
            AgentHooks(
                record=widget.record,
                send=widget._send_client_event,
                switch=switch,
                interrupt=widget.cancel_response,
                notify=widget.notify,
            )
        )


def apply_settings(config: SessionConfig, settings: AgentSettings, *, with_voice: bool = True) -> SessionConfig:
    """``config`` with an agent's instructions, its ``prompt`` (under ``extra``, as the GA session's ``prompt``) and,
    when it has one and ``with_voice``, its voice. Tools are not part of it: the widget adds the agent's to its own."""
    extra = {k: v for k, v in config.extra.items() if k != "prompt"}
    if settings.prompt is not None:
        extra["prompt"] = settings.prompt
    changes: dict[str, Any] = {"instructions": settings.instructions, "extra": extra}
    if with_voice and settings.voice is not None:
        changes["voice"] = settings.voice
    return config.replace(**changes)
