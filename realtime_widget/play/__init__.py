"""``widget.play(case)``: a scripted case spoken into the live widget session, for demos an audience can watch.

The kernel drives the case (:mod:`.driver`): it synthesizes each spoken turn with the evals' text-to-speech and
sends the PCM to the browser as binary buffers (:mod:`.messages`), which mixes it into the microphone track
(``js/src/audio/micMixer.ts``); it follows the live record to know when each reply was given and heard
(:mod:`.reply_watch`), and at the end checks the case's expectations as the evals do.
"""

from realtime_widget.play.driver import CasePlay, PlayError

__all__ = ["CasePlay", "PlayError"]
