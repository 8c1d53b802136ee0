"""The Realtime API's rules that both sides of the project need: voices, turn detection defaults, value limits,
ephemeral key lifetimes, the default model, reconnect defaults, and how a ``session.update`` merges into a
session. The kernel checks a config with them before anything is sent, the local server answers with them as the
API does, and the front end receives the reconnect defaults from the kernel (the ``options`` trait).

Where the SDK (``openai.types.realtime``) states a rule, it is read from the SDK, so a new voice needs no change
here; the sources of the others are named beside them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from openai.types.realtime.realtime_audio_config_output import Voice as _SdkVoice

#: The voices the API accepts by name, read from the SDK's ``Voice`` type (a custom voice is ``{"id": ...}``).
VOICES: tuple[str, ...] = next(get_args(arg) for arg in get_args(_SdkVoice) if get_args(arg))

#: The model a session gets when none is named (the API's default, and the SDK's first model literal).
DEFAULT_MODEL = "gpt-realtime"

#: ``audio.output.speed``: the SDK's docstring says "minimum speed is 0.25 and the maximum is 1.5".
SPEED_RANGE = (0.25, 1.5)
#: ``turn_detection.threshold``, server VAD's activation threshold ("0.0 to 1.0" in the SDK's docstring).
VAD_THRESHOLD_RANGE = (0.0, 1.0)
#: ``output_modalities``: exactly one of these (the API refuses both at once).
OUTPUT_MODALITIES: tuple[Literal["text", "audio"], ...] = ("text", "audio")

#: Function tool names: the pattern the API's function tools take (as for the Responses and Chat APIs).
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: Server VAD's prefix padding and silence duration, in ms (a bound of ours: ten seconds is far past any use).
MAX_VAD_MS = 10_000

#: How big a session object may be. None of these is documented for the Realtime API; they are bounds of ours, far
#: past any real use, so that a client cannot make a server hold megabytes per key or per session:
#: - tools: 128, the limit openai-python's docstrings give for function tools elsewhere ("A max of 128 functions are
#:   supported", ``types/evals/create_eval_completions_run_data_source.py``);
#: - instructions: 512 Ki characters, about 128k tokens, the largest context of any realtime model (gpt-realtime-2);
#: - the whole session object as JSON: 1 MiB (the instructions plus tool schemas, prompt variables, ...).
MAX_TOOLS = 128
MAX_INSTRUCTIONS_CHARS = 512 * 1024
MAX_SESSION_JSON_BYTES = 1024 * 1024

#: Ephemeral keys: ``expires_after.seconds`` from 10 to 7200, 600 when not given (the client secrets docstring).
KEY_TTL_RANGE_S = (10, 7200)
DEFAULT_KEY_TTL_S = 600


def server_vad_defaults() -> dict[str, Any]:
    """Server VAD with every default filled in. ``silence_duration_ms`` is 500 as the SDK's field description says
    (the spec's client-secret example shows 200; a shorter wait splits "Stop, please." into two turns)."""
    return {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }


def semantic_vad_defaults() -> dict[str, Any]:
    """Semantic VAD with every default filled in."""
    return {"type": "semantic_vad", "eagerness": "auto", "create_response": True, "interrupt_response": True}


def with_turn_detection_defaults(turn_detection: dict[str, Any]) -> dict[str, Any]:
    """``turn_detection`` as the session holds it: the defaults of its type under what was given."""
    if turn_detection.get("type") == "server_vad":
        return {**server_vad_defaults(), **turn_detection}
    if turn_detection.get("type") == "semantic_vad":
        return {**semantic_vad_defaults(), **turn_detection}
    return turn_detection


def merge_update(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in, as a ``session.update`` changes a session: only the fields present
    change; nested objects merge, except that an object whose ``type`` changes is replaced whole (a
    ``semantic_vad`` update must not inherit server VAD's threshold); ``null`` sets a field to null (how
    turn detection is switched off). ``base`` is not changed."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        current = merged.get(key)
        replace_whole = (
            isinstance(value, dict)
            and isinstance(current, dict)
            and value.get("type", current.get("type")) != current.get("type")
        )
        if isinstance(value, dict) and isinstance(current, dict) and not replace_whole:
            merged[key] = merge_update(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass(frozen=True)
class ReconnectDefaults:
    """How the widget tries again after a lost connection: up to ``max_attempts``, waiting from ``base_delay_ms``
    doubling up to ``max_delay_ms`` (with jitter). Ours, not the API's; here so the kernel is their one home."""

    max_attempts: int = 3
    base_delay_ms: int = 500
    max_delay_ms: int = 8000


RECONNECT = ReconnectDefaults()
