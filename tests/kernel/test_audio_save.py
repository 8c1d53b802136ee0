"""Saving recorded audio without re-encoding all of it: a save encodes only what is new, the files are standard FLAC
(read back by libFLAC, the reference decoder, through libsndfile), earlier saves stay whole whatever happens to a
later one, and folders saved the old way still load. Real files; no session."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import soundfile

from realtime_widget import SessionRecord
from realtime_widget.record import flac_cache, flac_stream
from realtime_widget.record.audio_files import write_flac
from realtime_widget.record.audio_track import AudioTrack

RATE = 24_000
T0 = 1_800_000_000_000_000  # µs since the epoch
CHUNK = 2_400  # 100 ms, as the browser sends them


def speechlike(seconds: float, seed: int = 0) -> npt.NDArray[np.int16]:
    """Noise bursts and pauses: compresses like speech, and any misplaced sample shows."""
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal(round(seconds * RATE)) * 3000).astype(np.int16)
    samples[(np.arange(len(samples)) // RATE) % 3 == 2] = 0  # every third second silent
    return samples


def record_into(record: SessionRecord, samples: npt.NDArray[np.int16], first: int, last: int) -> None:
    """Write samples ``[first, last)`` of the user side in 100 ms chunks stamped on the record's clock."""
    for at in range(first, last, CHUNK):
        piece = samples[at : min(at + CHUNK, last)]
        record.write_audio("user", piece.tobytes(), RATE, T0 + at * 1_000_000 // RATE)


def libflac(path: Path) -> npt.NDArray[np.int16]:
    samples, rate = soundfile.read(path, dtype="int16")
    assert rate == RATE
    return np.asarray(samples, dtype=np.int16)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_renumbered_frames_keep_valid_checksums() -> None:
    frames = flac_cache.encode(speechlike(0.5), RATE)
    assert len(frames) == 6  # five whole blocks of 2304 and a short last one
    for number in (0, 1, 127, 128, 2047, 2048, 65_535, 65_536, 2**31, 2**36 - 1):
        for frame in (frames[1], frames[-1]):
            placed = flac_stream.renumber(frame, number)
            header = flac_stream._header_length(placed)
            assert flac_stream.crc8(placed[:header]) == placed[header]
            assert flac_stream.crc16(placed[:-2]) == int.from_bytes(placed[-2:], "big")
            assert placed[header + 1 : -2] == frame[flac_stream._header_length(frame) + 1 : -2]
    with pytest.raises(ValueError, match="fixed-blocksize"):
        flac_stream.renumber(b"\x00" * 16, 1)


def test_a_second_save_encodes_only_the_new_audio(tmp_path: Path) -> None:
    audio = speechlike(60)
    record = SessionRecord()
    record_into(record, audio, 0, 40 * RATE)
    first = record.save(tmp_path / "first")
    writer = record.audio_writer
    assert writer is not None
    encoded = writer.encoded_samples("user")
    assert encoded == 40 * RATE
    first_file = first / "audio_user.flac"
    first_bytes = first_file.read_bytes()

    record_into(record, audio, 40 * RATE, 45 * RATE)
    second = record.save(tmp_path / "second")
    # Only the five new seconds, plus the partial block at the end of the first save, were encoded again.
    new = writer.encoded_samples("user") - encoded
    assert 5 * RATE <= new < 5 * RATE + flac_cache.block_size(RATE)
    # What was written: the first save's whole frames, byte for byte (not encoded again), then the new audio's.
    block = flac_cache.block_size(RATE)
    whole = 40 * RATE // block
    first_tail = flac_stream.renumber(flac_cache.encode(audio[whole * block : 40 * RATE], RATE)[0], whole)
    assert first_bytes.endswith(first_tail)
    second_bytes = (second / "audio_user.flac").read_bytes()
    frames = first_bytes[flac_stream.HEADER_SIZE : -len(first_tail)]
    assert second_bytes[flac_stream.HEADER_SIZE :].startswith(frames)
    # The first save is untouched, and both are standard files holding exactly what was recorded.
    assert first_file.read_bytes() == first_bytes
    assert np.array_equal(libflac(first_file), audio[: 40 * RATE])
    assert np.array_equal(libflac(second / "audio_user.flac"), audio[: 45 * RATE])
    assert soundfile.info(second / "audio_user.flac").frames == 45 * RATE

    loaded = SessionRecord.load(second)
    assert loaded.audio.user is not None
    assert loaded.audio.user.start == pd.Timestamp(T0, unit="us", tz="UTC")
    assert np.array_equal(loaded.audio.user.samples, audio[: 45 * RATE])
    assert [p.name for p in record.audio.files] == ["audio_user.flac"]
    # Two saves alive, so two complete files in the spool: each linked from one save, none changed since.
    assert sorted(p.stat().st_nlink for p in writer.folder.glob("user.*.flac")) == [2, 2]


def test_audio_changed_after_a_save_is_encoded_again(tmp_path: Path) -> None:
    audio = speechlike(20)
    record = SessionRecord()
    record_into(record, audio, 0, 12 * RATE)
    record.save(tmp_path / "s")
    writer = record.audio_writer
    assert writer is not None
    writer.cut("user", T0 + 9_000_000)  # playback stopped: what was never heard goes, though saved already
    record_into(record, audio, 12 * RATE, 14 * RATE)  # then more, after a pause
    folder = record.save(tmp_path / "s")
    expected = np.concatenate([audio[: 9 * RATE], np.zeros(3 * RATE, dtype=np.int16), audio[12 * RATE : 14 * RATE]])
    assert np.array_equal(libflac(folder / "audio_user.flac"), expected)
    loaded = SessionRecord.load(folder).audio.user
    assert loaded is not None
    assert np.array_equal(loaded.samples, expected)


def test_saves_to_two_folders_keep_each_whole(tmp_path: Path) -> None:
    audio = speechlike(12)
    record = SessionRecord()
    expected: dict[str, list[tuple[int, str]]] = {"a": [], "b": []}
    for step, name in enumerate(("a", "b", "a", "b", "a")):
        record_into(record, audio, step * 2 * RATE, (step + 1) * 2 * RATE)
        folder = record.save(tmp_path / name)
        expected[name].append(((step + 1) * 2 * RATE, digest(folder / "audio_user.flac")))
    writer = record.audio_writer
    assert writer is not None
    # The spool keeps the file each folder links and one more to write; nothing else.
    assert sorted(p.suffix for p in writer.folder.iterdir()) == [".flac", ".flac", ".flac", ".pcm"]
    for name, saves in expected.items():
        samples, checksum = saves[-1]
        path = tmp_path / name / "audio_user.flac"
        assert digest(path) == checksum
        assert np.array_equal(libflac(path), audio[:samples])


@pytest.mark.parametrize("failing", ["copying frames", "linking"])
def test_an_interrupted_save_leaves_the_previous_one_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    audio = speechlike(30)
    record = SessionRecord()
    record_into(record, audio, 0, 10 * RATE)
    folder = record.save(tmp_path / "s")
    before = digest(folder / "audio_user.flac")
    record_into(record, audio, 10 * RATE, 20 * RATE)

    def crash(*_: object) -> None:
        raise OSError(28, "No space left on device")

    if failing == "copying frames":
        real_copy = flac_cache._copy

        def half_then_crash(src: object, out: object, count: int) -> None:
            real_copy(src, out, count // 2)
            crash()

        monkeypatch.setattr(flac_cache, "_copy", half_then_crash)
    else:
        monkeypatch.setattr(flac_cache.os, "link", crash)
        monkeypatch.setattr(flac_cache.shutil, "copyfile", crash)
    with pytest.raises(OSError, match="No space"):
        record.save(folder)
    monkeypatch.undo()
    assert digest(folder / "audio_user.flac") == before
    loaded = SessionRecord.load(folder).audio.user
    assert loaded is not None
    assert np.array_equal(loaded.samples, audio[: 10 * RATE])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no half-written save left behind
    # The next save works, and is whole.
    record_into(record, audio, 20 * RATE, 21 * RATE)
    record.save(folder)
    assert np.array_equal(libflac(folder / "audio_user.flac"), audio[: 21 * RATE])


#: A kernel that saves once, then is killed halfway through its second save (while it appends the new frames).
KILLED_MID_SAVE = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np

    from realtime_widget import SessionRecord
    from realtime_widget.record import flac_cache

    folder, rate = Path(sys.argv[1]), 24_000
    audio = np.random.default_rng(0).integers(-3000, 3000, 20 * rate).astype(np.int16)
    record = SessionRecord()
    record.write_audio("user", audio[: 10 * rate].tobytes(), rate, 1_800_000_000_000_000)
    record.save(folder)
    record.write_audio("user", audio[10 * rate :].tobytes(), rate, 1_800_000_010_000_000)
    real_copy = flac_cache._copy

    def copy_half_then_wait(src, out, count):
        real_copy(src, out, count // 2)
        out.flush()
        print("halfway", flush=True)
        sys.stdin.read()  # until killed

    flac_cache._copy = copy_half_then_wait
    record.save(folder)
    """
)


def test_a_kernel_killed_mid_save_leaves_the_previous_save_whole(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "halfway"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    first_save = np.random.default_rng(0).integers(-3000, 3000, 20 * RATE).astype(np.int16)[: 10 * RATE]
    loaded = SessionRecord.load(folder).audio.user
    assert loaded is not None
    assert np.array_equal(loaded.samples, first_save)
    assert np.array_equal(libflac(folder / "audio_user.flac"), first_save)


def test_a_new_recorder_in_an_old_spool_folder_leaves_the_old_saves_alone(tmp_path: Path) -> None:
    audio = speechlike(6)
    old = SessionRecord()
    old.start_audio(tmp_path / "spool")
    record_into(old, audio, 0, 3 * RATE)
    old_save = old.save(tmp_path / "old")
    before = digest(old_save / "audio_user.flac")
    new = SessionRecord()
    new.start_audio(tmp_path / "spool")  # the same folder, its files left there by the first recorder
    record_into(new, speechlike(6, seed=1), 0, 6 * RATE)
    new.save(tmp_path / "new")
    assert digest(old_save / "audio_user.flac") == before
    assert np.array_equal(libflac(tmp_path / "new" / "audio_user.flac"), speechlike(6, seed=1))


def test_another_file_system_gets_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*_: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(flac_cache.os, "link", no_links)
    audio = speechlike(8)
    record = SessionRecord()
    record_into(record, audio, 0, 4 * RATE)
    record.save(tmp_path / "s")
    record_into(record, audio, 4 * RATE, 8 * RATE)
    folder = record.save(tmp_path / "s")
    assert (folder / "audio_user.flac").stat().st_nlink == 1
    assert np.array_equal(libflac(folder / "audio_user.flac"), audio)


def test_folders_saved_the_old_way_still_load(tmp_path: Path) -> None:
    """Before, each save encoded whole tracks with FFmpeg's FLAC muxer (its own STREAMINFO, a Vorbis comment);
    such a folder loads, and a loaded session saves again without encoding its audio again."""
    audio = speechlike(5)
    record = SessionRecord()
    record_into(record, audio, 0, 5 * RATE)
    folder = record.save(tmp_path / "s")
    track = AudioTrack("user", audio, RATE, pd.Timestamp(T0, unit="us", tz="UTC"))
    write_flac(track, folder / "audio_user.flac")  # what the previous version wrote
    loaded = SessionRecord.load(folder)
    assert loaded.audio.user is not None
    assert np.array_equal(loaded.audio.user.samples, audio)
    again = loaded.save(tmp_path / "again")
    assert "audio_user.flac" in loaded.summary()
    # Saved again as it was (linked, not encoded again), and loaded back the same.
    assert (again / "audio_user.flac").stat().st_ino == (folder / "audio_user.flac").stat().st_ino
    assert np.array_equal(libflac(again / "audio_user.flac"), audio)
    assert json.loads((again / "audio.json").read_text())["user"]["samples"] == len(audio)
    reloaded = SessionRecord.load(again).audio.user
    assert reloaded is not None
    assert reloaded.start == track.start
    assert np.array_equal(reloaded.samples, audio)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_recording_cuts_and_saves_always_save_what_was_recorded(tmp_path: Path, seed: int) -> None:
    """Chunks on time, late then hurried (silence put in, then taken back), cuts after a barge-in, saves to two
    folders in any order: every save holds exactly the recording as it was, and stays so while later ones are made."""
    rng = np.random.default_rng(seed)
    record = SessionRecord()
    clock_us = T0
    saved: dict[str, npt.NDArray[np.int16]] = {}
    for _ in range(30):
        action = rng.choice(["chunks", "late then hurried", "cut", "save"], p=[0.45, 0.2, 0.1, 0.25])
        if action == "chunks":
            for _ in range(int(rng.integers(1, 40))):
                record.write_audio("user", speechlike(0.1, seed=int(rng.integers(1 << 30))).tobytes(), RATE, clock_us)
                clock_us += 100_000
        elif action == "late then hurried":
            record.write_audio("user", speechlike(0.1, seed=1).tobytes(), RATE, clock_us + 15_000)
            clock_us += 100_000
            record.write_audio("user", speechlike(0.1, seed=2).tobytes(), RATE, clock_us)
            clock_us += 100_000
        elif action == "cut" and record.audio_writer is not None:
            clock_us -= int(rng.integers(0, 3_000_000))
            record.audio_writer.cut("user", clock_us)
        elif action == "save" and record.audio.user is not None:
            name = str(rng.choice(["a", "b"]))
            record.save(tmp_path / name)
            saved[name] = np.array(record.audio.user.samples)
            for other, samples in saved.items():
                assert np.array_equal(libflac(tmp_path / other / "audio_user.flac"), samples), other
    for name, samples in saved.items():
        loaded = SessionRecord.load(tmp_path / name).audio.user
        assert loaded is not None
        assert np.array_equal(loaded.samples, samples)
