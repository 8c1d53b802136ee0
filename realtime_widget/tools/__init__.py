"""Python functions the model can call: defining them (``define``: :func:`tool`, :class:`Tool`), their JSON schema
from type hints and docstrings (``schema``), their results as text for the model (``output``), running a call
(``registry``: :class:`ToolRegistry`, :class:`ToolOutcome`) and answering the model's calls in a session
(``runner``)."""

from .define import DEFAULT_TIMEOUT_S, Tool, ToolLike, tool
from .registry import ToolOutcome, ToolRegistry

__all__ = ["DEFAULT_TIMEOUT_S", "Tool", "ToolLike", "ToolOutcome", "ToolRegistry", "tool"]
