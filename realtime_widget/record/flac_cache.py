"""One side's recorded audio kept encoded as FLAC frames, so that saving the record encodes only what is new.

Why frames rather than files re-encoded on each save: an hour of both sides takes over ten seconds to encode, and a
record is saved every few seconds while connected. Why one file rather than segment files per N minutes: a session
folder keeps one standard file per side that any player opens whole, and the cost of a save still follows the new
audio only (benchmarks/audio_save.py measures it).

The frames live in complete FLAC files in the spool folder (``<side>.<n>.flac``: header, the frames, one short last
frame for the samples after the last whole block), each frame numbered for its place in the stream
(:func:`~realtime_widget.record.flac_stream.renumber`). A save takes one such file that no save links (its link
count says so), brings it up to date (frames it lacks copied from the newest file, then the new audio encoded and
appended, then the short last frame and the header), and hard-links it into the session folder. A file linked from
a save is never changed while that save exists, so the previous save stays whole while the next is written: two
files take turns, each a save behind, and bringing one up to date writes only the audio of the last two saves. A
change to audio already encoded (playback cut at a barge-in, silence taken back) drops the frames from the changed
block on, and the save encodes them again.

Where the session folder is on another file system than the spool (no hard links), the file is copied instead:
still no re-encoding, but the bytes of the whole recording are written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from realtime_widget.record.flac_stream import HEADER_SIZE, renumber, stream_header

__all__ = ["FlacFrames", "SavedFlac", "block_size"]

#: Whole blocks encoded per step of a save (1.5 s of audio at 24 kHz); the writer's lock is held for one step (a
#: few milliseconds), so chunks arriving during a long first save wait at most that long.
STEP_BLOCKS = 16
#: Complete files kept for reuse: the one the latest save links, and one to bring up to date for the next.
_KEEP_FILES = 2


def block_size(sample_rate: int) -> int:
    """Samples per FLAC frame: the encoder's choice for this rate (2304 at 24 kHz)."""
    return int(_encoder(sample_rate).frame_size)


def _encoder(sample_rate: int) -> Any:
    context: Any = av.CodecContext.create("flac", "w")
    context.sample_rate = sample_rate
    context.layout = "mono"
    context.format = "s16"
    context.open()
    return context


def encode(samples: npt.NDArray[np.int16], sample_rate: int) -> list[bytes]:
    """``samples`` as FLAC frames numbered from 0: whole blocks, then a short last frame for any remainder."""
    if not len(samples):
        return []
    context = _encoder(sample_rate)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate = sample_rate
    frame.pts = 0
    packets = [bytes(packet) for packet in context.encode(frame)]
    packets += [bytes(packet) for packet in context.encode(None)]
    return [packet for packet in packets if packet]  # the flush ends with an empty packet (updated STREAMINFO)


@dataclass(frozen=True)
class SavedFlac:
    """What a save wrote of one side: the file, and what ``audio.json`` says of it."""

    path: Path
    samples: int
    sample_rate: int


@dataclass
class _Complete:
    """A complete FLAC file in the spool folder, holding the first ``frames`` cached frames (then a tail)."""

    path: Path
    frames: int = 0


