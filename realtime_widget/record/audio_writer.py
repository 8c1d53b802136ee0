"""Recorded audio streamed to disk as it arrives: one raw PCM16 spool file per side, placed on the record's clock.

Chunks come from the browser (over the comm) or from a headless session (what it speaks, what it plays), each with
the time its first sample sounded. A spool file only ever grows by the chunk just written, so an hour-long session
costs the kernel no more memory than a minute of it; reading a side maps the file instead of loading it.

Placement: the first chunk of a side fixes its start. A later chunk that starts after the audio so far ends leaves a
gap, filled with silence, so sample ``i`` always sounded at ``start + i / sample_rate``. A chunk that starts before
the end (frames that arrived in a burst, or clock jitter) follows on from the end, so no sound is ever dropped; if
silence was put in just before it (its predecessor came late), that silence is taken out again as far as the
chunk's time says, so late-then-hurried chunks do not push the rest of the track later and later; and a track still
ahead of its chunks' times drops their leading silence (never sound) until it is back on the clock. A resent chunk
must be recognised by its sender's sequence number before it gets here (the comm does that, as it does for event
batches): the writer cannot tell a repeat from new sound.

Saving: :meth:`AudioWriter.save_flac` writes a side as a FLAC file, encoding only the audio that is new since the
previous save (see flac_cache.py); it holds the writer's lock only a few milliseconds at a time, so chunks keep
arriving while a long recording is saved.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from realtime_widget.record.audio_track import AudioSide, AudioTrack
from realtime_widget.record.flac_cache import FlacFrames, SavedFlac

__all__ = ["SIDES", "AudioWriter"]

SIDES: tuple[AudioSide, ...] = ("user", "assistant")

#: A gap shorter than this is clock jitter between back-to-back chunks, not silence: the chunk is appended as is.
#: (Timestamps of consecutive 20 ms frames wobble by a millisecond or two on a loaded machine.)
JITTER_US = 5_000
#: Inserted silence is taken back only while the sound written after it is shorter than this (it is moved back in
#: the file, so the cost stays small).
_RETRACT_LIMIT_SAMPLES = 48_000
#: Below this a sample is silence that may be dropped to bring a track that got ahead back onto the clock: -52 dBFS,
#: under the -40 dBFS that counts as audible (realtime_widget.headless.audible), above codec noise.
QUIET_LEVEL = 82


@dataclass
class _Spool:
    path: Path
    sample_rate: int
    start_us: int
    samples: int = 0  # written so far
    #: Recent silence put in for gaps, (first sample, length), which chunks arriving early may take back.
    gaps: list[tuple[int, int]] = field(default_factory=list)
    #: The side encoded as FLAC frames so far (from the first save on), told of every change to written samples.
    flac: FlacFrames | None = None

    def end_us(self) -> int:
        return self.start_us + round(self.samples * 1_000_000 / self.sample_rate)


class AudioWriter:
    """Streams both sides' PCM16 to spool files in ``folder`` (default: a private temporary folder, removed by
    :meth:`close`). Thread-safe: the comm thread writes while a notebook cell reads."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self._owned = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="realtime-audio-")) if folder is None else Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        # A temporary folder goes when the writer does, at the latest when the kernel exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True) if self._owned else None
        self._spools: dict[AudioSide, _Spool] = {}
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # one save at a time: saves share the encoded frames
        #: Grows with every change, so views derived from the audio know when to rebuild.
        self.version = 0

    def write(self, side: AudioSide, pcm16: bytes, sample_rate: int, start_us: int) -> None:
        """Append one chunk: little-endian mono PCM16 at ``sample_rate`` whose first sample sounded at ``start_us``
        (integer microseconds since the epoch, on the record's clock)."""
        if side not in SIDES:
            raise ValueError(f"side must be 'user' or 'assistant'; got {side!r}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive; got {sample_rate}")
        if len(pcm16) % 2:
            raise ValueError(f"PCM16 needs an even number of bytes; got {len(pcm16)}")
        samples = np.frombuffer(pcm16, dtype="<i2")
        with self._lock:
            spool = self._spools.get(side)
            if spool is None:
                spool = self._spools[side] = _Spool(self.folder / f"{side}.pcm", sample_rate, int(start_us))
                spool.path.write_bytes(b"")
            if sample_rate != spool.sample_rate:
                samples = _resample(samples, sample_rate, spool.sample_rate)
            offset = int(start_us) - spool.end_us()
            if offset > JITTER_US:
                gap = round(offset * spool.sample_rate / 1_000_000)
                spool.gaps.append((spool.samples, gap))
                samples = np.concatenate([np.zeros(gap, dtype=np.int16), samples])
            elif offset < -JITTER_US:
                ahead = round(-offset * spool.sample_rate / 1_000_000)
                ahead -= _take_back_silence(spool, ahead)
                samples = samples[_leading_quiet(samples, ahead) :]
            if samples.size == 0:
                return
            with spool.path.open("ab") as out:
                out.write(samples.astype("<i2", copy=False).tobytes())
            spool.samples += samples.size
            self.version += 1

    def cut(self, side: AudioSide, end_us: int) -> None:
        """Drop what was written of ``side`` after ``end_us``: audio scheduled to play that never did (playback
        stopped at a barge-in)."""
        with self._lock:
            spool = self._spools.get(side)
            if spool is None or end_us >= spool.end_us():
                return
            keep = max(0, round((end_us - spool.start_us) * spool.sample_rate / 1_000_000))
            with spool.path.open("r+b") as out:
                out.truncate(keep * 2)
            spool.samples = keep
            if spool.flac is not None:
                spool.flac.invalidate(keep)
            self.version += 1

    def track(self, side: AudioSide) -> AudioTrack | None:
        """``side`` as recorded so far, mapped from its spool file (not copied into memory), or ``None``."""
        with self._lock:
            spool = self._spools.get(side)
            if spool is None or spool.samples == 0:
                return None
            samples = np.memmap(spool.path, dtype="<i2", mode="r", shape=(spool.samples,))
            start = pd.Timestamp(spool.start_us, unit="us", tz="UTC")
            return AudioTrack(side, samples.view(np.int16), spool.sample_rate, start)

    def save_flac(self, side: AudioSide, target: Path) -> tuple[SavedFlac, pd.Timestamp] | None:
        """Write ``side`` as recorded so far to the FLAC file ``target`` (a new name), encoding only the audio new
        since the previous save; returns what was written and when its first sample sounded, or ``None`` when the
        side has no audio. Safe to call while chunks arrive: the file holds every sample written before it ends."""
        with self._save_lock:
            with self._lock:
                spool = self._spools.get(side)
                if spool is None or spool.samples == 0:
                    return None
                if spool.flac is None:
                    spool.flac = FlacFrames(self.folder, side, spool.sample_rate)
                flac = spool.flac
            read = lambda first, count: _read(spool, first, count)  # noqa: E731 - called under the lock
            with self._lock:
                flac.drop_invalid()
            flac.prepare()  # copies frames already encoded: the chunks need not wait for that
            more = True
            while more:  # a few milliseconds at a time, so chunks arriving meanwhile wait no longer
                with self._lock:
                    more = flac.encode_step(read, spool.samples)
            with self._lock:  # what arrived during the steps, then the last partial block: one consistent end
                while flac.encode_step(read, spool.samples):
                    pass
                tail, tail_samples = flac.tail(read, spool.samples)
                start = pd.Timestamp(spool.start_us, unit="us", tz="UTC")
            return flac.finish(tail, tail_samples, target), start

    def encoded_samples(self, side: AudioSide) -> int:
        """How many samples of ``side`` saves have encoded so far, in all (each save encodes only new audio)."""
        with self._lock:
            spool = self._spools.get(side)
            return 0 if spool is None or spool.flac is None else spool.flac.encoded_samples

    def close(self) -> None:
        """Remove the spool files if this writer made their folder (save the record first to keep the audio)."""
        with self._save_lock, self._lock:
            self._spools.clear()
            self.version += 1
        if self._cleanup is not None:
            self._cleanup()


