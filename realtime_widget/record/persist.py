"""Saving sessions to folders, loading them back, and loading many at once.

A saved session is a folder::

    meta.json            session id, creation time, clock offset, prices, format version
    events.jsonl         every event item in wire form (``{"k": "event", "t", "dir", "event"|"raw"}``), one a line
    events.parquet       the views, each with a leading ``session_id`` column
    transcript.parquet
    turns.parquet
    stats.parquet
    timeline.parquet
    usage.parquet
    tool_calls.parquet
    voice_latency.parquet
    audio_user.flac      recorded audio, when there is some (``record_audio=True``): one FLAC file per side,
    audio_assistant.flac and audio.json placing each on the record's clock (see audio_files.py); a save encodes
    audio.json           only the audio recorded since the previous save (see flac_cache.py)

Loading rebuilds the record from ``events.jsonl`` and the Parquet files of what is not derived from events (stats,
timeline, tool calls, voice latency); transcript, turns and usage are recomputed, so they match the saved ones.

A save is atomic: it writes a folder beside the target, flushes every file to disk, then swaps it in, so a save that
fails (a full disk, an unwritable view) leaves the last good save as it was and says why. The audio files of a recording
are hard links to files the recorder keeps (flac_cache.py), which it never changes while a save links them: the previous
save stays whole while the next one is written. Loading checks what it reads (the format, every file's columns, every
event line) and names the file at fault. A load that runs while a save swaps a new folder in reads every file from one
of the two saves, never a mix: it opens the folder once and reads each file relative to that handle, and starts again if
the save it was reading is removed under it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from realtime_widget.record import audio_files, flac_stream, schema
from realtime_widget.record.audio import SessionAudio
from realtime_widget.record.audio_track import AudioSide, AudioTrack
from realtime_widget.record.pricing import prices_from_json, prices_to_json
from realtime_widget.record.session import SavedAudioFile, SessionRecord
from realtime_widget.record.summary import SessionFacts, facts

__all__ = ["FORMAT_VERSION", "SessionSet", "load", "load_sessions", "save"]

FORMAT_VERSION = 1
# SessionFacts' annotations are strings (postponed evaluation): map them to dtypes.
_FACT_DTYPES = {"float": "float64", "int": "int64"}
VIEWS = ("events", "transcript", "turns", "stats", "timeline", "usage", "tool_calls", "voice_latency")


log = logging.getLogger(__name__)


class SessionLoadError(ValueError):
    """A saved session that cannot be read; the message names the folder, the file and why."""


def save(record: SessionRecord, folder: Path) -> Path:
    """Save ``record`` to ``folder`` atomically (see the module docstring); returns the folder."""
    if not str(folder) or folder.resolve() == Path.cwd().resolve() or folder.name in ("", ".", ".."):
        raise ValueError(f"save() needs a folder of its own for the session, not {str(folder)!r}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _staging(folder) as staging:
        with record.lock:  # one consistent snapshot, however busy the appending thread is
            meta = _write_views(record, staging)
        # The audio outside the record's lock: the recorder keeps appending chunks while it is encoded.
        _write_audio(record, staging)
        # meta.json last: its presence marks a complete save (load_sessions looks for it).
        (staging / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        for path in staging.iterdir():
            _fsync(path)
        _swap_in(staging, folder)
    saved = [folder / audio_files.file_name(side) for side in ("user", "assistant")]
    record.note_saved_audio(tuple(path for path in saved if path.exists()))
    return folder


@contextmanager
def _staging(folder: Path) -> Iterator[Path]:
    """A fresh folder beside ``folder`` (same file system, so the swap is a rename), removed if the save fails."""
    staging = folder.parent / f".{folder.name}.saving-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, folder: Path) -> None:
    """Replace ``folder`` with ``staging``: the old save is moved aside first and removed only once the new one is
    in place, so at every moment a whole save exists under one of the two names."""
    old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
    if folder.exists():
        folder.rename(old)
    try:
        staging.rename(folder)
    except OSError:
        if old.exists():
            old.rename(folder)
        raise
    _fsync_dir(folder.parent)
    shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders (Windows); the rename is still atomic there
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _write_views(record: SessionRecord, folder: Path) -> dict[str, Any]:
    """Write the events and the views; returns what goes in ``meta.json``."""
    meta = {
        "format": FORMAT_VERSION,
        "session_id": record.session_id,
        "created": record.created.isoformat(),
        "clock_offset_ms": record.clock_offset_ms,
        "clock_rtt_ms": record.clock_rtt_ms,
        "model": record.model,
        "prices": prices_to_json(record.prices),
        "events": len(record),
    }
    with (folder / "events.jsonl").open("w", encoding="utf-8") as out:
        for line in record.event_lines():
            out.write(line)
            out.write("\n")
    for name in VIEWS:
        view: pd.DataFrame = getattr(record, name)
        view.insert(0, "session_id", pd.Series([record.session_id] * len(view), dtype="str"))
        view.to_parquet(folder / f"{name}.parquet", index=False)
    return meta


def _write_audio(record: SessionRecord, folder: Path) -> None:
    """Each side's FLAC file and ``audio.json``. Audio being recorded is encoded only where it is new since the
    last save (the writer keeps the frames encoded so far); a loaded session's files are linked or copied as they
    are; other audio (tracks handed in) is encoded whole."""
    placed: dict[AudioSide, audio_files.Placement] = {}
    writer = record.audio_writer
    as_saved = record.saved_audio_files
    for side in ("user", "assistant"):
        target = folder / audio_files.file_name(side)
        if writer is not None:
            saved = writer.save_flac(side, target)
            if saved is not None:
                flac, start = saved
                placed[side] = audio_files.Placement(flac.samples, flac.sample_rate, start)
            continue
        if side in as_saved:
            source, place = as_saved[side]
            _link_or_copy(source, target)
            # The file as it is now: a save that replaced the loaded folder since may have made it longer.
            with target.open("rb") as file:
                now = flac_stream.total_samples(file.read(flac_stream.HEADER_SIZE))
            placed[side] = place._replace(samples=now) if now is not None else place
            continue
        track = record.audio[side]
        if track is not None:
            audio_files.write_flac(track, target)
            placed[side] = audio_files.Placement(len(track.samples), track.sample_rate, track.start)
    if placed:
        audio_files.write_meta(placed, folder)


def _link_or_copy(source: Path, target: Path) -> None:
    """A saved file, never changed afterwards, put in a new save: linked where the file system allows."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _read_audio(folder: _SaveFolder) -> tuple[SessionAudio, dict[AudioSide, SavedAudioFile]] | None:
    """The saved audio, decoded only when first used, and each side's file as saved (so that saving the loaded
    session again copies the files rather than encoding them again); ``None`` when the session has none."""
    path = folder.path / audio_files.AUDIO_META
    try:
        with folder.open(audio_files.AUDIO_META, "r") as file:
            text = file.read()
    except FileNotFoundError:
        return None
    try:
        placed = audio_files.read_meta(text)
        placements = audio_files.read_placements(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise SessionLoadError(f"{path}: not the audio.json of a saved session ({exc})") from exc
    for name, _start in placed.values():
        if not (folder.path / name).is_file():
            raise SessionLoadError(f"{folder.path / name}: missing (named by {audio_files.AUDIO_META})")

    def decoder(side: AudioSide, name: str, start: pd.Timestamp) -> Callable[[], AudioTrack]:
        def decode() -> AudioTrack:
            try:
                samples, rate = audio_files.read_flac(folder.path / name)
            except Exception as exc:
                raise SessionLoadError(f"{folder.path / name}: not a readable audio file ({exc})") from exc
            return AudioTrack(side, samples, rate, start)

        return decode

    sources = {side: decoder(side, name, start) for side, (name, start) in placed.items()}
    as_saved = {side: (folder.path / placed[side][0], place) for side, place in placements.items() if side in placed}
    return SessionAudio(sources, files=tuple(folder.path / name for name, _ in placed.values())), as_saved


def _read(folder: _SaveFolder, name: str) -> pd.DataFrame:
    path = folder.path / f"{name}.parquet"
    try:
        with folder.open(f"{name}.parquet", "rb") as file:
            table = pd.read_parquet(file)
    except _SwappedAwayError:
        raise
    except Exception as exc:
        raise SessionLoadError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from exc
    missing = [column for column in schema.SCHEMAS[name] if column not in table.columns and column not in _ADDED]
    if missing:
        raise SessionLoadError(f"{path}: not a {name} view of a saved session; it lacks {', '.join(missing)}")
    try:
        return schema.frame(schema.SCHEMAS[name], table.drop(columns=["session_id"], errors="ignore"))
    except (TypeError, ValueError) as exc:
        raise SessionLoadError(f"{path}: a column has the wrong type ({exc})") from exc


#: Columns added to views after format 1 was fixed; a save from before them loads with them missing.
_ADDED = frozenset(
    {
        "source",
        "item_id",
        "audio_seconds",
        "interrupted",
        "audio_end_ms",
        "generated_text",
        "speaking_ms",
        "acoustic_latency_ms",
    }
)


def _us(column: pd.Series[Any]) -> list[int | None]:
    ints = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)
    nat = np.iinfo(np.int64).min
    return [None if v == nat else int(v) for v in ints.tolist()]


