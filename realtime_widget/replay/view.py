"""``ReplayView``: a recorded session drawn on one time axis — both sides' waveforms, the transcript, turns, tool
calls, interruptions and errors — that plays from wherever it is clicked.

It needs no connection: it reads a :class:`~realtime_widget.SessionRecord` (live, or loaded in a fresh kernel) and
its recorded audio. The audio stays in the kernel. The browser asks for what it shows, with commands answered in
binary buffers (never traits, never JSON arrays of samples): ``peaks`` for the window on screen, at one min/max pair
per pixel column (:mod:`.peaks`), and ``audio`` for the seconds about to play.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import traitlets
from anywidget.experimental import command

from realtime_widget.record.audio_track import AudioSide, AudioTrack
from realtime_widget.replay.marks import Timespan, replay_marks, timespan
from realtime_widget.replay.peaks import PeakIndex

if TYPE_CHECKING:
    from realtime_widget.record import SessionRecord

__all__ = ["MAX_AUDIO_S", "MAX_COLUMNS", "ReplayView"]

_STATIC = Path(__file__).resolve().parent.parent / "static"
_MISSING_BUNDLE = """export default { render({ el }) {
  el.textContent = "realtime-widget: the replay bundle is missing. Run scripts/setup (or npm run build in js/).";
} };"""

SIDES: tuple[AudioSide, ...] = ("user", "assistant")
MAX_COLUMNS = 8192
"""Most peak columns one request may ask for (a 4K screen at 2x is 7680 device pixels)."""
MAX_AUDIO_S = 30.0
"""Longest stretch of audio one ``audio`` request returns; playback asks for the next stretch as it goes."""


class ReplayView(anywidget.AnyWidget):
    """Replays a recorded session: both waveforms on one time axis with the transcript, turns (and their latency),
    tool calls, interruptions and errors marked; click anywhere to play from there, space to pause.

    Usually made with :meth:`SessionRecord.replay`. Works on a loaded session in a fresh kernel.

    Args:
        record: the session.
        audio: each side's recorded audio, ``{"user": AudioTrack, "assistant": AudioTrack}`` (either may be missing
            or ``None``); by default ``record.audio.user`` and ``record.audio.assistant`` when the record has audio.
        title: shown above the waveforms; defaults to the session id.
    """

    _esm = _STATIC / "replay.js" if (_STATIC / "replay.js").exists() else _MISSING_BUNDLE
    _css = _STATIC / "replay.css" if (_STATIC / "replay.css").exists() else ""

    title = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self, record: SessionRecord, audio: Mapping[str, AudioTrack | None] | None = None, *, title: str | None = None
    ) -> None:
        tracks = _tracks(record, audio)
        super().__init__(title=title if title is not None else f"Session {record.session_id}")
        self._record = record
        self._tracks = tracks
        self._indexes = {side: PeakIndex(track.samples) for side, track in tracks.items()}
        self._span: Timespan = timespan(record, tracks.values())

    @property
    def tracks(self) -> dict[AudioSide, AudioTrack]:
        """The audio shown, by side (a side without audio is absent)."""
        return dict(self._tracks)

    def __repr__(self) -> str:
        sides = ", ".join(f"{side} {track.duration_s:.1f} s" for side, track in self._tracks.items()) or "no audio"
        return f"<ReplayView {self.title!r}: {self._span.duration_s:.1f} s, {sides}>"

    # ---- commands from the browser ------------------------------------------------------------------------------

    @command
    def overview(self, _msg: Any, _buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """The axis, which sides have audio, and every mark (docs/wire.md, "The replay view")."""
        span = self._span
        sides = [
            {
                "side": side,
                "sample_rate": track.sample_rate,
                "start": span.seconds(track.start) or 0.0,
                "duration": track.duration_s,
            }
            for side, track in self._tracks.items()
        ]
        reply = {
            "origin_ms": span.origin.timestamp() * 1000.0,
            "duration": span.duration_s,
            "sides": sides,
            "marks": replay_marks(self._record, span),
        }
        return reply, []

    @command
    def peaks(self, msg: Any, _buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """Peaks of ``[start, end)`` seconds at ``columns`` columns: one buffer per side with audio, in ``sides``
        order, ``columns`` int16 (min, max) pairs each."""
        start, end, columns = _float(msg, "start"), _float(msg, "end"), int(_float(msg, "columns"))
        columns = max(0, min(columns, MAX_COLUMNS))
        seconds_per_column = (end - start) / columns if columns and end > start else 0.0
        sides: list[str] = []
        buffers: list[bytes] = []
        for side, track in self._tracks.items():
            offset = self._span.seconds(track.start) or 0.0
            first = (start - offset) * track.sample_rate
            pairs = self._indexes[side].peaks(first, seconds_per_column * track.sample_rate, columns)
            sides.append(side)
            buffers.append(pairs.astype("<i2", copy=False).tobytes())
        return {"request": msg.get("request"), "columns": columns, "sides": sides}, buffers

    @command
    def audio(self, msg: Any, _buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """Each side's samples from ``start`` for ``duration`` seconds (at most :data:`MAX_AUDIO_S`), as int16 PCM
        buffers; ``clips`` says where each begins (seconds) and its sample rate."""
        start = max(0.0, _float(msg, "start"))
        duration = min(max(0.0, _float(msg, "duration")), MAX_AUDIO_S)
        clips: list[dict[str, Any]] = []
        buffers: list[bytes] = []
        for side, track in self._tracks.items():
            offset = self._span.seconds(track.start) or 0.0
            rate = track.sample_rate
            first = max(0, int(np.floor((start - offset) * rate)))
            last = min(len(track.samples), int(np.ceil((start + duration - offset) * rate)))
            if last <= first:
                continue
            clips.append({"side": side, "start": offset + first / rate, "sample_rate": rate})
            buffers.append(track.samples[first:last].astype("<i2", copy=False).tobytes())
        return {"request": msg.get("request"), "start": start, "duration": duration, "clips": clips}, buffers


def _float(msg: Any, key: str) -> float:
    value = msg.get(key) if isinstance(msg, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"replay request: {key!r} must be a finite number; got {value!r}")
    return float(value)


def _tracks(record: SessionRecord, audio: Mapping[str, AudioTrack | None] | None) -> dict[AudioSide, AudioTrack]:
    """The given tracks, or the record's own; checked, so a wrong argument fails here and not in the browser."""
    if audio is None:
        recorded = getattr(record, "audio", None)
        audio = {side: getattr(recorded, side, None) for side in SIDES} if recorded is not None else {}
    unknown = set(audio) - set(SIDES)
    if unknown:
        raise ValueError(f"audio sides must be 'user' or 'assistant'; got {sorted(unknown)}")
    tracks: dict[AudioSide, AudioTrack] = {}
    for side in SIDES:
        track = audio.get(side)
        if track is None:
            continue
        if not isinstance(track, AudioTrack):
            raise TypeError(f"audio[{side!r}] must be an AudioTrack; got {type(track).__name__}")
        if track.sample_rate <= 0:
            raise ValueError(f"audio[{side!r}] has sample rate {track.sample_rate}; it must be positive")
        tracks[side] = track
    return tracks