def _read(spool: _Spool, first: int, count: int) -> npt.NDArray[np.int16]:
    """``count`` samples of the spool file from sample ``first`` (fewer if it is shorter), read rather than mapped:
    a file cut shorter meanwhile gives fewer samples, never a fault."""
    with spool.path.open("rb") as file:
        file.seek(first * 2)
        return np.frombuffer(file.read(count * 2), dtype="<i2").astype(np.int16)


def _leading_quiet(samples: npt.NDArray[np.int16], limit: int) -> int:
    """How many of the first ``limit`` samples are quiet (below :data:`QUIET_LEVEL`): silence a chunk stamped
    earlier than the track's end can give up, so a track that got ahead (a burst of frames) catches up in the next
    pause without losing any sound."""
    loud = np.flatnonzero(np.abs(samples[:limit].astype(np.int32)) >= QUIET_LEVEL)
    return int(loud[0]) if loud.size else min(limit, len(samples))


def _take_back_silence(spool: _Spool, samples: int) -> int:
    """Remove up to ``samples`` of the silence recently inserted, latest first, moving the sound after it back;
    returns how many were removed."""
    removed = 0
    # Only gaps with little sound after them: that sound is moved in the file.
    spool.gaps = [(at, n) for at, n in spool.gaps if spool.samples - (at + n) <= _RETRACT_LIMIT_SAMPLES]
    while samples > 0 and spool.gaps:
        at, length = spool.gaps.pop()
        remove = min(samples, length)
        tail_start = at + length
        with spool.path.open("r+b") as file:
            file.seek(tail_start * 2)
            moved = file.read((spool.samples - tail_start) * 2)
            file.seek((tail_start - remove) * 2)
            file.write(moved)
            file.truncate((spool.samples - remove) * 2)
        if spool.flac is not None:
            spool.flac.invalidate(tail_start - remove)
        spool.samples -= remove
        samples -= remove
        removed += remove
        if remove < length:
            spool.gaps.append((at, length - remove))
    return removed


def _resample(samples: npt.NDArray[np.int16], from_rate: int, to_rate: int) -> npt.NDArray[np.int16]:
    from realtime_widget.server.voice.resample import resample  # noqa: PLC0415 - PyAV only when rates differ

    return resample(samples.astype(np.int16), from_rate, to_rate)
