"""The session as the engine reads it: typed accessors over the GA session object.

The engine keeps the session as the API's own JSON object (it is what ``session.created``/``session.updated`` send,
and what updates merge into), but reads it only through this class, so a field's path and default live in one
place instead of in ``dict[str, Any]`` chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from realtime_widget.protocol.rules import server_vad_defaults
from realtime_widget.server.session.config import apply_update
from realtime_widget.server.voice.vad import semantic_vad_silence_ms


@dataclass(frozen=True)
class TurnDetection:
    """The session's turn detection, with the API's defaults filled in. ``semantic_vad`` is run as energy VAD
    with a silence wait chosen by its eagerness (the local model has no semantic end-of-turn detector)."""

    type: Literal["server_vad", "semantic_vad"]
    threshold: float
    prefix_padding_ms: int
    silence_duration_ms: int
    create_response: bool
    interrupt_response: bool
    idle_timeout_ms: int | None

    @classmethod
    def from_session(cls, turn: dict[str, Any]) -> TurnDetection:
        vad = {**server_vad_defaults(), **turn}
        if turn["type"] == "semantic_vad":
            silence = semantic_vad_silence_ms(str(turn.get("eagerness", "auto")))
            return cls(
                "semantic_vad", vad["threshold"], vad["prefix_padding_ms"], silence, *_response_flags(turn), None
            )
        return cls(
            "server_vad",
            float(vad["threshold"]),
            int(vad["prefix_padding_ms"]),
            int(vad["silence_duration_ms"]),
            *_response_flags(turn),
            vad["idle_timeout_ms"] or None,
        )


def _response_flags(turn: dict[str, Any]) -> tuple[bool, bool]:
    return bool(turn.get("create_response", True)), bool(turn.get("interrupt_response", True))


class SessionState:
    """One session's configuration: the GA session object (``value``) and typed reads of it."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def apply(self, update: dict[str, Any]) -> None:
        """Merge a ``session.update`` into the session (raises ``SessionConfigError`` as the API would refuse it)."""
        self.value = apply_update(self.value, update)

    @property
    def id(self) -> str:
        return str(self.value["id"])

    @property
    def model(self) -> str:
        return str(self.value.get("model", ""))

    @property
    def instructions(self) -> str:
        return str(self.value.get("instructions") or "")

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.value.get("tools") or [])

    @property
    def tool_choice(self) -> str | dict[str, Any]:
        choice: str | dict[str, Any] = self.value.get("tool_choice") or "auto"
        return choice

    @property
    def output_modalities(self) -> list[str]:
        return list(self.value["output_modalities"])

    @property
    def max_output_tokens(self) -> int | str:
        limit: int | str = self.value["max_output_tokens"]
        return limit

    @property
    def voice(self) -> str | dict[str, Any]:
        """A built-in voice's name, or a custom voice as the API takes it: ``{"id": "voice_..."}``."""
        voice: str | dict[str, Any] = self._output["voice"]
        return voice

    @property
    def speed(self) -> float:
        return float(self._output.get("speed", 1.0))

    @property
    def output_format(self) -> dict[str, Any]:
        output_format: dict[str, Any] = self._output["format"]
        return output_format

    @property
    def input_format_type(self) -> str:
        """The input audio's MIME-like type (``audio/pcm``, ``audio/pcmu`` or ``audio/pcma``)."""
        return str((self._input.get("format") or {}).get("type", "audio/pcm"))

    @property
    def transcribes_input(self) -> bool:
        """Whether input audio transcription is on (the client then gets transcription events)."""
        return bool(self._input.get("transcription"))

    @property
    def turn_detection(self) -> TurnDetection | None:
        """The turn detection in force, or ``None`` when it is off (push to talk)."""
        turn = self._input.get("turn_detection")
        return TurnDetection.from_session(turn) if isinstance(turn, dict) else None

    @property
    def _input(self) -> dict[str, Any]:
        audio_input: dict[str, Any] = self.value.get("audio", {}).get("input", {})
        return audio_input

    @property
    def _output(self) -> dict[str, Any]:
        audio_output: dict[str, Any] = self.value["audio"]["output"]
        return audio_output
