"""The voice model as the session engine sees it: one bundle of VAD, recognition, speech, responder and script."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from realtime_widget.server.voice.interfaces import Responder, SpeechRecognizer, SpeechSynthesizer, VadFactory
from realtime_widget.server.voice.script import Script, ScriptedResponder


@runtime_checkable
class _Closable(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class VoiceModel:
    """What every session engine plugs in, shared by all calls of a server: a VAD per session, recognition,
    speech, the responder (which keeps no per-call state outside what the engine passes in) and the script.
    ``fallbacks`` names the parts that are stand-ins, with why; it is empty when everything is real."""

    vad_factory: VadFactory
    recognizer: SpeechRecognizer
    synthesizer: SpeechSynthesizer
    responder: Responder
    script: Script = field(default_factory=Script)
    fallbacks: dict[str, str] = field(default_factory=dict)

    def responder_for(self, call_id: str | None) -> ScriptedResponder:
        """The responder one call uses: its script queue (then the shared one) first, then ``responder``."""
        return ScriptedResponder(self.script, self.responder, call_id=call_id)

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
        """Release what the model holds (the recognition worker process); called once when the server stops."""
        if isinstance(self.recognizer, _Closable):
            self.recognizer.close()
