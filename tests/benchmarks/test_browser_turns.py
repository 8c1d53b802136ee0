"""How the browser reply-latency benchmark reads what its page noted (pure logic; the page itself runs in
``python -m benchmarks``)."""

from __future__ import annotations

from typing import Any

from benchmarks.browser_turns import JITTER_WINDOW_MS, jitter_over, turns_from


def stats(t: float, emitted: int, delay: float, target: float) -> dict[str, Any]:
    return {"t": t, "emitted": emitted, "delay": delay, "target": target}


def test_each_turn_is_timed_from_its_own_speech_stopped_to_what_follows_it() -> None:
    noted = {
        "events": [
            {"t": 1000.0, "type": "input_audio_buffer.speech_stopped"},
            {"t": 1012.0, "type": "response.created"},
            {"t": 1040.0, "type": "output_audio_buffer.started"},
            {"t": 5000.0, "type": "input_audio_buffer.speech_stopped"},
            {"t": 5020.0, "type": "output_audio_buffer.started"},
        ],
        "onsets": [
            {"kind": "sound", "t": 1130.0},
            {"kind": "loud", "t": 1150.0},
            {"kind": "loud", "t": 5140.0},
        ],
        "stats": [],
        "outputLatencyMs": 40.0,
    }
    turns = turns_from(noted)
    assert turns.stages["created"] == [12.0]  # the second turn has none: not the first turn's
    assert turns.stages["buffer"] == [40.0, 20.0]
    assert turns.stages["heard_loud"] == [150.0, 140.0]
    assert turns.stages["rendered_loud"] == [110.0, 100.0]  # less the output latency
    assert turns.stages["rendered_sound"] == [90.0]
    assert len(turns.log) == 2


def test_the_jitter_buffer_delay_is_averaged_over_the_window_after_the_onset() -> None:
    samples = [
        stats(0.0, 0, 0.0, 0.0),
        stats(100.0, 4800, 96.0, 48.0),  # the last sample before the onset
        stats(100.0 + JITTER_WINDOW_MS + 50, 4800 + 48_000, 96.0 + 1440.0, 48.0 + 960.0),
    ]
    delay, target = jitter_over(samples, 150.0)
    assert delay == 30.0  # jitterBufferDelay sums each sample's wait (s): 48,000 samples waiting 30 ms add 1,440 s
    assert target == 20.0


def test_no_window_no_jitter_figure() -> None:
    assert jitter_over([stats(0.0, 0, 0.0, 0.0)], 10.0) == (None, None)
