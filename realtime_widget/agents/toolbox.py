"""The tools a session with an agent answers: the current agent's (function tools and transfer tools) and our own
Python tools, behind the two methods the tool runner uses."""

from __future__ import annotations

from realtime_widget.tools import Tool, ToolOutcome, ToolRegistry

from .driver import AgentDriver


class AgentToolbox:
    """Routes a call to the agent's tool of that name, else to the registry (our ``@tool`` functions).

    Raises:
        ValueError: one of our tools has the name of one of the agent's tools (the model could not tell them apart).
    """

    def __init__(self, registry: ToolRegistry, driver: AgentDriver) -> None:
        self.registry = registry
        self.driver = driver
        self.check_names()

    def check_names(self) -> None:
        clash = sorted(set(self.registry.names()) & set(self.driver.settings.tool_names()))
        if clash:
            raise ValueError(
                f"agent {self.driver.settings.agent!r} and tools= both have a tool named {', '.join(map(repr, clash))};"
                " rename one (tool(name=...))"
            )

    def refuse_clash(self, name: str) -> None:
        """A ``ValueError`` when ``name`` is one of the current agent's tools (before one of ours is added)."""
        if name in self.driver.settings.tool_names():
            raise ValueError(f"agent {self.driver.settings.agent!r} has a tool named {name!r}; rename ours (name=...)")

    def get(self, name: str) -> Tool | None:
        return None if self.driver.handles(name) else self.registry.get(name)

    async def run(self, call_id: str, name: str, arguments_json: str) -> ToolOutcome:
        if self.driver.handles(name):
            return await self.driver.run(call_id, name, arguments_json)
        return await self.registry.run(call_id, name, arguments_json)
