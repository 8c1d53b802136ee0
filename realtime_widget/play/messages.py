"""The kernel -> browser messages of a play (docs/wire.md, "Playing a case"): PCM goes as binary buffers, a
second at a time, so a long turn is many small messages rather than one huge one; never JSON arrays or traits."""

from __future__ import annotations

from typing import Any

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16

__all__ = ["CHUNK_SECONDS", "audio_messages", "command"]

#: Audio per message: 48 kB of PCM16 at 24 kHz.
CHUNK_SECONDS = 1.0


def command(name: str, play_id: str, **fields: Any) -> dict[str, Any]:
    """A play command in the widget's command envelope."""
    return {"type": "rtw:cmd", "command": {"name": name, "play_id": play_id, **fields}}


def audio_messages(
    play_id: str, step: int, pcm: Pcm16, sample_rate: int = SAMPLE_RATE, chunk_seconds: float = CHUNK_SECONDS
) -> list[tuple[dict[str, Any], bytes]]:
    """One step's speech as ``(content, buffer)`` messages: little-endian PCM16, ``chunk_seconds`` each, the last
    one marked ``last`` (the browser then reports when the speech has finished sounding)."""
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds must be > 0, not {chunk_seconds!r}")
    samples = np.asarray(pcm, dtype="<i2")
    size = max(1, round(sample_rate * chunk_seconds))
    starts = list(range(0, len(samples), size)) or [0]
    return [
        (
            command("play_audio", play_id, step=step, seq=seq, sample_rate=sample_rate, last=seq == len(starts) - 1),
            samples[start : start + size].tobytes(),
        )
        for seq, start in enumerate(starts)
    ]