@dataclass
class FlacFrames:
    """The encoded frames of one side (see the module docstring). ``read(first, count)`` gives samples from the
    spool file (fewer if it is shorter). Not thread-safe by itself: the :class:`AudioWriter` calls
    :meth:`invalidate`, :meth:`encode_step` and :meth:`tail` under its lock, and every method but
    :meth:`invalidate` under its save lock, in the order :meth:`prepare`, :meth:`encode_step`..., :meth:`tail`,
    :meth:`finish`."""

    folder: Path
    name: str
    sample_rate: int
    block: int = 0
    ends: list[int] = field(default_factory=list)  # where each frame encoded so far ends, after the header
    invalid_from: int | None = None  # first block changed since it was encoded
    files: list[_Complete] = field(default_factory=list)
    #: Samples encoded, by every save so far (what a test checks to see that a save encoded only new audio).
    encoded_samples: int = 0
    _target: _Complete | None = None
    _serial: int = 0

    def __post_init__(self) -> None:
        self.block = block_size(self.sample_rate)

    def invalidate(self, sample: int) -> None:
        """Samples from ``sample`` on were changed or removed: their frames must be encoded again."""
        block = sample // self.block
        self.invalid_from = block if self.invalid_from is None else min(self.invalid_from, block)

    def drop_invalid(self) -> None:
        """Forget the frames of changed audio (the file being written loses them too)."""
        if self.invalid_from is None or self.invalid_from >= len(self.ends):
            self.invalid_from = None
            return
        keep = self.invalid_from
        del self.ends[keep:]
        for complete in self.files:
            complete.frames = min(complete.frames, keep)
        if self._target is not None:
            with self._target.path.open("r+b") as out:
                out.truncate(self._offset(keep))
        self.invalid_from = None

    def _offset(self, frames: int) -> int:
        return HEADER_SIZE + (self.ends[frames - 1] if frames else 0)

    def prepare(self) -> None:
        """Pick the file this save writes, and give it every frame encoded so far (copied, not encoded)."""
        target = self._reusable()
        newest = max(self.files, key=lambda c: c.frames)
        with target.path.open("r+b" if target.path.exists() else "w+b") as out:
            out.truncate(self._offset(target.frames))
            if newest.frames > target.frames:
                with newest.path.open("rb") as src:
                    src.seek(self._offset(target.frames))
                    out.seek(self._offset(target.frames))
                    _copy(src, out, self._offset(newest.frames) - self._offset(target.frames))
        target.frames = newest.frames
        self._target = target

    def encode_step(self, read: Callable[[int, int], npt.NDArray[np.int16]], samples: int) -> bool:
        """Encode up to :data:`STEP_BLOCKS` more whole blocks of the first ``samples`` into the file being written;
        False when all are done."""
        target = self._writing()
        self.drop_invalid()
        first = len(self.ends)
        blocks = min(samples // self.block - first, STEP_BLOCKS)
        if blocks <= 0:
            return False
        pcm = read(first * self.block, blocks * self.block)
        blocks = len(pcm) // self.block
        if blocks <= 0:
            return False
        frames = encode(pcm[: blocks * self.block], self.sample_rate)
        self.encoded_samples += blocks * self.block
        if len(frames) != blocks:
            raise RuntimeError(f"the FLAC encoder made {len(frames)} frames of {blocks} whole blocks")
        placed = [renumber(frame, number) for number, frame in enumerate(frames, first)]
        with target.path.open("r+b") as out:
            out.seek(self._offset(first))
            out.write(b"".join(placed))
        end = self.ends[-1] if self.ends else 0
        for frame in placed:
            end += len(frame)
            self.ends.append(end)
        target.frames = len(self.ends)
        return True

    def tail(self, read: Callable[[int, int], npt.NDArray[np.int16]], samples: int) -> tuple[bytes, int]:
        """The short last frame for the samples after the whole blocks encoded (call once :meth:`encode_step` is
        done, without letting go of the writer's lock), numbered to follow them, and how many samples it holds."""
        self.drop_invalid()
        whole = len(self.ends)
        rest = read(whole * self.block, max(0, samples - whole * self.block))
        frames = encode(rest, self.sample_rate)
        self.encoded_samples += len(rest)
        if len(frames) > 1:  # more than a block after the whole ones: encode_step was not done
            raise RuntimeError("the tail of the audio is longer than one block")
        return (renumber(frames[0], whole) if frames else b""), len(rest)

    def finish(self, tail: bytes, tail_samples: int, target: Path) -> SavedFlac:
        """Complete the file being written with ``tail`` and its header, and put it at ``target`` (a new name in a
        staging folder): a hard link, or a copy where links cannot reach."""
        complete = self._writing()
        frames = len(self.ends)
        total = frames * self.block + tail_samples
        sizes = np.diff(np.asarray([0, *self.ends], dtype=np.int64))
        if tail:
            sizes = np.append(sizes, len(tail))
        header = stream_header(
            sample_rate=self.sample_rate,
            total_samples=total,
            block_size=self.block,
            min_frame=int(sizes.min()) if sizes.size else 0,
            max_frame=int(sizes.max()) if sizes.size else 0,
        )
        with complete.path.open("r+b") as out:
            out.seek(self._offset(frames))
            out.write(tail)
            out.truncate()
            out.seek(0)
            out.write(header)
            out.flush()
            os.fsync(out.fileno())
        self._target = None
        try:
            os.link(complete.path, target)
        except OSError:  # another file system (or one without hard links): a copy, still not re-encoded
            shutil.copyfile(complete.path, target)
        return SavedFlac(target, total, self.sample_rate)

    def _writing(self) -> _Complete:
        if self._target is None:
            raise RuntimeError("prepare() first: no file is being written")
        return self._target

    def _reusable(self) -> _Complete:
        """A complete file no save links (so changing it cannot touch a save), the one with most frames; or a new
        one. Files beyond the two worth keeping are removed."""
        free = [c for c in self.files if not c.path.exists() or c.path.stat().st_nlink <= 1]
        for gone in (c for c in free if not c.path.exists()):
            gone.frames = 0  # removed by someone else: start it again
        if free:
            chosen = max(free, key=lambda c: c.frames)
        else:
            self._serial += 1
            chosen = _Complete(self.folder / f"{self.name}.{self._serial}.flac")
            # A file left under that name by an earlier recorder in this folder may be linked from its saves:
            # take the name away from it (its saves keep it) rather than write into it.
            chosen.path.unlink(missing_ok=True)
            self.files.append(chosen)
        for extra in [c for c in free if c is not chosen][: max(0, len(self.files) - _KEEP_FILES)]:
            extra.path.unlink(missing_ok=True)
            self.files.remove(extra)
        return chosen


def _copy(src: Any, out: Any, count: int) -> None:
    """``count`` bytes from ``src`` to ``out`` at their current positions."""
    while count > 0:
        piece = src.read(min(count, 1 << 20))
        if not piece:
            raise OSError("a complete FLAC file in the spool is shorter than its frames")
        out.write(piece)
        count -= len(piece)
