"""The voice model used when the offline speech engines (the ``speech`` extra) are not installed.

Honest stand-ins: no recognition (every turn is heard as "") and a responder that acknowledges the user and
reports tool results. The tone that stands in for speech is ``tts.ToneSynthesizer`` (also what the voice model
falls back to without eSpeak NG). The protocol behaves exactly as with the real engines; only what is said differs.
"""

from __future__ import annotations

import json

from realtime_widget.server.pcm import Pcm16
from realtime_widget.server.voice.interfaces import Reply, ResponseContext
from realtime_widget.server.voice.responder import instructed_answer


class SilentRecognizer:
    """A ``SpeechRecognizer`` that hears no words."""

    def transcribe(self, samples: Pcm16) -> str:
        return ""


class PlainResponder:
    """A ``Responder`` that acknowledges what the user said and reports function results; never calls tools."""

    def respond(self, context: ResponseContext) -> Reply:
        if context.pending_function_outputs:
            outputs = [str(item.get("output", "")) for item in context.pending_function_outputs]
            return Reply(text="The tool returned " + "; ".join(_short(o) for o in outputs) + ".")
        fixed = instructed_answer(context.instructions)
        if fixed is not None:  # 'Always reply with "..."': how a caller fixes what is said (a progress message)
            return Reply(text=fixed)
        if context.images:
            return Reply(text=f"I see {' and '.join(context.images)}.")
        if context.last_user_text:
            return Reply(text=f"You said: {context.last_user_text}")
        if context.is_first_response:
            return Reply(text="Hello! How can I help?")
        return Reply(text="I'm listening.")


def _short(output: str) -> str:
    try:
        value = json.loads(output)
    except ValueError:
        value = output
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."
