"""Session settings for the Realtime API: typed, checked when you build them, and turned into the GA ``session`` object.

>>> config = SessionConfig(voice="cedar", instructions="Answer in one sentence.", turn_detection="semantic_vad")
>>> config.to_session()["audio"]["output"]["voice"]
'cedar'

A :class:`SessionConfig` is immutable; :meth:`SessionConfig.replace` returns a changed copy, checked the same way.
Misspelt options fail at once with a suggestion (``SessionConfig(voise="x")`` raises
``TypeError: unknown option 'voise'; did you mean 'voice'?``); values out of range raise ``pydantic.ValidationError``
(a ``ValueError``) naming the option.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, Literal

from openai.types.realtime import RealtimeSessionCreateRequest
from openai.types.realtime.realtime_tools_config_union import RealtimeToolsConfigUnion
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from realtime_widget.protocol.rules import DEFAULT_MODEL, FUNCTION_NAME, SPEED_RANGE, VOICES, merge_update
from realtime_widget.suggest import did_you_mean
from realtime_widget.tools.define import Tool

__all__ = [
    "BUILTIN_VOICES",
    "CustomVoice",
    "SemanticVAD",
    "ServerVAD",
    "SessionConfig",
    "Transcription",
    "TurnDetectionName",
]

#: The voices the API accepts by name (read from the installed SDK, in ``protocol.rules``).
BUILTIN_VOICES: tuple[str, ...] = VOICES

TurnDetectionName = Literal["server_vad", "semantic_vad", "none"]
"""How the widget's ``settings`` trait names turn detection."""

_AUDIO_ONLY: list[Literal["audio", "text"]] = ["audio"]
_TOOLS_ADAPTER: TypeAdapter[Any] = TypeAdapter(RealtimeToolsConfigUnion)


def _check_option_names(model: type[BaseModel], data: Any) -> Any:
    # A TypeError is not wrapped by pydantic, so the user sees exactly this message, suggestion included.
    if isinstance(data, dict):
        known = [name for name in model.model_fields if name != "type"]
        for name in data:
            if name not in model.model_fields:
                hint = did_you_mean(name, known, otherwise=f"; known options: {', '.join(sorted(known))}")
                raise TypeError(f"unknown option {name!r}{hint}")
    return data


class _Options(BaseModel):
    # Frozen so a config can be shared between the widget and the record without copies; extra="forbid" so a
    # misspelt nested option is an error rather than silently ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_options(cls, data: Any) -> Any:
        return _check_option_names(cls, data)

    def __repr__(self) -> str:
        # Only what differs from the defaults: `ServerVAD(silence_duration_ms=800)` reads better than ten Nones.
        shown = ", ".join(f"{k}={v!r}" for k, v in self.model_dump(exclude_defaults=True).items() if k != "type")
        return f"{type(self).__name__}({shown})"


class ServerVAD(_Options):
    """Server voice activity detection: a turn ends after ``silence_duration_ms`` of silence.

    Every option left as ``None`` takes the server's default (threshold 0.5, 300 ms prefix padding, 500 ms silence).

    Args:
        threshold: How loud speech must be to count, from 0.0 to 1.0; raise it in a noisy room.
        prefix_padding_ms: Audio kept from before speech was detected, in milliseconds.
        silence_duration_ms: Silence that ends the user's turn, in milliseconds. Shorter answers faster but may
            cut in on a pause.
        idle_timeout_ms: If the user says nothing for this long (5,000 to 30,000 ms) after the model finished, the
            model speaks again.
        create_response: Answer automatically when the user stops speaking.
        interrupt_response: Stop the model when the user starts speaking over it.
    """

    type: Literal["server_vad"] = "server_vad"
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    prefix_padding_ms: int | None = Field(default=None, ge=0)
    silence_duration_ms: int | None = Field(default=None, ge=0)
    idle_timeout_ms: int | None = Field(default=None, ge=5000, le=30000)
    create_response: bool | None = None
    interrupt_response: bool | None = None


