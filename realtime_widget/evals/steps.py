"""What the user does in a scripted conversation: speak, type, show an image, barge in, or stay silent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Image", "Say", "Silence", "Typed", "UserStep"]


@dataclass(frozen=True)
class Say:
    """The user speaks: ``text`` synthesized as speech, or the recording in ``audio`` (a WAV file).

    ``interrupt_after_ms`` makes it a barge-in: instead of waiting for the assistant's reply to be done and heard,
    the user starts speaking this long after the reply's audio starts, cutting it off.
    """

    text: str | None = None
    audio: Path | None = None
    interrupt_after_ms: float | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.audio is None):
            raise ValueError("Say needs exactly one of text= (spoken by a synthesizer) or audio= (a WAV file)")
        if self.text is not None and not self.text.strip():
            raise ValueError("Say(text=...) needs words to speak")
        if self.interrupt_after_ms is not None and not self.interrupt_after_ms >= 0:
            raise ValueError(f"interrupt_after_ms must be a number of ms >= 0, not {self.interrupt_after_ms!r}")

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        what = repr(self.text) if self.text is not None else f"audio {Path(self.audio or '').name}"
        barge = f" (barge-in after {self.interrupt_after_ms:g} ms)" if self.interrupt_after_ms is not None else ""
        return f"say {what}{barge}"


@dataclass(frozen=True)
class Typed:
    """The user types ``text`` (a user message; the assistant answers it)."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError("Typed needs some text")

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return f"type {self.text!r}"


@dataclass(frozen=True)
class Image:
    """The user shows an image (a PNG/JPEG path), with an optional ``prompt`` typed beside it."""

    path: Path
    prompt: str | None = None

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return f"image {Path(self.path).name}" + (f" with {self.prompt!r}" if self.prompt else "")


@dataclass(frozen=True)
class Silence:
    """Nothing happens for ``ms`` milliseconds (the session keeps running: the reply plays, timers fire)."""

    ms: float

    def __post_init__(self) -> None:
        if not self.ms >= 0:
            raise ValueError(f"Silence needs a duration in ms >= 0, not {self.ms!r}")

    def describe(self) -> str:
        """A short label for tables and failure messages."""
        return f"silence {self.ms:g} ms"


#: A step the user takes; each starts a new turn except :class:`Silence`.
UserStep = Say | Typed | Image | Silence
