"""With turn detection off nothing commits by itself: the input buffer is capped (``MAX_BUFFER_MS``), an append
past it is refused with an error naming the event, and the session goes on (a commit empties it again)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import numpy as np

from realtime_widget.server.session.input_buffer import MAX_BUFFER_MS, SAMPLES_PER_MS
from tests.server.clients import EngineHarness

Make = Callable[..., EngineHarness]
MINUTE = np.zeros(60_000 * SAMPLES_PER_MS, dtype=np.int16)


def _append(minutes: int = 1, event_id: str = "evt_a") -> dict[str, object]:
    audio = base64.b64encode(np.tile(MINUTE, minutes).tobytes()).decode()
    return {"type": "input_audio_buffer.append", "event_id": event_id, "audio": audio}


async def test_appends_past_the_cap_are_refused_and_the_session_goes_on(harness: Make) -> None:
    h = harness()
    await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    limit_minutes = MAX_BUFFER_MS // 60_000
    for _ in range(limit_minutes // 3):
        assert await h.send(_append(3)) == []  # appends are not acknowledged
    assert h.engine.turns.buffer.duration_ms == MAX_BUFFER_MS
    refused = await h.send(_append(1, "evt_over"))
    assert h.types(refused) == ["error"]
    assert refused[0]["error"]["code"] == "input_audio_buffer_full"
    assert refused[0]["error"]["event_id"] == "evt_over"
    assert h.engine.turns.buffer.duration_ms == MAX_BUFFER_MS  # nothing of the refused chunk was kept
    committed = await h.send({"type": "input_audio_buffer.commit"})
    assert "input_audio_buffer.committed" in h.types(committed)
    assert h.engine.turns.buffer.duration_ms == 0
    assert await h.send(_append(1)) == []  # room again


async def test_track_audio_past_the_cap_is_dropped_with_one_error(harness: Make) -> None:
    h = harness(transport="webrtc")
    await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    before = len(h.events)
    second = np.zeros(1000 * SAMPLES_PER_MS, dtype=np.int16)
    for _ in range(MAX_BUFFER_MS // 1000 + 30):
        h.engine.feed_audio(second)
    errors = [e for e in h.events[before:] if e["type"] == "error"]
    assert [e["error"]["code"] for e in errors] == ["input_audio_buffer_full"]  # once, not once per frame
    assert h.engine.turns.buffer.duration_ms == MAX_BUFFER_MS
    await h.send({"type": "input_audio_buffer.clear"})
    h.engine.feed_audio(second)
    assert h.engine.turns.buffer.duration_ms == 1000
