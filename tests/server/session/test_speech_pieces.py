"""A reply spoken a sentence at a time: pieces placed on the reply's clock, synthesized one ahead, and the
transcript and output-buffer bookkeeping that follow them (pure logic; a scripted synthesizer)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.session.conversation import Conversation
from realtime_widget.server.session.playback import Playback
from realtime_widget.server.session.responses import _TimedWords
from realtime_widget.server.session.speech_pieces import SpeechPieces
from realtime_widget.server.voice.interfaces import Speech


def seconds(s: float) -> np.ndarray:  # type: ignore[type-arg]
    return np.full(int(s * SAMPLE_RATE), 1000, dtype=np.int16)


class SentenceSynthesizer:
    """Each sentence is half a second per word; notes which sentences were synthesized, and in which thread."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.threads: set[str] = set()

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> Speech:
        raise AssertionError("a streaming synthesizer is asked for pieces")

    def synthesize_stream(self, text: str, voice: str, speed: float = 1.0) -> Iterator[Speech]:
        for sentence in text.split(". "):
            self.made.append(sentence)
            self.threads.add(threading.current_thread().name)
            words = sentence.split()
            yield Speech(seconds(0.5 * len(words)), [(w, 500 * i) for i, w in enumerate(words)])


class WholeSynthesizer:
    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> Speech:
        return Speech(seconds(1.0), [(w, 100 * i) for i, w in enumerate(text.split())])


async def test_pieces_come_in_order_on_the_reply_clock_and_one_is_made_ahead() -> None:
    synthesizer = SentenceSynthesizer()
    pieces = SpeechPieces(synthesizer, "One two. Three. Four five six", "alloy", 1.0)
    first = await pieces.next()
    assert first is not None
    assert first.word_starts_ms == [("One", 0), ("two", 500)]
    second = await pieces.next()
    assert second is not None
    assert second.word_starts_ms == [("Three", 1000)]  # after the first piece's second of audio
    third = await pieces.next()
    assert third is not None
    assert third.word_starts_ms == [("Four", 1500), ("five", 2000), ("six", 2500)]
    assert await pieces.next() is None
    assert synthesizer.threads
    assert all(name.startswith("speech") for name in synthesizer.threads)


async def test_closing_stops_synthesis_after_the_piece_in_hand() -> None:
    synthesizer = SentenceSynthesizer()
    pieces = SpeechPieces(synthesizer, "A. B. C. D. E", "alloy", 1.0)
    await pieces.next()
    pieces.close()
    assert len(synthesizer.made) <= 2  # the first, and at most the one begun ahead of it


async def test_a_synthesizer_without_a_stream_gives_one_piece() -> None:
    pieces = SpeechPieces(WholeSynthesizer(), "hello there", "alloy", 1.0)
    whole = await pieces.next()
    assert whole is not None
    assert whole.samples.size == SAMPLE_RATE
    assert await pieces.next() is None


def test_timed_words_give_each_piece_once_its_word_has_begun() -> None:
    words = _TimedWords("Hello there. How are you?")
    assert words.due(1000) == []  # no timings yet
    words.add_starts([("Hello", 0), ("there.", 400)])
    assert words.due(0) == ["Hello"]
    assert words.due(399) == []
    assert words.due(2000) == [" there."]  # the next sentence's timings are not known yet
    words.add_starts([("How", 900), ("are", 1100), ("you?", 1300)])
    assert words.due(1100) == [" How", " are"]
    assert words.rest() == [" you?"]
    assert "".join(words.given) == "Hello there. How are you?"


def test_words_without_timings_come_at_the_end() -> None:
    words = _TimedWords("one  two")  # a double space: three pieces, two timed words
    words.add_starts([("one", 0), ("two", 300)])
    assert words.due(10_000) == ["one", " "]
    assert words.rest() == [" two"]


def test_playback_follows_a_reply_synthesized_in_pieces() -> None:
    conversation = Conversation()
    item = {"id": "item_1", "type": "message", "role": "assistant", "content": [{"type": "output_audio"}]}
    conversation.insert(item)
    playback = Playback(conversation, lambda event: None, None)
    playback.began("resp_1", "item_1", Speech(seconds(1.0), [("Hello", 0), ("there.", 500)]))
    playback.continued("item_1", Speech(seconds(0.5), [("Bye.", 1000)]))
    assert playback.audio_ms("item_1") == 1500
    playback.truncate("item_1", 1200)
    assert item["content"][0]["transcript"] == "Hello there. Bye."
    # A piece synthesized after the cut does not lengthen what was heard.
    playback.continued("item_1", Speech(seconds(0.5), [("Later.", 1500)]))
    assert playback.audio_ms("item_1") == 1200
