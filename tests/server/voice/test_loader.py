"""Assembling the offline voice model, with and without the speech engines."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_widget.server.voice.asr_scheduler import FairRecognizer
from realtime_widget.server.voice.fallbacks import SilentRecognizer
from realtime_widget.server.voice.interfaces import (
    ResponseContext,
    StreamingSpeechRecognizer,
    StreamingSpeechSynthesizer,
)
from realtime_widget.server.voice.loader import load_voice_model
from realtime_widget.server.voice.tts import ToneSynthesizer
from realtime_widget.server.voice.vad import EnergyVad


def test_without_speech_the_model_uses_a_tone_and_hears_nothing() -> None:
    model = load_voice_model(speech=False)
    assert isinstance(model.synthesizer, ToneSynthesizer)
    assert isinstance(model.recognizer, SilentRecognizer)
    assert model.recognizer.transcribe(np.ones(24_000, dtype=np.int16) * 5000) == ""
    assert model.describe() == (
        "voice model: energy VAD, no recognition (speech disabled), a tone for speech (speech disabled), "
        "rule responder with script"
    )
    assert isinstance(model.vad_factory(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500), EnergyVad)


def test_with_speech_everything_is_real(request: pytest.FixtureRequest) -> None:
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("espeakng_loader")
    model = load_voice_model(speech=True)
    request.addfinalizer(model.close)
    assert model.fallbacks == {}
    assert model.describe() == (
        "voice model: energy VAD, PocketSphinx recognition, eSpeak NG speech, rule responder with script"
    )
    assert isinstance(model.recognizer, StreamingSpeechRecognizer)
    assert isinstance(model.synthesizer, StreamingSpeechSynthesizer)
    assert isinstance(
        model.recognizer, FairRecognizer
    )  # decoding holds the GIL: it runs in a child process, shared fairly


def test_the_responder_follows_the_models_script_first() -> None:
    model = load_voice_model(speech=False)
    model.script.push({"say": "Scripted."})
    context = ResponseContext("", [], "auto", [], "hello", [], False)
    assert model.responder_for(None).respond(context).text == "Scripted."
    assert model.responder_for(None).respond(context).text == "Hello! How can I help you today?"


def test_missing_engines_fall_back_part_by_part(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_speech(name: str, *args: object, **kwargs: object) -> object:
        if name in {"pocketsphinx", "espeakng_loader"}:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_speech)
    monkeypatch.setattr("realtime_widget.server.voice.loader.pocketsphinx_installed", lambda: False)
    monkeypatch.setattr("realtime_widget.server.voice.tts._ENGINE", None)
    model = load_voice_model()
    assert set(model.fallbacks) == {"recognizer", "synthesizer"}
    assert "pip install 'realtime-widget[speech]'" in model.describe()
    assert model.synthesizer.synthesize("Hello there.", "alloy").samples.size > 0
    with pytest.raises(RuntimeError, match="unavailable"):
        load_voice_model(speech=True)