def _values(column: pd.Series[Any]) -> list[Any]:
    """Column values as plain Python, missing values as None."""
    return [None if pd.isna(v) else v for v in column.astype(object).tolist()]


def load(folder: Path) -> SessionRecord:
    """The session saved in ``folder``; raises :class:`SessionLoadError` naming the file and the problem."""
    problem: _SwappedAwayError | None = None
    for _ in range(_LOAD_ATTEMPTS):
        try:
            with _SaveFolder(folder) as saved:
                return _load(saved)
        except _SwappedAwayError as exc:
            problem = exc  # a save replaced the folder and removed the one being read: read the new one
    raise SessionLoadError(f"{folder}: replaced by new saves {_LOAD_ATTEMPTS} times while loading") from problem


#: How often a load starts again when saves keep replacing the folder it reads (an autosave every few seconds
#: swaps at most once or twice during one load).
_LOAD_ATTEMPTS = 5


class _SwappedAwayError(Exception):
    """The folder being read was replaced by a newer save and removed; the load starts again."""


class _SaveFolder:
    """One saved folder, read through a handle opened once, so that every file comes from the same save even if a
    new save is swapped in meanwhile (the rename moves the name, not the folder the handle holds). Where folders
    cannot be opened (Windows), files are opened by path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> _SaveFolder:
        if os.open in os.supports_dir_fd:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            except FileNotFoundError as exc:
                if any(self.path.parent.glob(f".{self.path.name}.old-*")):
                    raise _SwappedAwayError(self.path.name) from None  # caught between a save's two renames
                raise SessionLoadError(f"{self.path}: not readable ({exc})") from exc
            except OSError as exc:
                raise SessionLoadError(f"{self.path}: not readable ({exc})") from exc
        return self

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            os.close(self._fd)

    def open(self, name: str, mode: Literal["rb", "r"]) -> IO[Any]:
        """``name`` opened from this save; a file gone because its save was removed raises ``_SwappedAwayError``."""
        fd = self._fd
        encoding = "utf-8" if mode == "r" else None
        if fd is None:
            return open(self.path / name, mode, encoding=encoding)
        try:
            return open(name, mode, encoding=encoding, opener=lambda n, flags: os.open(n, flags, dir_fd=fd))
        except FileNotFoundError:
            if os.fstat(fd).st_nlink == 0:  # the folder itself was removed: a newer save took its name
                raise _SwappedAwayError(name) from None
            raise


def _load(folder: _SaveFolder) -> SessionRecord:
    meta = _read_meta(folder)
    events = _read_events(folder, "events.jsonl")
    stats = _read(folder, "stats")
    columns = [_us(stats["time"])] + [_values(stats[name]) for name in schema.STATS if name != "time"]
    timeline = _read(folder, "timeline")
    timeline_rows = [
        (t or 0, str(source), str(what), attempt, str(detail))
        for t, source, what, attempt, detail in zip(
            _us(timeline["time"]),
            _values(timeline["source"]),
            _values(timeline["what"]),
            _values(timeline["attempt"]),
            _values(timeline["detail"]),
            strict=True,
        )
    ]
    tools = _read(folder, "tool_calls")
    tool_columns = [_us(tools["started"])] + [_values(tools[name]) for name in schema.TOOL_CALLS if name != "started"]
    voice = _read(folder, "voice_latency")
    voice_rows = [
        (t or 0, float(ms), end or 0, start or 0)
        for t, ms, end, start in zip(
            _us(voice["time"]),
            _values(voice["ms"]),
            _us(voice["user_speech_end"]),
            _us(voice["assistant_audio_start"]),
            strict=True,
        )
    ]
    audio = _read_audio(folder)
    # The offset applied when recording is already in the saved times; the measured value is kept for reference.
    record = SessionRecord.restore(
        meta["session_id"],
        events=events,
        stats=[tuple(row) for row in zip(*columns, strict=True)],
        timeline=timeline_rows,
        tool_calls=[tuple(row) for row in zip(*tool_columns, strict=True)],
        voice_latency=voice_rows,
        prices=prices_from_json(meta["prices"]),
        created=datetime.fromisoformat(meta["created"]),
        model=meta.get("model"),
        clock_offset_ms=meta.get("clock_offset_ms") or 0.0,
        clock_rtt_ms=meta.get("clock_rtt_ms"),
    )
    if audio is not None:
        record.attach_saved_audio(audio[0], as_saved=audio[1])
    return record


class SessionSet:
    """Several saved sessions read as one: the same views as :class:`SessionRecord`, concatenated, with a leading
    ``session_id`` column (str). ``sessions`` maps each id to its record."""

    def __init__(self, sessions: dict[str, SessionRecord]) -> None:
        self.sessions = sessions

    def __len__(self) -> int:
        return len(self.sessions)

    def _concat(self, name: str) -> pd.DataFrame:
        frames = []
        for session_id, record in self.sessions.items():
            view: pd.DataFrame = getattr(record, name)
            view.insert(0, "session_id", pd.Series([session_id] * len(view), dtype="str"))
            frames.append(view)
        if not frames:
            return schema.frame({"session_id": "str", **schema.SCHEMAS[name]}, {})
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def events(self) -> pd.DataFrame:
        """:attr:`SessionRecord.events` of every session."""
        return self._concat("events")

    @cached_property
    def transcript(self) -> pd.DataFrame:
        """:attr:`SessionRecord.transcript` of every session."""
        return self._concat("transcript")

    @cached_property
    def turns(self) -> pd.DataFrame:
        """:attr:`SessionRecord.turns` of every session."""
        return self._concat("turns")

    @cached_property
    def stats(self) -> pd.DataFrame:
        """:attr:`SessionRecord.stats` of every session."""
        return self._concat("stats")

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """:attr:`SessionRecord.timeline` of every session."""
        return self._concat("timeline")

    @cached_property
    def usage(self) -> pd.DataFrame:
        """:attr:`SessionRecord.usage` of every session."""
        return self._concat("usage")

    @cached_property
    def tool_calls(self) -> pd.DataFrame:
        """:attr:`SessionRecord.tool_calls` of every session."""
        return self._concat("tool_calls")

    @cached_property
    def voice_latency(self) -> pd.DataFrame:
        """:attr:`SessionRecord.voice_latency` of every session."""
        return self._concat("voice_latency")

    def summary(self) -> pd.DataFrame:
        """One row per session: ``session_id`` (str), ``duration_s``, ``median_latency_ms``,
        ``median_voice_to_voice_ms``, ``cost_usd`` (float64), and ``events``, ``turns``, ``interrupted``,
        ``total_tokens``, ``errors``, ``malformed``, ``tool_calls``, ``attempts`` (int64); see
        :meth:`SessionRecord.summary`."""
        rows = [{"session_id": sid, **asdict(facts(record))} for sid, record in self.sessions.items()]
        columns = {"session_id": "str", **{f.name: _FACT_DTYPES[str(f.type)] for f in fields(SessionFacts)}}
        return schema.frame(columns, {name: [row[name] for row in rows] for name in columns})

    def __repr__(self) -> str:
        return f"<SessionSet of {len(self)} sessions: {', '.join(self.sessions)}>"


def _read_meta(folder: _SaveFolder) -> dict[str, Any]:
    path = folder.path / "meta.json"
    try:
        with folder.open("meta.json", "r") as file:
            meta = json.loads(file.read())
    except (OSError, ValueError) as exc:
        raise SessionLoadError(f"{path}: not readable as JSON ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("session_id"), str):
        raise SessionLoadError(f"{path}: not the meta.json of a saved session (no session_id)")
    if meta.get("format") != FORMAT_VERSION:
        raise SessionLoadError(f"{path}: saved in format {meta.get('format')!r}; this version reads {FORMAT_VERSION}")
    return meta


def _read_events(folder: _SaveFolder, name: str) -> list[dict[str, Any]]:
    path = folder.path / name
    events: list[dict[str, Any]] = []
    try:
        with folder.open(name, "r") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise SessionLoadError(
                        f"{path}, line {number}: not JSON ({exc}); the file may be cut short"
                    ) from exc
                if not isinstance(item, dict):
                    raise SessionLoadError(f"{path}, line {number}: not an event item")
                events.append(item)
    except OSError as exc:
        raise SessionLoadError(f"{path}: not readable ({exc})") from exc
    return events


def load_sessions(folder: str | Path, *, errors: Literal["warn", "raise"] = "warn") -> SessionSet:
    """Load every saved session directly under ``folder`` (each a subfolder with a ``meta.json``).

    A session that cannot be read is left out with one warning naming its folder, file and the problem
    (``errors="raise"`` raises :class:`SessionLoadError` instead). Sessions are keyed by id; two folders holding the
    same id (a copied session) are both kept, the second as ``"<id>@<folder name>"``.
    """
    root = Path(folder)
    sessions: dict[str, SessionRecord] = {}
    for sub in sorted(root.iterdir()):
        if sub.name.startswith(".") or not (sub / "meta.json").is_file():
            continue  # an unfinished save (a dot-folder) or not a session
        try:
            record = load(sub)
        except SessionLoadError as exc:
            if errors == "raise":
                raise
            warnings.warn(f"skipped a saved session: {exc}", stacklevel=2)
            continue
        key = record.session_id if record.session_id not in sessions else f"{record.session_id}@{sub.name}"
        sessions[key] = record
    return SessionSet(sessions)
