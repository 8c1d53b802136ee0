"""``record.audio``: both sides of a session's recorded audio, whole or cut to a turn or a span of time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from realtime_widget.record.audio_track import AudioSide, AudioTrack

__all__ = ["SessionAudio", "TurnSpans", "turn_spans"]

#: Each turn's (start, end) on the record's clock; ``end`` is ``NaT`` for the last turn (it runs to the end).
TurnSpans = Callable[[], list[tuple[pd.Timestamp, pd.Timestamp]]]


class SessionAudio:
    """The recorded audio of a session: :attr:`user` (the microphone as sent) and :attr:`assistant` (the reply as
    played), each an :class:`AudioTrack` or ``None`` when that side was not recorded.

    ``audio["user"]`` is ``audio.user``; ``bool(audio)`` is whether anything was recorded; :meth:`clip` cuts both
    sides to one turn or a span of time; :attr:`files` are the saved audio files (empty until the record is saved,
    or loaded from a folder). A loaded session decodes each file on first use.
    """

    def __init__(
        self,
        sources: Mapping[AudioSide, Callable[[], AudioTrack | None]],
        *,
        files: tuple[Path, ...] = (),
        turns: TurnSpans | None = None,
    ) -> None:
        self._sources = dict(sources)
        self._tracks: dict[AudioSide, AudioTrack | None] = {}
        self.files: tuple[Path, ...] = files
        self._turns = turns

    @classmethod
    def of(cls, tracks: Mapping[AudioSide, AudioTrack | None], *, files: tuple[Path, ...] = ()) -> SessionAudio:
        """Audio from tracks already in hand."""
        return cls({side: _constant(track) for side, track in tracks.items()}, files=files)

    def with_turns(self, turns: TurnSpans, *, files: tuple[Path, ...] | None = None) -> SessionAudio:
        """The same audio (sharing what was decoded already) with turns for :meth:`clip` ``turn=``."""
        other = SessionAudio(self._sources, files=self.files if files is None else files, turns=turns)
        other._tracks = self._tracks
        return other

    def _track(self, side: AudioSide) -> AudioTrack | None:
        if side not in self._tracks:
            source = self._sources.get(side)
            self._tracks[side] = None if source is None else source()
        return self._tracks[side]

    @property
    def user(self) -> AudioTrack | None:
        """The microphone as sent to the model, or ``None``."""
        return self._track("user")

    @property
    def assistant(self) -> AudioTrack | None:
        """The model's audio as played, or ``None``."""
        return self._track("assistant")

    def __getitem__(self, side: AudioSide) -> AudioTrack | None:
        if side not in ("user", "assistant"):
            raise KeyError(f"record.audio has 'user' and 'assistant'; got {side!r}")
        return self._track(side)

    def __bool__(self) -> bool:
        return self.user is not None or self.assistant is not None

    def clip(
        self,
        turn: int | None = None,
        *,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
    ) -> SessionAudio:
        """Both sides cut to turn ``turn`` (a row of ``record.turns``: from the user starting to speak to the next
        turn's start, or the end) or to ``[start, end)`` (timestamps on the record's clock; naive ones are UTC; a
        missing bound is open). A side with no audio in the span is ``None``."""
        if turn is not None:
            if start is not None or end is not None:
                raise TypeError("clip() takes a turn or start/end, not both")
            spans = self._turns() if self._turns is not None else []
            if not 0 <= turn < len(spans):
                raise IndexError(f"no turn {turn}: the record has {len(spans)} turn(s)")
            start, end = spans[turn]
        lo, hi = _utc(start), _utc(end)
        return SessionAudio.of({side: _cut(self._track(side), lo, hi) for side in ("user", "assistant")})

    def __repr__(self) -> str:
        sides = [repr(track) for track in (self.user, self.assistant) if track is not None]
        return f"SessionAudio({', '.join(sides) or 'nothing recorded'})"


def _constant(track: AudioTrack | None) -> Callable[[], AudioTrack | None]:
    return lambda: track


def _utc(value: pd.Timestamp | str | None) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _cut(track: AudioTrack | None, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> AudioTrack | None:
    if track is None:
        return None
    rate = track.sample_rate
    size = len(track.samples)
    first = 0 if lo is None else min(size, max(0, _index(track, lo)))
    last = size if hi is None else min(size, max(0, _index(track, hi)))
    if last <= first:
        return None
    start = track.start + pd.Timedelta(seconds=first / rate)
    return AudioTrack(track.side, np.asarray(track.samples[first:last]), rate, start)


def _index(track: AudioTrack, at: pd.Timestamp) -> int:
    """The first sample that sounded at or after ``at``."""
    return int(np.ceil((at - track.start).total_seconds() * track.sample_rate))


def turn_spans(turns: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Each turn's span: from ``speech_started`` (a typed turn: ``response_created``) to the next turn's start."""
    starts = turns["speech_started"].fillna(turns["response_created"]).tolist()
    ends = [*starts[1:], pd.NaT]
    return list(zip(starts, ends, strict=True))
