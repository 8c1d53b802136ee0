"""The energy VAD on synthetic signals: tones stand in for speech, low noise for a quiet room."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.interfaces import VadEvent
from realtime_widget.server.voice.vad import (
    EnergyVad,
    energy_vad_factory,
    frame_levels_dbfs,
    semantic_vad_silence_ms,
    threshold_to_dbfs,
)

RNG = np.random.default_rng(7)


def tone(ms: int, dbfs: float = -20.0, hz: float = 220.0) -> Pcm16:
    t = np.arange(SAMPLE_RATE * ms // 1000) / SAMPLE_RATE
    amplitude = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)  # sine RMS is peak / sqrt(2)
    samples: Pcm16 = (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return samples


def noise(ms: int, dbfs: float = -60.0) -> Pcm16:
    n = SAMPLE_RATE * ms // 1000
    samples: Pcm16 = (RNG.standard_normal(n) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)
    return samples


def run(vad: EnergyVad, *parts: Pcm16, chunk: int = 480) -> list[VadEvent]:
    audio = np.concatenate(parts)
    events: list[VadEvent] = []
    for i in range(0, audio.size, chunk):
        events += vad.feed(audio[i : i + chunk])
    return events


def make(threshold: float = 0.5, prefix: int = 300, silence: int = 500) -> EnergyVad:
    return energy_vad_factory(threshold=threshold, prefix_padding_ms=prefix, silence_duration_ms=silence)


def test_threshold_maps_linearly_onto_dbfs() -> None:
    assert threshold_to_dbfs(0.0) == -70.0
    assert threshold_to_dbfs(0.5) == -40.0
    assert threshold_to_dbfs(1.0) == -10.0
    assert threshold_to_dbfs(7.0) == -10.0


def test_frame_levels_measure_rms() -> None:
    levels = frame_levels_dbfs(tone(100, dbfs=-20.0, hz=400.0))  # whole periods per frame
    assert levels.shape == (10,)
    assert np.allclose(levels, -20.0, atol=0.2)
    assert frame_levels_dbfs(np.zeros(480, np.int16))[0] == pytest.approx(-120.0)


def test_one_utterance_gives_start_with_padding_and_stop_at_speech_end() -> None:
    events = run(make(), noise(1000), tone(800), noise(700))
    assert events == [VadEvent("speech_started", 1000 - 300), VadEvent("speech_stopped", 1800)]


def test_padding_never_goes_before_the_first_sample() -> None:
    events = run(make(prefix=300), noise(100), tone(500), noise(600))
    assert events[0] == VadEvent("speech_started", 0)


def test_stop_waits_for_the_configured_silence() -> None:
    vad = make(silence=500)
    assert [e.kind for e in run(vad, tone(500), noise(490))] == ["speech_started"]
    assert vad.in_speech
    assert run(vad, noise(20)) == [VadEvent("speech_stopped", 500)]
    assert not vad.in_speech


def test_pauses_shorter_than_the_silence_wait_stay_in_one_turn() -> None:
    events = run(make(silence=500), tone(400), noise(300), tone(400), noise(600))
    assert events == [VadEvent("speech_started", 0), VadEvent("speech_stopped", 1100)]


def test_two_turns_count_time_from_the_first_sample_fed() -> None:
    events = run(make(prefix=0, silence=200), noise(500), tone(300), noise(500), tone(300), noise(300))
    assert events == [
        VadEvent("speech_started", 500),
        VadEvent("speech_stopped", 800),
        VadEvent("speech_started", 1300),
        VadEvent("speech_stopped", 1600),
    ]


def test_short_noise_bursts_do_not_start_a_turn() -> None:
    bursts = [part for _ in range(10) for part in (noise(300), tone(50, dbfs=-10.0))]
    assert run(make(), *bursts, noise(300)) == []


def test_quiet_room_noise_is_silence_at_default_threshold() -> None:
    assert run(make(), noise(3000, dbfs=-50.0)) == []


def test_higher_threshold_needs_louder_audio() -> None:
    quiet_speech = (noise(300), tone(600, dbfs=-35.0), noise(600))
    assert [e.kind for e in run(make(threshold=0.5), *quiet_speech)] == ["speech_started", "speech_stopped"]
    assert run(make(threshold=0.8), *quiet_speech) == []


def test_soft_word_endings_within_the_hangover_keep_the_turn() -> None:
    # -44 dBFS is below the start level (-40) but within the 6 dB hangover: still speech once started.
    events = run(make(silence=300), tone(300, dbfs=-20.0), tone(600, dbfs=-44.0), noise(400))
    assert events == [VadEvent("speech_started", 0), VadEvent("speech_stopped", 900)]


def test_chunk_size_does_not_change_the_result() -> None:
    parts = (noise(700), tone(650), noise(240), tone(300), noise(800))
    expected = run(make(), *parts, chunk=480)
    for chunk in (1, 7, 241, 1000, 24_000):
        assert run(make(), *parts, chunk=chunk) == expected


def test_reset_forgets_the_turn_but_keeps_the_clock() -> None:
    vad = make(prefix=0, silence=200)
    assert run(vad, tone(300)) == [VadEvent("speech_started", 0)]
    vad.reset()
    assert not vad.in_speech
    assert run(vad, noise(300), tone(200), noise(300)) == [
        VadEvent("speech_started", 600),
        VadEvent("speech_stopped", 800),
    ]


@pytest.mark.parametrize(("eagerness", "ms"), [("low", 1500), ("medium", 800), ("auto", 800), ("high", 400)])
def test_semantic_vad_eagerness_maps_to_a_silence_wait(eagerness: str, ms: int) -> None:
    assert semantic_vad_silence_ms(eagerness) == ms


def test_unknown_eagerness_acts_as_auto() -> None:
    assert semantic_vad_silence_ms("whatever") == semantic_vad_silence_ms("auto")
