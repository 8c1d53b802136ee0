"""What the engine needs from a voice model, and where it comes from (the offline model or the fallbacks)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from realtime_widget.server.fallbacks import PlainResponder, SilentRecognizer
from realtime_widget.server.model import Responder, SpeechRecognizer, SpeechSynthesizer, VadFactory
from realtime_widget.server.script import Script
from realtime_widget.server.tts import ToneSynthesizer
from realtime_widget.server.vad import energy_vad_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineDeps:
    """The voice model seen by the engine: VAD per session, recognition, speech, the responder and the script
    (all shared by every call; the responder keeps no per-call state outside what the engine passes in). Each
    engine answers from ``script`` first (its call's queue, then the shared one), then from ``responder``."""

    vad_factory: VadFactory
    recognizer: SpeechRecognizer
    synthesizer: SpeechSynthesizer
    responder: Responder
    script: Script = field(default_factory=Script)
    #: Releases what the model holds (the recognition worker process); called once when the server stops.
    close: Callable[[], None] = field(default=lambda: None)


def fallback_deps() -> EngineDeps:
    """Energy VAD, no recognition, a tone for speech, and the plain responder: needs no ``speech`` extra."""
    return EngineDeps(energy_vad_factory, SilentRecognizer(), ToneSynthesizer(), PlainResponder())


def load_deps() -> EngineDeps:
    """The offline voice model when its engines are installed, else ``fallback_deps()``."""
    try:
        # Imported by name: the module is optional and pulls in the speech engines.
        voice: Any = importlib.import_module("realtime_widget.server.voice")
    except ImportError as exc:
        log.info("offline voice model unavailable (%s); using a tone and the plain responder", exc)
        return fallback_deps()
    model = voice.load_voice_model()
    # The model's own responder already follows its script for one shared queue; the engine wraps the plain
    # responder per call instead, so per-call queues work too.
    return EngineDeps(
        model.vad_factory, model.recognizer, model.synthesizer, model.responder.fallback, model.script, model.close
    )
