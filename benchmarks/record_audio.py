"""Recorded audio: kernel memory and disk over an accelerated 60-minute recorded session, and FLAC against Ogg Opus.

Both sides are written through ``SessionRecord.write_audio`` as the browser path will (100 ms chunks of 24 kHz mono
PCM16, each stamped on the record's clock), as fast as the machine allows: an hour of audio in well under a minute.
The sound is eSpeak NG speech (the ``speech`` extra) in turns with pauses, so the compressed sizes are those of
speech, not of a test tone. Memory is ``tracemalloc``'s peak while writing and reading back (the chunks are built
before tracing starts; the spool files are mapped, not loaded). Prints tables; never asserts.

    python benchmarks/record_audio.py [--minutes 60] [--opus-minutes 5]

``run(quick)`` is what ``python -m benchmarks`` calls: 60 minutes (``quick``: 10).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.table import Table, ratio
from realtime_widget.record import SessionRecord
from realtime_widget.record.audio_files import write_flac
from realtime_widget.record.audio_track import AudioTrack

RATE = 24_000
CHUNK_MS = 100
MB = 1024 * 1024
T0_US = 1_800_000_000_000_000


def speech_turns() -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """One minute of each side: the user speaks while the assistant is silent, then the other way round."""
    try:
        from realtime_widget.headless.user_audio import espeak

        say = espeak()
        user = say("what are the total sales in the north, and how do they compare with last quarter")
        reply = say("the north sold twelve thousand dollars this quarter, a little more than the quarter before")
    except RuntimeError:  # no eSpeak NG: noise bursts stand in for speech (compressed sizes will be pessimistic)
        rng = np.random.default_rng(0)
        user = (rng.standard_normal(RATE * 4) * 3000).astype(np.int16)
        reply = (rng.standard_normal(RATE * 5) * 3000).astype(np.int16)
    gap = np.zeros(RATE // 2, dtype=np.int16)
    turn = len(user) + len(gap) + len(reply) + len(gap)
    user_side = np.concatenate([user, np.zeros(turn - len(user), dtype=np.int16)])
    reply_side = np.concatenate([np.zeros(len(user) + len(gap), dtype=np.int16), reply, gap])
    repeats = -(-60 * RATE // turn)
    return np.tile(user_side, repeats)[: 60 * RATE], np.tile(reply_side, repeats)[: 60 * RATE]


def opus_bytes(track: AudioTrack, path: Path, bitrate: int) -> int:
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000, layout="mono")
        stream.bit_rate = bitrate
        resampled = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for start in range(0, len(track.samples), RATE):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(track.samples[start : start + RATE]).reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = RATE
            frame.pts = start
            for out in resampled.resample(frame):
                for packet in stream.encode(out):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path.stat().st_size


def measure(minutes: float, opus_minutes: float) -> list[Table]:
    """Writes ``minutes`` of both sides, reads them back and saves them; then compares FLAC with Ogg Opus over
    ``opus_minutes`` of the assistant's speech."""
    user_minute, reply_minute = speech_turns()
    step = RATE * CHUNK_MS // 1000
    chunks = [
        (user_minute[i : i + step].tobytes(), reply_minute[i : i + step].tobytes()) for i in range(0, 60 * RATE, step)
    ]
    total_chunks = int(minutes * 60_000 / CHUNK_MS)
    command = f"python benchmarks/record_audio.py --minutes {minutes:g} --opus-minutes {opus_minutes:g}"
    with tempfile.TemporaryDirectory(prefix="record-audio-bench-") as tmp:
        folder = Path(tmp)
        record = SessionRecord()
        record.start_audio(folder / "spool")
        tracemalloc.start()
        began = time.perf_counter()
        for n in range(total_chunks):
            user, reply = chunks[n % len(chunks)]
            at = T0_US + n * CHUNK_MS * 1000
            record.write_audio("user", user, RATE, at)
            record.write_audio("assistant", reply, RATE, at)
        write_s = time.perf_counter() - began
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        audio = record.audio
        assert audio.user is not None
        assert audio.assistant is not None
        turns = record.turns  # reads both sides for the acoustic latency (no turns here: the cost of a look)
        duration = audio.user.duration_s
        _, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        spool = sum(p.stat().st_size for p in (folder / "spool").iterdir())
        began = time.perf_counter()
        saved = record.save(folder / "session")
        save_s = time.perf_counter() - began
        flac = {side: (saved / f"audio_{side}.flac").stat().st_size for side in ("user", "assistant")}
        length = duration / 60.0
        del turns

        session = Table(
            f"Recorded audio in the kernel: a {length:.0f}-minute session",
            command,
            ["what", "value"],
            notes=[
                f"Both sides at {RATE} Hz in {CHUNK_MS} ms chunks through `SessionRecord.write_audio`, as fast as "
                "the machine allows (eSpeak NG speech in turns with pauses, so compressed sizes are those of "
                "speech). Memory is tracemalloc's peak (the spool files are mapped, not loaded); the save encodes "
                "both sides as FLAC from scratch (benchmarks/audio_save.py measures saves that encode only what is "
                "new)."
            ],
        )
        session.add("comm, PCM16 per side (bytes/min)", f"{total_chunks * len(chunks[0][0]) / length:,.0f}")
        session.add("spool on disk while recording, both sides (MB/min)", f"{spool / MB / length:.2f}")
        session.add("writing: audio time / wall time", f"{duration / write_s:,.0f}x real time")
        session.add("kernel memory peak while writing (tracemalloc, MB)", f"{write_peak / MB:.2f}")
        session.add("kernel memory peak reading both sides back (MB)", f"{read_peak / MB:.2f}")
        session.add("save both sides as FLAC (s)", f"{save_s:.1f}")
        for side, size in flac.items():
            session.add(f"FLAC {side} (MB/min)", f"{size / MB / length:.2f}")

        opus_track = AudioTrack("assistant", np.tile(reply_minute, max(1, int(opus_minutes))), RATE, audio.user.start)
        flac_path, opus_path = folder / "cmp.flac", folder / "cmp.opus"
        write_flac(opus_track, flac_path)
        formats = Table(
            f"Recorded audio: FLAC against Ogg Opus ({opus_minutes:g} min of the assistant's speech)",
            command,
            ["format", "MB/min", "ratio to FLAC"],
            notes=["Why the record keeps FLAC: lossless, and a known size beside what a lossy codec would save."],
        )
        flac_size = flac_path.stat().st_size
        formats.add("FLAC (lossless)", f"{flac_size / MB / opus_minutes:.3f}", "1.00")
        for bitrate in (24_000, 32_000, 64_000):
            size = opus_bytes(opus_track, opus_path, bitrate)
            formats.add(f"Ogg Opus {bitrate // 1000} kbit/s", f"{size / MB / opus_minutes:.3f}", ratio(size, flac_size))
    return [session, formats]


def run(quick: bool) -> list[Table]:
    """What ``python -m benchmarks`` runs: a 60-minute session and 5 minutes of Opus (10 and 1 with ``quick``)."""
    return measure(10.0, 1.0) if quick else measure(60.0, 5.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--opus-minutes", type=float, default=5.0)
    args = parser.parse_args()
    for table in measure(args.minutes, args.opus_minutes):
        print(table.markdown(), end="\n\n")


if __name__ == "__main__":
    main()
