"""Error codes shared by the kernel and the browser, each with words a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorInfo:
    """A failure as the user sees it: a stable ``code``, what happened, and what to do next."""

    code: str
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorInfo:
        return cls(str(data.get("code", "unknown")), str(data.get("message", "")), str(data.get("hint", "")))


class RealtimeWidgetError(Exception):
    """Raised by the Python API; ``info`` carries the code, message and hint shown in the widget."""

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(f"{info.message} {info.hint}".strip())
        self.info = info

    @property
    def code(self) -> str:
        return self.info.code
