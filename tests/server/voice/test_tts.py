"""Speech synthesis: eSpeak NG through ctypes (skipped without the speech extra) and the tone fallback."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from realtime_widget.server.pcm import SAMPLE_RATE, Pcm16
from realtime_widget.server.voice.interfaces import Speech
from realtime_widget.server.voice.tts import (
    DEFAULT_VOICE,
    VOICE_STYLES,
    EspeakSynthesizer,
    ToneSynthesizer,
    split_sentences,
    trim_leading_silence,
    voice_style,
    words_per_minute,
)

SENTENCE = "The weather in Paris is sunny and warm today."


@pytest.fixture(scope="module")
def espeak() -> EspeakSynthesizer:
    pytest.importorskip("espeakng_loader", reason="eSpeak NG comes with the speech extra")
    return EspeakSynthesizer()


def rms_dbfs(samples: Pcm16) -> float:
    x = samples.astype(np.float64)
    return float(20 * np.log10(max(np.sqrt(np.mean(x * x)), 1.0) / 32768))


def test_speech_is_energetic_audio_of_plausible_length(espeak: EspeakSynthesizer) -> None:
    speech = espeak.synthesize(SENTENCE, "alloy")
    seconds = speech.samples.size / SAMPLE_RATE
    assert speech.samples.dtype == np.int16
    assert 1.5 < seconds < 5.0  # nine words at about 175 words a minute
    assert rms_dbfs(speech.samples) > -30.0


def test_word_starts_cover_every_word_in_order(espeak: EspeakSynthesizer) -> None:
    speech = espeak.synthesize("Hello there. It is 21 degrees — lovely!", "marin")
    words = [w for w, _ in speech.word_starts_ms]
    starts = [ms for _, ms in speech.word_starts_ms]
    assert " ".join(words) == "Hello there. It is 21 degrees — lovely!"
    assert starts[0] == 0
    assert starts == sorted(starts)
    assert starts[-1] < speech.samples.size * 1000 // SAMPLE_RATE
    assert len(set(starts)) >= len(starts) - 1  # only the lone dash shares its time


def test_each_realtime_voice_sounds_different(espeak: EspeakSynthesizer) -> None:
    renders = {voice: espeak.synthesize("Hello, how are you?", voice).samples for voice in VOICE_STYLES}
    styles = {VOICE_STYLES[v].espeak_name + str(VOICE_STYLES[v].pitch) for v in VOICE_STYLES}
    assert len(styles) == len(VOICE_STYLES)
    signatures = {(a.size, int(np.abs(a.astype(np.int64)).sum())) for a in renders.values()}
    assert len(signatures) == len(VOICE_STYLES)


def test_unknown_voice_uses_the_default(espeak: EspeakSynthesizer) -> None:
    assert voice_style("voice_custom_123") == VOICE_STYLES[DEFAULT_VOICE]
    assert voice_style("nobody") == VOICE_STYLES[DEFAULT_VOICE]
    # A sentence long enough that the silence trimmed from the start (which varies a little) does not count.
    assert espeak.synthesize(SENTENCE, "nobody").samples.size == pytest.approx(
        espeak.synthesize(SENTENCE, DEFAULT_VOICE).samples.size, rel=0.02
    )


def test_speed_maps_to_words_per_minute_and_changes_duration(espeak: EspeakSynthesizer) -> None:
    assert words_per_minute(1.0) == 175
    assert words_per_minute(1.5) == 262
    assert words_per_minute(0.25) == 80  # eSpeak's slowest
    slow, fast = (espeak.synthesize(SENTENCE, "ash", speed).samples.size for speed in (0.5, 1.5))
    assert slow > 1.8 * fast


def test_stream_yields_sentences_that_join_to_the_whole(espeak: EspeakSynthesizer) -> None:
    text = "First sentence here. Second one! And a third?"
    pieces = list(espeak.synthesize_stream(text, "coral"))
    whole = espeak.synthesize(text, "coral")
    assert len(pieces) == 3
    # eSpeak carries a little state from one utterance to the next, so audio is not bit-exact between calls.
    assert sum(p.samples.size for p in pieces) == pytest.approx(whole.samples.size, rel=0.02)
    assert [w for p in pieces for w, _ in p.word_starts_ms] == text.split()
    assert all(p.word_starts_ms[0][1] == 0 for p in pieces)


def test_empty_text_gives_no_audio(espeak: EspeakSynthesizer) -> None:
    speech = espeak.synthesize("   ", "alloy")
    assert speech.samples.size == 0
    assert speech.word_starts_ms == []


def test_concurrent_calls_from_threads_are_serialised_and_correct(espeak: EspeakSynthesizer) -> None:
    expected = espeak.synthesize(SENTENCE, "verse").samples
    results: list[Pcm16] = []

    def work() -> None:
        results.append(espeak.synthesize(SENTENCE, "verse").samples)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert all(r.size == pytest.approx(expected.size, rel=0.02) and rms_dbfs(r) > -30.0 for r in results)


def test_sentences_split_after_terminal_punctuation() -> None:
    assert split_sentences("Hi there. How are you? Fine!  ") == ["Hi there.", "How are you?", "Fine!"]
    assert split_sentences("") == []


def test_tone_fallback_has_speech_like_duration_and_word_times() -> None:
    speech = ToneSynthesizer().synthesize(SENTENCE, "alloy")
    seconds = speech.samples.size / SAMPLE_RATE
    assert 2.0 < seconds < 4.5
    assert rms_dbfs(speech.samples) > -25.0
    assert [w for w, _ in speech.word_starts_ms] == SENTENCE.split()
    starts = [ms for _, ms in speech.word_starts_ms]
    assert starts == sorted(set(starts))


def test_tone_fallback_differs_by_voice_and_speed() -> None:
    tone = ToneSynthesizer()
    assert not np.array_equal(
        tone.synthesize("Hi there.", "ash").samples, tone.synthesize("Hi there.", "coral").samples
    )
    assert tone.synthesize(SENTENCE, "ash", 0.5).samples.size > tone.synthesize(SENTENCE, "ash", 1.5).samples.size


def test_trimming_drops_only_the_silence_before_the_first_sound() -> None:
    sound = np.array([200, -300, 5, 0, 400], dtype=np.int16)
    speech = Speech(np.concatenate([np.zeros(480, np.int16), np.full(240, 20, np.int16), sound]),
                    [("Calling", 0), ("get_weather.", 50)])  # fmt: skip
    trimmed = trim_leading_silence(speech)
    # 30 ms of silence (zeros, then a hum under the threshold) go; the quiet samples inside the sound stay.
    assert trimmed.samples.tolist() == sound.tolist()
    assert trimmed.word_starts_ms == [("Calling", 0), ("get_weather.", 20)]


def test_trimming_leaves_speech_that_starts_at_once_and_silence_alone() -> None:
    speech = Speech(np.array([1000, 0, 0], dtype=np.int16), [("Hi.", 0)])
    assert trim_leading_silence(speech) is speech
    silent = trim_leading_silence(Speech(np.zeros(100, np.int16), []))
    assert silent.samples.size == 0


def test_a_reply_starts_at_its_first_sound_and_keeps_its_pauses(espeak: EspeakSynthesizer) -> None:
    # eSpeak starts "Calling" with the silent closure of its "k" (about 50 ms); the pause after the first sentence
    # stays, so the second still begins where its words say.
    pieces = list(espeak.synthesize_stream("Calling get_weather. Then we talk.", "alloy"))
    assert abs(int(pieces[0].samples[0])) >= 64
    assert np.abs(pieces[0].samples[-SAMPLE_RATE // 20 :].astype(np.int32)).max() < 64  # the end pause is kept
