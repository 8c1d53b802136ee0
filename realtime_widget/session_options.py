"""The options a widget and a headless session share: checked once, in one place, and split into the session
config and the Python tools the kernel runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .config import SessionConfig
from .suggest import did_you_mean
from .tools import ToolLike, ToolRegistry


def check_endpoint_arguments(api_key: object, base_url: object) -> None:
    """``api_key`` and ``base_url`` must be strings when given; a wrong type raises at once, naming the argument."""
    for argument, value in (("api_key", api_key), ("base_url", base_url)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{argument} must be a string; got {type(value).__name__}")


def build_session_config(
    owner: str,
    tools: Iterable[ToolLike],
    config: SessionConfig | None,
    session_options: dict[str, Any],
    own_options: Iterable[str],
) -> tuple[SessionConfig, ToolRegistry]:
    """The session config (without the Python tools) and the registry of the Python tools the kernel runs.

    ``session_options`` are :class:`SessionConfig` keywords; a misspelt one raises ``TypeError`` naming the closest
    option of ``owner`` (``own_options``) or of the config. Python tools given in the config run in the kernel too;
    the config keeps the tools the API runs (MCP) or that are answered another way.
    """
    if config is not None and session_options:
        raise TypeError("pass session options either as config= or as keyword arguments, not both")
    known = [*own_options, *SessionConfig.model_fields]
    for name in session_options:
        if name not in SessionConfig.model_fields:
            raise TypeError(f"{owner}() got an unknown option {name!r}{did_you_mean(name, known)}")
    built = config if config is not None else SessionConfig(**session_options)
    registry = ToolRegistry([*tools, *built.python_tools()])
    return built.replace(tools=[t for t in built.tools if isinstance(t, dict)]), registry


def config_with_tools(config: SessionConfig, tools: ToolRegistry) -> SessionConfig:
    """``config`` with the Python tools' definitions added to the tools it keeps (MCP servers, functions answered
    elsewhere), which are left untouched."""
    others = [t for t in config.tools if isinstance(t, dict) and t.get("name") not in tools]
    return config.replace(tools=[*others, *tools.definitions()])
