"""TurnTranscriber: streamed recognition when the recognizer can, whole-turn decoding otherwise."""

from __future__ import annotations

import numpy as np

from realtime_widget.server.model import Pcm16
from realtime_widget.server.turn_transcriber import TurnTranscriber


class FakeStream:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.samples = 0

    def feed(self, samples: Pcm16) -> None:
        self.samples += samples.size

    def finish(self) -> str:
        self.log.append("finish")
        return f"streamed {self.samples}"

    def cancel(self) -> None:
        self.log.append("cancel")


class FakeStreamingRecognizer:
    def __init__(self) -> None:
        self.log: list[str] = []

    def transcribe(self, samples: Pcm16) -> str:
        self.log.append("transcribe")
        return f"whole {samples.size}"

    def start_stream(self) -> FakeStream:
        self.log.append("start")
        return FakeStream(self.log)


class FakePlainRecognizer:
    def transcribe(self, samples: Pcm16) -> str:
        return f"whole {samples.size}"


def pcm(n: int) -> Pcm16:
    return np.ones(n, dtype=np.int16)


async def test_a_begun_turn_is_streamed_and_finished_at_commit() -> None:
    recognizer = FakeStreamingRecognizer()
    turns = TurnTranscriber(recognizer)
    turns.begin(pcm(100))
    turns.feed(pcm(20))
    turns.feed(pcm(30))
    assert turns.streaming
    assert await turns.transcript(pcm(999)) == "streamed 150"
    assert recognizer.log == ["start", "finish"]
    assert not turns.streaming


async def test_a_commit_without_a_begun_turn_decodes_the_committed_audio() -> None:
    recognizer = FakeStreamingRecognizer()
    turns = TurnTranscriber(recognizer)
    turns.feed(pcm(10))  # between turns: ignored
    assert await turns.transcript(pcm(480)) == "whole 480"
    assert await turns.transcript(pcm(0)) == ""
    assert recognizer.log == ["transcribe"]


async def test_a_plain_recognizer_always_decodes_whole_turns() -> None:
    turns = TurnTranscriber(FakePlainRecognizer())
    turns.begin(pcm(100))
    turns.feed(pcm(100))
    assert not turns.streaming
    assert await turns.transcript(pcm(300)) == "whole 300"


async def test_cancel_and_a_new_turn_drop_the_old_stream() -> None:
    recognizer = FakeStreamingRecognizer()
    turns = TurnTranscriber(recognizer)
    turns.begin(pcm(10))
    turns.begin(pcm(20))  # a second speech_started before any commit
    turns.cancel()
    turns.cancel()
    assert recognizer.log == ["start", "cancel", "start", "cancel"]
    assert await turns.transcript(pcm(5)) == "whole 5"


async def test_the_turn_is_detached_at_commit_before_the_result_is_awaited() -> None:
    recognizer = FakeStreamingRecognizer()
    turns = TurnTranscriber(recognizer)
    turns.begin(pcm(100))
    pending = turns.transcript(pcm(100))
    turns.begin(pcm(7))  # the next turn starts before the engine awaits the first one's words
    assert await pending == "streamed 100"
    assert await turns.transcript(pcm(0)) == "streamed 7"
    assert recognizer.log == ["start", "start", "finish", "finish"]
