"""The local server's offline voice model, assembled from its parts, using the real speech engines when the
``speech`` extra is installed and honest stand-ins when it is not."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field

from realtime_widget.server.asr import PocketsphinxRecognizer, RecognizerUnavailableError
from realtime_widget.server.asr_worker import WorkerRecognizer
from realtime_widget.server.fallbacks import SilentRecognizer
from realtime_widget.server.model import SpeechRecognizer, SpeechSynthesizer, VadFactory
from realtime_widget.server.responder import RuleResponder
from realtime_widget.server.script import Script, ScriptedResponder
from realtime_widget.server.tts import EspeakSynthesizer, EspeakUnavailableError, ToneSynthesizer
from realtime_widget.server.vad import energy_vad_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceModel:
    """The parts the session engine plugs in. ``responder`` follows ``script`` first; ``fallbacks`` names the
    parts that are stand-ins (with why), empty when everything is real."""

    vad_factory: VadFactory
    recognizer: SpeechRecognizer
    synthesizer: SpeechSynthesizer
    responder: ScriptedResponder
    script: Script
    fallbacks: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the server's startup log: what is real and what is a fallback."""
        recognition = (
            f"no recognition ({self.fallbacks['recognizer']})"
            if "recognizer" in self.fallbacks
            else "PocketSphinx recognition"
        )
        speech = (
            f"a tone for speech ({self.fallbacks['synthesizer']})"
            if "synthesizer" in self.fallbacks
            else "eSpeak NG speech"
        )
        return f"voice model: energy VAD, {recognition}, {speech}, rule responder with script"

    def close(self) -> None:
        """Stop the recognition worker process, if there is one."""
        if isinstance(self.recognizer, WorkerRecognizer):
            self.recognizer.close()


def pocketsphinx_installed() -> bool:
    """Whether PocketSphinx can be imported (checked without importing it in this process)."""
    return importlib.util.find_spec("pocketsphinx") is not None


def _recognizer(fallbacks: dict[str, str], *, in_process: bool) -> SpeechRecognizer:
    if not pocketsphinx_installed():
        fallbacks["recognizer"] = "pocketsphinx is not installed (pip install 'realtime-widget[speech]')"
        return SilentRecognizer()
    try:
        return PocketsphinxRecognizer() if in_process else WorkerRecognizer()
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
    script = Script()
    model = VoiceModel(
        vad_factory=energy_vad_factory,
        recognizer=recognizer,
        synthesizer=synthesizer,
        responder=ScriptedResponder(script, RuleResponder()),
        script=script,
        fallbacks=fallbacks,
    )
    log.info("%s", model.describe())
    return model
