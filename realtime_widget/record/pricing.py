"""Token prices per model and the cost of one ``response.done``'s usage.

``DEFAULT_PRICES`` holds USD per 1M tokens as listed on the models' pages at developers.openai.com, read in
November 2026. Prices change: treat them as a starting point and edit them. ``record.prices`` is a plain dict you can
update (``record.prices["my-model"] = ModelPrices(...)``), or pass ``prices=`` to ``record.usage_with_cost``. A model
missing from the table gets ``cost_usd`` NaN rather than a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["DEFAULT_PRICES", "PRICES_AS_OF", "ModelPrices", "cost_usd", "prices_from_json", "prices_to_json"]

PRICES_AS_OF = "2026-11"


@dataclass(frozen=True)
class ModelPrices:
    """USD per 1M tokens, by modality; ``*_cached_in`` applies to the cached part of the input."""

    text_in: float
    text_cached_in: float
    text_out: float
    audio_in: float
    audio_cached_in: float
    audio_out: float
    image_in: float = math.nan
    image_cached_in: float = math.nan
    #: USD per minute of audio, for models billed by duration (whisper-1's transcription).
    per_minute: float = math.nan


_REALTIME = ModelPrices(4.0, 0.4, 16.0, 32.0, 0.4, 64.0, 5.0, 0.5)
_REALTIME_2 = ModelPrices(4.0, 0.4, 24.0, 32.0, 0.4, 64.0, 5.0, 0.5)
_MINI = ModelPrices(0.6, 0.06, 2.4, 10.0, 0.3, 20.0, 0.8, 0.08)
# Input audio transcription, billed apart from the responses: by tokens (gpt-4o-transcribe and its mini), or by the
# minute (whisper-1), as the models' pages list them (read in November 2026).
_TRANSCRIBE = ModelPrices(2.5, 2.5, 10.0, 6.0, 6.0, 0.0)
_TRANSCRIBE_MINI = ModelPrices(1.25, 1.25, 5.0, 3.0, 3.0, 0.0)
_WHISPER = ModelPrices(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, per_minute=0.006)

#: Prices per model id (see the module docstring for their source and date). Copied into each record's ``prices``.
DEFAULT_PRICES: Mapping[str, ModelPrices] = {
    "gpt-realtime": _REALTIME,
    "gpt-realtime-2025-08-28": _REALTIME,
    "gpt-realtime-1.5": _REALTIME,
    "gpt-realtime-2": _REALTIME_2,
    "gpt-realtime-mini": _MINI,
    "gpt-realtime-mini-2025-10-06": _MINI,
    "gpt-realtime-2.1-mini": _MINI,
    "gpt-4o-transcribe": _TRANSCRIBE,
    "gpt-4o-mini-transcribe": _TRANSCRIBE_MINI,
    "whisper-1": _WHISPER,
}


def cost_usd(usage: Mapping[str, Any], prices: ModelPrices | None) -> float:
    """The cost of one response from its token columns (the ``usage`` view's names); NaN without prices.

    Cached input tokens are billed at the cached rate and the rest of the input at the full rate, per modality.
    When the usage has no per-modality split of cached tokens, they are priced at the cached text rate.
    """
    if prices is None:
        return math.nan

    def n(name: str) -> float:
        value = usage.get(name)
        return 0.0 if value is None or _is_missing(value) else float(value)

    cached_text, cached_audio, cached_image = (
        n("cached_text_tokens"),
        n("cached_audio_tokens"),
        n("cached_image_tokens"),
    )
    if cached_text + cached_audio + cached_image == 0:
        cached_text = n("cached_tokens")
    if not math.isnan(prices.per_minute):
        return n("audio_seconds") / 60.0 * prices.per_minute
    image_rate = 0.0 if math.isnan(prices.image_in) else prices.image_in
    image_cached_rate = 0.0 if math.isnan(prices.image_cached_in) else prices.image_cached_in
    total = (
        max(n("input_text_tokens") - cached_text, 0.0) * prices.text_in
        + cached_text * prices.text_cached_in
        + max(n("input_audio_tokens") - cached_audio, 0.0) * prices.audio_in
        + cached_audio * prices.audio_cached_in
        + max(n("input_image_tokens") - cached_image, 0.0) * image_rate
        + cached_image * image_cached_rate
        + n("output_text_tokens") * prices.text_out
        + n("output_audio_tokens") * prices.audio_out
    )
    return total / 1_000_000


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>"


def prices_to_json(prices: Mapping[str, ModelPrices]) -> dict[str, dict[str, float | None]]:
    """Prices as plain JSON (NaN as null), for ``meta.json``."""
    return {
        model: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(p).items()}
        for model, p in prices.items()
    }


def prices_from_json(data: Mapping[str, Mapping[str, float | None]]) -> dict[str, ModelPrices]:
    return {
        model: ModelPrices(**{k: (math.nan if v is None else float(v)) for k, v in fields.items()})
        for model, fields in data.items()
    }
