"""Loading the offline voice model: the real speech engines when the ``speech`` extra is installed, honest
stand-ins part by part when it is not."""

from __future__ import annotations

import importlib.util
import logging

from realtime_widget.server.voice.asr import PocketsphinxRecognizer, RecognizerUnavailableError
from realtime_widget.server.voice.asr_scheduler import FairRecognizer
from realtime_widget.server.voice.fallbacks import PlainResponder, SilentRecognizer
from realtime_widget.server.voice.interfaces import SpeechRecognizer, SpeechSynthesizer
from realtime_widget.server.voice.model import VoiceModel
from realtime_widget.server.voice.responder import RuleResponder
from realtime_widget.server.voice.tts import EspeakSynthesizer, EspeakUnavailableError, ToneSynthesizer
from realtime_widget.server.voice.vad import energy_vad_factory

log = logging.getLogger(__name__)


def fallback_voice_model() -> VoiceModel:
    """Energy VAD, no recognition, a tone for speech and the plain responder: needs no ``speech`` extra and loads
    instantly (the default of an engine built without a model, and of tests about the protocol alone)."""
    return VoiceModel(energy_vad_factory, SilentRecognizer(), ToneSynthesizer(), PlainResponder())


def pocketsphinx_installed() -> bool:
    """Whether PocketSphinx can be imported (checked without importing it in this process)."""
    return importlib.util.find_spec("pocketsphinx") is not None


def _recognizer(fallbacks: dict[str, str], *, in_process: bool) -> SpeechRecognizer:
    if not pocketsphinx_installed():
        fallbacks["recognizer"] = "pocketsphinx is not installed (pip install 'realtime-widget[speech]')"
        return SilentRecognizer()
    try:
        return PocketsphinxRecognizer() if in_process else FairRecognizer()
    except RecognizerUnavailableError as exc:
        fallbacks["recognizer"] = str(exc)
        return SilentRecognizer()


def _synthesizer(fallbacks: dict[str, str]) -> SpeechSynthesizer:
    try:
        return EspeakSynthesizer()
    except EspeakUnavailableError as exc:
        fallbacks["synthesizer"] = str(exc)
        return ToneSynthesizer()


def load_voice_model(*, speech: bool | None = None, recognition_in_process: bool = False) -> VoiceModel:
    """Load the offline voice model.

    ``speech=None`` uses PocketSphinx and eSpeak NG when importable and falls back part by part otherwise;
    ``True`` raises if either is missing; ``False`` skips them (tone, no recognition: fast and dependency-free).
    Recognition runs in a child process (``asr_worker``) unless ``recognition_in_process``: PocketSphinx holds
    the GIL while decoding, which would stall the server's event loop. Loading takes about a second; call this
    once per server, share the result, and ``close()`` it when the server stops.
    """
    fallbacks: dict[str, str] = {}
    if speech is False:
        fallbacks = {"recognizer": "speech disabled", "synthesizer": "speech disabled"}
        recognizer: SpeechRecognizer = SilentRecognizer()
        synthesizer: SpeechSynthesizer = ToneSynthesizer()
    else:
        recognizer = _recognizer(fallbacks, in_process=recognition_in_process)
        synthesizer = _synthesizer(fallbacks)
        if speech and fallbacks:
            raise RuntimeError("offline speech requested but unavailable: " + "; ".join(fallbacks.values()))
    model = VoiceModel(energy_vad_factory, recognizer, synthesizer, RuleResponder(), fallbacks=fallbacks)
    log.info("%s", model.describe())
    return model
