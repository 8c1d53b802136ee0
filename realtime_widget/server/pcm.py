"""The one audio format inside the server: mono PCM16 at 24 kHz as a 1-D ``numpy.int16`` array.

It is the Realtime API's own ``audio/pcm`` format. Every layer speaks it: transports convert to and from it (WebRTC:
48 kHz Opus; WebSocket: base64 PCM16 or G.711), the session engine buffers it, and the voice model hears and
speaks it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24_000
Pcm16 = npt.NDArray[np.int16]


def duration_ms(samples: Pcm16) -> int:
    """How long ``samples`` last, in whole milliseconds."""
    return samples.size * 1000 // SAMPLE_RATE
