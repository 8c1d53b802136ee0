"""Saving a recorded session: what a save costs after 1, 10 and 60 minutes recorded, before and after saves encoded
only the audio new since the previous save.

Both sides are written through ``SessionRecord.write_audio`` as the browser path does (100 ms chunks of 24 kHz mono
PCM16 stamped on the record's clock), as fast as the machine allows, with eSpeak NG speech in turns (the chunks of
benchmarks/record_audio.py). At each mark:

- before: the save as it was, encoding both whole tracks to FLAC on every save (the same record's audio saved
  through the path that still does that: a record holding tracks rather than a recorder);
- after: the autosave's steady state, a save after another ``--every-s`` (the widget's default autosave interval,
  30 s) of audio, repeated; a save with nothing new (the floor: the views, fsync, links); and the longest a chunk
  write waited while a save ran (the comm hands chunks to the recorder on the kernel's event loop, so that wait is
  how long a save can hold the loop up);
- the design not taken, for comparison: segment files of 5 minutes with only the open one encoded again (the
  floor plus encoding a whole segment of both sides, the most such a save would encode);
- bytes on disk per minute recorded: the session folder, and the recorder's spool beside it (raw PCM and the
  complete FLAC files saves take turns on, counting once a file that is also linked from the session folder).

Prints tables; never asserts.

    python benchmarks/audio_save.py [--minutes 1,10,60] [--every-s 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record_audio import CHUNK_MS, RATE, T0_US, speech_turns
from benchmarks.table import Table, ratio, spread
from realtime_widget.record import SessionRecord
from realtime_widget.record.audio import SessionAudio
from realtime_widget.record.audio_files import write_flac
from realtime_widget.record.audio_track import AudioTrack

MB = 1024 * 1024
#: Segment length of the design not taken (segment files, the open one encoded again on each save), for comparison.
SEGMENT_MIN = 5.0
CHUNKS_PER_S = 1000 // CHUNK_MS


class Recording:
    """A record being fed both sides' chunks, one after another on the record's clock."""

    def __init__(self, spool: Path) -> None:
        user, reply = speech_turns()
        step = RATE * CHUNK_MS // 1000
        self.chunks = [(user[i : i + step].tobytes(), reply[i : i + step].tobytes()) for i in range(0, len(user), step)]
        self.record = SessionRecord()
        self.record.start_audio(spool)
        self.written = 0  # chunks per side so far

    def write(self, count: int) -> None:
        for _ in range(count):
            user, reply = self.chunks[self.written % len(self.chunks)]
            at = T0_US + self.written * CHUNK_MS * 1000
            self.record.write_audio("user", user, RATE, at)
            self.record.write_audio("assistant", reply, RATE, at)
            self.written += 1

    def write_while(self, busy: threading.Event, waits: list[float]) -> None:
        """Write a chunk of each side every 20 ms (five times real time, as a browser catching up after a stall
        might) while ``busy`` is set; adds to ``waits`` the longest a single chunk write took, in ms."""
        longest = 0.0
        while busy.is_set():
            began = time.perf_counter()
            self.write(1)
            longest = max(longest, time.perf_counter() - began)
            time.sleep(0.02)
        waits.append(longest * 1000)


def timed_save(record: SessionRecord, folder: Path) -> float:
    began = time.perf_counter()
    record.save(folder)
    return time.perf_counter() - began


def whole_reencode(recording: Recording, folder: Path) -> float:
    """The save as it was: both tracks encoded whole (a record with tracks, not a recorder, still saves so)."""
    audio = recording.record.audio
    tracks = SessionRecord()
    tracks.attach_saved_audio(SessionAudio.of({"user": audio.user, "assistant": audio.assistant}))
    return timed_save(tracks, folder)


def open_segment_encode(recording: Recording, folder: Path, segment_min: float) -> float:
    """The other design, segment files of ``segment_min`` minutes with only the open one encoded again on each
    save: the time to encode that segment, both sides, at its largest (just before it closes)."""
    audio = recording.record.audio
    began = time.perf_counter()
    for track in (audio.user, audio.assistant):
        assert track is not None
        last = track.samples[-round(segment_min * 60 * track.sample_rate) :]
        write_flac(AudioTrack(track.side, np.asarray(last), track.sample_rate, track.start), folder / "segment.flac")
    return time.perf_counter() - began


def disk_bytes(*folders: Path) -> int:
    """Bytes of every file under ``folders``, a file linked from several places counted once."""
    seen: dict[tuple[int, int], int] = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                stat = path.stat()
                seen[(stat.st_dev, stat.st_ino)] = stat.st_size
    return sum(seen.values())


def other_file_system(than: Path) -> Path | None:
    """A folder on another file system than ``than`` (Linux's shared-memory tmpfs), where hard links cannot reach;
    ``None`` where there is none."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == than.stat().st_dev:
        return None
    return Path(tempfile.mkdtemp(prefix="audio-save-bench-", dir=shm))


def measure(marks_min: list[float], every_s: float, repeats: int) -> list[Table]:
    saves = Table(
        "Saving a recorded session: re-encoding everything vs only the new audio",
        "python benchmarks/audio_save.py",
        [
            "recorded (min)",
            "before: save re-encoding all (s)",
            f"after: save after {every_s:g} s more (s, min / median / max)",
            "after / before",
            "after: save with no new audio (s)",
            f"segments of {SEGMENT_MIN:g} min instead: encoding the open one, at most (s)",
            "after, session folder on another file system: copied, not linked (s)",
            "longest chunk write during a save (ms)",
        ],
    )
    disk = Table(
        "Recorded audio on disk",
        "python benchmarks/audio_save.py",
        ["recorded (min)", "session folder (MB/min)", "spool while recording (MB/min)", "both (MB/min)"],
    )
    with tempfile.TemporaryDirectory(prefix="audio-save-bench-") as tmp:
        root = Path(tmp)
        recording = Recording(root / "spool")
        folder = root / "sessions" / "s"
        elsewhere = other_file_system(root)
        for mark in marks_min:
            recording.write(max(0, round(mark * 60 * CHUNKS_PER_S) - recording.written))
            before = whole_reencode(recording, root / "sessions" / "before")
            timed_save(recording.record, folder)  # catch up to the mark (the first save at 1 min encodes it all)
            after, copied = [], []
            for _ in range(repeats):
                recording.write(round(every_s * CHUNKS_PER_S))
                after.append(timed_save(recording.record, folder))
                if elsewhere is not None:
                    recording.write(round(every_s * CHUNKS_PER_S))
                    copied.append(timed_save(recording.record, elsewhere / "s"))
            unchanged = timed_save(recording.record, folder)  # the floor: views, fsync, links; nothing to encode
            segment = open_segment_encode(recording, root, SEGMENT_MIN)
            busy = threading.Event()
            busy.set()
            waits: list[float] = []
            writer = threading.Thread(target=recording.write_while, args=(busy, waits))
            writer.start()
            try:
                timed_save(recording.record, folder)
            finally:
                busy.clear()
                writer.join()
            minutes = recording.written / CHUNKS_PER_S / 60
            saves.add(
                f"{mark:g}",
                f"{before:.2f}",
                spread(after, 3),
                ratio(statistics.median(after), before),
                f"{unchanged:.3f}",
                f"{unchanged + segment:.3f}",
                spread(copied, 3),
                f"{waits[0]:.1f}",
            )
            saved = disk_bytes(folder)
            both = disk_bytes(folder, root / "spool")
            disk.add(
                f"{mark:g}",
                f"{saved / MB / minutes:.2f}",
                f"{(both - saved) / MB / minutes:.2f}",
                f"{both / MB / minutes:.2f}",
            )
        recording.record.close_audio()
        if elsewhere is not None:
            shutil.rmtree(elsewhere, ignore_errors=True)
    saves.notes.append(
        "Before, each save encoded both whole sides to FLAC, so its cost grew with the session (and an autosave "
        "every 30 s of an hour-long session spent minutes of kernel CPU in all). After, a save encodes only the audio "
        "recorded since the previous one (plus the partial block at the end, under 0.1 s of audio), appends those "
        "frames to a complete FLAC file kept in the spool, and hard-links it into the session folder: its cost "
        "follows the new audio, not the length of the session. A chunk write waits at most one encoding step "
        "(16 blocks of 2304 samples) while a save runs, never the whole save. Where the session folder is on "
        "another file system than the recorder's spool (here the shared-memory tmpfs, so the copy costs no disk "
        "writes: on a disk it costs more), the file is copied instead of linked: still nothing re-encoded, but the "
        "bytes of the whole recording written. The design not taken, segment files with only the open one "
        "encoded again, is shown by its floor plus encoding a whole open segment (both sides): bounded, but by the "
        "segment length rather than the new audio, and a session would have many files per side instead of one."
    )
    disk.notes.append(
        "The session folder holds one FLAC file per side (lossless; speech with pauses). The spool holds the raw PCM "
        "that record.audio maps and two complete FLAC files per side that saves take turns to bring up to date, one "
        "of them the very file linked from the latest save (counted once): it is removed with the recorder "
        "(close_audio, or when the kernel exits)."
    )
    return [saves, disk]


def run(quick: bool) -> list[Table]:
    return measure([1.0, 5.0] if quick else [1.0, 10.0, 60.0], 30.0, 2 if quick else 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="1,10,60", help="comma-separated marks (default 1,10,60)")
    parser.add_argument("--every-s", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    marks = [float(m) for m in args.minutes.split(",") if m.strip()]
    for table in measure(marks, args.every_s, args.repeats):
        print(table.markdown(), end="\n\n")


if __name__ == "__main__":
    main()
