"""Token estimates for ``response.done`` usage. The local model has no tokenizer, so these are stand-ins with the
API's rough proportions: about four characters of English per text token, and audio by duration."""

from __future__ import annotations

import math
from typing import Any

#: Audio tokens per second of input (user) audio and of output (assistant) audio.
INPUT_AUDIO_TOKENS_PER_S = 10
OUTPUT_AUDIO_TOKENS_PER_S = 20


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def audio_tokens(duration_ms: int, per_second: int) -> int:
    return math.ceil(duration_ms * per_second / 1000)


def usage(input_text: int, input_audio: int, output_text: int, output_audio: int) -> dict[str, Any]:
    """The ``usage`` object of a response from its token counts."""
    input_total = input_text + input_audio
    output_total = output_text + output_audio
    return {
        "total_tokens": input_total + output_total,
        "input_tokens": input_total,
        "output_tokens": output_total,
        "input_token_details": {
            "text_tokens": input_text,
            "audio_tokens": input_audio,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": output_text, "audio_tokens": output_audio},
    }
