"""The widget's side of an agent: the driver and toolbox it needs, the config the agent gives, the hooks it binds.

Imported by the widget always; the Agents SDK itself is imported only when an agent is given.
"""

from __future__ import annotations

from typing import Any

from realtime_widget.config import SessionConfig
from realtime_widget.tools import ToolRegistry

from .driver import AgentDriver, AgentHooks, AgentSettings
from .toolbox import AgentToolbox

Changes = dict[str, Any]


class AgentSupport:
    """An agent in a widget: ``driver`` follows the session, ``toolbox`` answers the calls of both kinds of tools."""

    def __init__(self, driver: AgentDriver, toolbox: AgentToolbox) -> None:
        self.driver = driver
        self.toolbox = toolbox

    @classmethod
    def start(cls, agent: Any, context: Any, registry: ToolRegistry) -> AgentSupport:
        driver = AgentDriver(agent, context=context)
        return cls(driver, AgentToolbox(registry, driver))

    @classmethod
    def given(cls, agent: Any, context: Any, registry: ToolRegistry) -> AgentSupport | None:
        """The support for ``agent``, or ``None`` without one; a ``context`` without an agent is a mistake."""
        if agent is None:
            if context is not None:
                raise TypeError("context= is given to an agent's functions: pass agent= too")
            return None
        return cls.start(agent, context, registry)

    def configure(self, config: SessionConfig, *, with_voice: bool = True) -> SessionConfig:
        """``config`` with the current agent's instructions, prompt and (with ``with_voice``) voice."""
        return apply_settings(config, self.driver.settings, with_voice=with_voice)

    def tool_definitions(self) -> list[dict[str, Any]]:
        """The current agent's function tools and transfer tools, as ``session.tools`` carries them."""
        return [dict(t) for t in self.driver.settings.tools]

    def bind(self, hooks: AgentHooks) -> None:
        self.driver.bind(hooks)

    def switch(self, config: SessionConfig, tools: list[dict[str, Any]]) -> tuple[SessionConfig, Changes, Changes]:
        """A handoff's new config (``config`` with the current agent's instructions and prompt, not its voice), the
        changes its one ``session.update`` carries (instructions, all of the session's ``tools`` as they will be,
        the prompt if it changed) and the options to roll back if the API refuses it."""
        previous: Changes = {"instructions": config.instructions, "extra": config.extra}
        switched = self.configure(config, with_voice=False)
        changes: Changes = {"instructions": switched.instructions, "tools": tools}
        if switched.extra != config.extra:
            changes["extra"] = switched.extra
        return switched, changes, previous


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
