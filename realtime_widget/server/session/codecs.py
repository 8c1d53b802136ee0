"""G.711 μ-law and A-law (the API's ``audio/pcmu`` and ``audio/pcma``) to and from PCM16, in numpy.

The API's G.711 formats run at 8 kHz; the engine works at 24 kHz, so conversion also resamples (by 3).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from realtime_widget.server.pcm import Pcm16

_BIAS = 0x84


def _ulaw_encode(pcm: Pcm16) -> npt.NDArray[np.uint8]:
    # The ITU reference on 14-bit samples: magnitude plus bias 33, segment = position of its top bit.
    x = pcm.astype(np.int32) >> 2
    negative = x < 0
    magnitude = np.minimum(np.where(negative, -x, x), 8159) + 33
    segment = np.floor(np.log2(magnitude)).astype(np.int32) - 5
    segment = np.clip(segment, 0, 7)
    code = np.where(magnitude > 0x1FFF, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)


def _ulaw_decode(data: npt.NDArray[np.uint8]) -> Pcm16:
    u = ~data.astype(np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_encode(pcm: Pcm16) -> npt.NDArray[np.uint8]:
    x = pcm.astype(np.int32) >> 3  # A-law works on 13-bit samples
    sign = np.where(x >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(x >= 0, x, -x - 1), 0x0FFF)
    exponent = np.where(magnitude < 32, 0, np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 4)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    code: npt.NDArray[np.uint8] = ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8)
    return code


def _alaw_decode(data: npt.NDArray[np.uint8]) -> Pcm16:
    a = data.astype(np.int32) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1))
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


def encode(pcm_24k: Pcm16, fmt: str) -> bytes:
    """PCM16 24 kHz to the wire bytes of ``fmt`` (``audio/pcm``, ``audio/pcmu`` or ``audio/pcma``)."""
    if fmt == "audio/pcm":
        return pcm_24k.astype("<i2").tobytes()
    # Averaging each group of three is a crude low-pass; enough for 8 kHz telephone audio.
    usable = pcm_24k[: pcm_24k.size - pcm_24k.size % 3].astype(np.int32)
    pcm_8k = usable.reshape(-1, 3).mean(axis=1).astype(np.int16)
    return (_ulaw_encode(pcm_8k) if fmt == "audio/pcmu" else _alaw_encode(pcm_8k)).tobytes()


def decode(data: bytes, fmt: str) -> Pcm16:
    """Wire bytes of ``fmt`` to PCM16 24 kHz."""
    if fmt == "audio/pcm":
        return np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int16)
    codes = np.frombuffer(data, dtype=np.uint8)
    pcm_8k = _ulaw_decode(codes) if fmt == "audio/pcmu" else _alaw_decode(codes)
    return np.repeat(pcm_8k, 3)