class SemanticVAD(_Options):
    """Semantic turn detection: a model judges whether the user has finished their thought.

    Args:
        eagerness: ``"low"`` waits longer for the user to go on (up to 8 s), ``"high"`` answers sooner (2 s);
            ``"auto"`` (the server's default) is ``"medium"`` (4 s).
        create_response: Answer automatically when the user's turn ends.
        interrupt_response: Stop the model when the user starts speaking over it.
    """

    type: Literal["semantic_vad"] = "semantic_vad"
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None


class Transcription(_Options):
    """Transcription of what the user says (the model itself hears audio; this fills the transcript).

    Args:
        model: The transcription model, e.g. ``"gpt-4o-mini-transcribe"``, ``"gpt-4o-transcribe"``, ``"whisper-1"``.
        language: The spoken language as an ISO-639-1 code such as ``"en"``; improves accuracy and latency.
        prompt: Words or style hints for the transcriber.
    """

    model: str = "gpt-4o-mini-transcribe"
    language: str | None = None
    prompt: str | None = None


class CustomVoice(_Options):
    """A custom voice made from audio samples, referred to by its id (``"voice_..."``)."""

    id: str = Field(min_length=1)


class SessionConfig(BaseModel):
    """Everything the model is told about the session: who it is, how it sounds, when it answers, what it can call.

    Args:
        model: The Realtime model; any name the API accepts (default ``"gpt-realtime"``).
        instructions: The system prompt. ``None`` keeps the server's default.
        voice: One of :data:`BUILTIN_VOICES` (``"marin"`` and ``"cedar"`` sound best), another voice name, or a
            custom voice ``{"id": "voice_..."}``. The voice cannot change once the model has spoken.
        output_modalities: ``["audio"]`` (speech plus its transcript) or ``["text"]``; a single string works too.
        turn_detection: ``"server_vad"`` (default), ``"semantic_vad"``, ``None`` (you decide when the model answers),
            or a :class:`ServerVAD` / :class:`SemanticVAD` (or an equivalent dict) to tune it.
        noise_reduction: ``"near_field"`` (headset), ``"far_field"`` (laptop or room microphone) or ``None``.
        transcription: How to transcribe the user: a :class:`Transcription`, a dict, a model name, or ``None``
            to turn it off (then the transcript has no user text).
        tools: Python tools (``@tool`` functions or plain functions, run in the kernel when the model calls them),
            GA tool definitions (``{"type": "function", ...}`` for functions you answer yourself, or
            ``{"type": "mcp", "server_label", "server_url", ...}`` for MCP servers the API calls), or both. MCP
            tools are passed to the API untouched; their calls show in the transcript.
        tool_choice: ``"auto"`` (default), ``"none"``, ``"required"``, or ``{"type": "function", "name": ...}``.
        max_output_tokens: Limit per response, 1 to 4096, or ``"inf"`` (default).
        speed: Speaking speed, 0.25 to 1.5 (default 1.0).
        extra: Other GA session fields, merged in last (nested dicts merge), for what has no option here:
            ``{"truncation": "disabled"}``, ``{"reasoning": {"effort": "low"}}``, ``{"tracing": "auto"}``.

    Example:
        >>> SessionConfig(voice="cedar", turn_detection=ServerVAD(silence_duration_ms=800)).replace(speed=1.2)
        SessionConfig(model='gpt-realtime', voice='cedar', turn_detection=ServerVAD(silence_duration_ms=800), speed=1.2)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, arbitrary_types_allowed=True)

    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    instructions: str | None = None
    voice: str | CustomVoice = "marin"
    output_modalities: list[Literal["audio", "text"]] = Field(default_factory=_AUDIO_ONLY.copy)
    turn_detection: ServerVAD | SemanticVAD | None = Field(default_factory=ServerVAD, discriminator="type")
    noise_reduction: Literal["near_field", "far_field"] | None = None
    transcription: Transcription | None = Field(default_factory=Transcription)
    tools: list[dict[str, Any] | Tool] = Field(default_factory=list)
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] = "auto"
    max_output_tokens: int | Literal["inf"] = "inf"
    speed: float = Field(default=1.0, ge=SPEED_RANGE[0], le=SPEED_RANGE[1])
    extra: dict[str, Any] = Field(default_factory=dict)

    # ---- validation -------------------------------------------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_options(cls, data: Any) -> Any:
        return _check_option_names(cls, data)

    @field_validator("voice", mode="before")
    @classmethod
    def _voice(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError(f"voice must not be empty; built-in voices: {', '.join(BUILTIN_VOICES)}")
        return value

    @field_validator("output_modalities", mode="before")
    @classmethod
    def _modalities(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple) and len(value) != 1:
            raise ValueError('output_modalities must be ["audio"] or ["text"]; the API does not allow both')
        return list(value) if isinstance(value, tuple) else value

    @field_validator("turn_detection", mode="before")
    @classmethod
    def _turn_detection(cls, value: Any) -> Any:
        if value == "none":
            return None
        if isinstance(value, str):
            if value not in ("server_vad", "semantic_vad"):
                raise ValueError(f"turn_detection must be 'server_vad', 'semantic_vad' or None, not {value!r}")
            return {"type": value}
        return value

    @field_validator("transcription", mode="before")
    @classmethod
    def _transcription(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError("tools must be a list of Python tools (functions) or tool definitions (dicts)")
        tools = [_tool_or_definition(t) for t in value]
        names: set[str] = set()
        for tool in tools:
            if isinstance(tool, Tool):
                if tool.name in names:
                    raise ValueError(f"two tools are named {tool.name!r}")
                names.add(tool.name)
                continue
            if tool.get("type") not in ("function", "mcp"):
                raise ValueError(f"each tool needs 'type': 'function' or 'mcp'; got {tool!r:.200}")
            if tool["type"] == "function":
                name = tool.get("name")
                if not isinstance(name, str) or not name:
                    raise ValueError(f"a function tool needs a 'name'; got {tool!r:.200}")
                if not FUNCTION_NAME.fullmatch(name):
                    raise ValueError(f"tool name {name!r} is not usable: use 1 to 64 letters, digits, '_' or '-'")
                if name in names:
                    raise ValueError(f"two tools are named {name!r}")
                names.add(name)
                if not isinstance(tool.get("parameters", {}), dict):
                    raise ValueError(f"the parameters of tool {name!r} must be a JSON Schema dict")
            _TOOLS_ADAPTER.validate_python(tool)
        return tools

    @field_validator("tool_choice", mode="before")
    @classmethod
    def _tool_choice(cls, value: Any) -> Any:
        if isinstance(value, dict) and (value.get("type") not in ("function", "mcp") or not value.get("name")):
            raise ValueError('tool_choice must be "auto", "none", "required" or {"type": "function", "name": ...}')
        return value

    @field_validator("max_output_tokens", mode="before")
    @classmethod
    def _max_output_tokens_not_bool(cls, value: Any) -> Any:
        # pydantic would take True as 1: a flag where a number of tokens belongs is a mistake worth saying.
        if isinstance(value, bool):
            raise TypeError(f"max_output_tokens must be a whole number from 1 to 4096, or 'inf'; got {value}")
        return value

    @field_validator("max_output_tokens")
    @classmethod
    def _max_output_tokens(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 4096:
            raise ValueError(f"max_output_tokens must be between 1 and 4096, or 'inf'; got {value}")
        return value

    @field_validator("extra")
    @classmethod
    def _extra(cls, value: dict[str, Any]) -> dict[str, Any]:
        known = [name for name in RealtimeSessionCreateRequest.model_fields if name != "type"]
        for name in value:
            if name not in known:
                hint = did_you_mean(name, known, otherwise=f"; GA session fields: {', '.join(known)}")
                raise ValueError(f"extra has {name!r}, which is not a GA session field{hint}")
        return value

    @model_validator(mode="after")
    def _valid_for_the_api(self) -> SessionConfig:
        # Belt and braces: what we send must parse as the SDK's own GA model.
        RealtimeSessionCreateRequest.model_validate(self.to_session())
        return self

    # ---- building the wire objects ------------------------------------------------------------------------------

    def _parts(self, *, explicit_nulls: bool) -> dict[str, tuple[tuple[str, ...], Any]]:
        # Each option → (its path in the GA session object, its wire value). MISSING means "leave it out".
        def optional(value: Any) -> Any:
            return value if value is not None or explicit_nulls else _MISSING

        voice = self.voice.model_dump() if isinstance(self.voice, CustomVoice) else self.voice
        turn = self.turn_detection.model_dump(exclude_none=True) if self.turn_detection else None
        transcription = self.transcription.model_dump(exclude_none=True) if self.transcription else None
        noise = {"type": self.noise_reduction} if self.noise_reduction else None
        return {
            "model": (("model",), self.model),
            "instructions": (("instructions",), optional(self.instructions)),
            "output_modalities": (("output_modalities",), list(self.output_modalities)),
            "voice": (("audio", "output", "voice"), voice),
            "speed": (("audio", "output", "speed"), self.speed),
            # null is the only way to switch turn detection off, so it is always sent.
            "turn_detection": (("audio", "input", "turn_detection"), turn),
            "noise_reduction": (("audio", "input", "noise_reduction"), optional(noise)),
            "transcription": (("audio", "input", "transcription"), optional(transcription)),
            "tools": (("tools",), self.tool_definitions()),
            "tool_choice": (("tool_choice",), self.tool_choice),
            "max_output_tokens": (("max_output_tokens",), self.max_output_tokens),
            "extra": ((), self.extra),  # the empty path merges into the session itself
        }

    def tool_definitions(self) -> list[dict[str, Any]]:
        """The GA definitions of :attr:`tools`, Python tools included, as ``session.tools`` carries them."""
        return [t.definition() if isinstance(t, Tool) else dict(t) for t in self.tools]

    def python_tools(self) -> list[Tool]:
        """The tools of :attr:`tools` that run in the kernel."""
        return [t for t in self.tools if isinstance(t, Tool)]

    def to_session(self, *, explicit_nulls: bool = False) -> dict[str, Any]:
        """The GA ``session`` object, as sent to ``POST /v1/realtime/client_secrets`` (``{"session": ...}``).

        Options that are off (``None``) are left out, so the server's defaults apply, except ``turn_detection``,
        which is sent as ``null`` because the server would otherwise turn it on. With ``explicit_nulls=True`` every
        option that is off is sent as ``null``, which a ``session.update`` needs to switch it off in a live session.
        """
        return _build_session(self._parts(explicit_nulls=explicit_nulls).values())

    def session_update_event(self, changes_only: dict[str, Any] | None = None) -> dict[str, Any]:
        """A ``session.update`` client event, ready to send on the data channel.

        Args:
            changes_only: Options that changed, e.g. ``{"voice": "cedar"}``; they are applied to this config (so
                ``config.replace(**c).session_update_event(c) == config.session_update_event(c)``) and only they
                are sent. ``None`` sends the whole configuration, with explicit ``null`` for options that are off.

        Raises:
            TypeError: an unknown option name.
            ValueError: ``model`` among the changes: a live session cannot switch models; reconnect instead.
        """
        if changes_only and "model" in changes_only:
            raise ValueError("the model cannot change during a session; disconnect and connect again to switch it")
        config = self.replace(**changes_only) if changes_only else self
        parts = config._parts(explicit_nulls=True)
        # The API clears instructions with an empty string; it declares a string, so null is refused.
        if parts["instructions"][1] is None:
            parts["instructions"] = (("instructions",), "")
        # The API refuses a model in session.update, so a full update leaves it out too.
        wanted = set(changes_only) if changes_only else set(parts) - {"model"}
        return {"type": "session.update", "session": _build_session(v for k, v in parts.items() if k in wanted)}

    # ---- copies and the widget's settings trait -----------------------------------------------------------------

    def replace(self, **changes: Any) -> SessionConfig:
        """A copy with ``changes`` applied and checked like the constructor: ``config.replace(voice="cedar")``."""
        return type(self).model_validate({**self._fields(), **changes})

    def ui_settings(self) -> dict[str, Any]:
        """The widget's ``settings`` trait: ``{"voice", "instructions", "turn_detection"}`` as strings the UI
        edits; ``turn_detection_config``, the whole turn detection object (or ``None``), which the browser's
        connect-time ``session.update`` sends so that tuned VAD is never reset to a bare ``{"type": ...}``; and
        ``voice_config``, a custom voice's object (``{"id": ...}``) or ``None``, sent in place of its id."""
        voice = self.voice.id if isinstance(self.voice, CustomVoice) else self.voice
        turn: TurnDetectionName = self.turn_detection.type if self.turn_detection else "none"
        turn_config = self.turn_detection.model_dump(exclude_none=True) if self.turn_detection else None
        return {
            "voice": voice,
            # A custom voice goes to the API as its object; the UI shows its id.
            "voice_config": self.voice.model_dump() if isinstance(self.voice, CustomVoice) else None,
            "instructions": self.instructions or "",
            "turn_detection": turn,
            "turn_detection_config": turn_config,
        }

    def with_ui_settings(self, settings: dict[str, Any]) -> SessionConfig:
        """A copy with the values the UI edits; keys other than those of :meth:`ui_settings` are ignored.

        Tuned turn detection survives as long as its kind is unchanged, and a custom voice stays a custom voice
        while the UI shows its id. Empty instructions mean the server's default.
        """
        changes: dict[str, Any] = {}
        if "voice" in settings:
            voice = settings["voice"]
            same_custom = isinstance(self.voice, CustomVoice) and voice == self.voice.id
            changes["voice"] = self.voice if same_custom else voice
        if "instructions" in settings:
            changes["instructions"] = settings["instructions"] or None
        if "turn_detection" in settings:
            kind = settings["turn_detection"]
            current = self.turn_detection.type if self.turn_detection else "none"
            changes["turn_detection"] = self.turn_detection if kind == current else kind
        return self.replace(**changes)

    def _fields(self) -> dict[str, Any]:
        # Shallow on purpose: nested option objects are frozen, so they can be reused as they are.
        return {name: getattr(self, name) for name in type(self).model_fields}

    def __repr__(self) -> str:
        defaults = SessionConfig.model_construct()
        shown: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in ("model", "voice") or value != getattr(defaults, name):
                if name == "tools":
                    tool_names = [t.get("name", t.get("server_label", t["type"])) for t in self.tool_definitions()]
                    shown.append(f"tools=[{', '.join(map(str, tool_names))}]")
                elif name == "instructions" and isinstance(value, str) and len(value) > 60:
                    shown.append(f"instructions={value[:57]!r}…")
                else:
                    shown.append(f"{name}={value!r}")
        return f"SessionConfig({', '.join(shown)})"

    __str__ = __repr__


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


def _build_session(parts: Iterable[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    session: dict[str, Any] = {"type": "realtime"}
    for path, option in parts:
        if option is _MISSING:
            continue
        # A copy, so a caller editing the returned dict cannot change the (frozen) config behind it.
        value = copy.deepcopy(option)
        if not path:
            session = merge_update(session, value)
            continue
        node = session
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return session


def _tool_or_definition(value: Any) -> dict[str, Any] | Tool:
    """A Python tool (a plain function is wrapped as ``@tool`` would) or a copy of a GA tool definition."""
    if isinstance(value, Tool):
        return value
    if callable(value):
        return Tool.from_function(value)
    if isinstance(value, dict):
        return dict(value)
    raise TypeError(f"a tool is a function, a Tool or a GA tool definition (dict); got {type(value).__name__}")
