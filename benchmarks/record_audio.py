"""Recorded audio: kernel memory and disk over an accelerated 60-minute recorded session, and FLAC against Ogg Opus.

Both sides are written through ``SessionRecord.write_audio`` as the browser path will (100 ms chunks of 24 kHz mono
PCM16, each stamped on the record's clock), as fast as the machine allows: an hour of audio in well under a minute.
The sound is eSpeak NG speech (the ``speech`` extra) in turns with pauses, so the compressed sizes are those of
speech, not of a test tone. Memory is ``tracemalloc``'s peak while writing and reading back (the chunks are built
before tracing starts; the spool files are mapped, not loaded). Prints tables; never asserts.

    python benchmarks/record_audio.py [--minutes 60] [--opus-minutes 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--opus-minutes", type=float, default=5.0)
    args = parser.parse_args()
    user_minute, reply_minute = speech_turns()
    step = RATE * CHUNK_MS // 1000
    chunks = [
        (user_minute[i : i + step].tobytes(), reply_minute[i : i + step].tobytes()) for i in range(0, 60 * RATE, step)
    ]
    total_chunks = int(args.minutes * 60_000 / CHUNK_MS)
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
        began = time.perf_counter()
        turns = record.turns  # reads both sides for the acoustic latency (no turns here: the cost of a look)
        duration = audio.user.duration_s
        _, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        spool = sum(p.stat().st_size for p in (folder / "spool").iterdir())
        began = time.perf_counter()
        saved = record.save(folder / "session")
        save_s = time.perf_counter() - began
        flac = {side: (saved / f"audio_{side}.flac").stat().st_size for side in ("user", "assistant")}
        minutes = duration / 60.0
        del turns

        print(f"\nRecorded session of {minutes:.0f} min, both sides at {RATE} Hz in {CHUNK_MS} ms chunks\n")
        print("| what | value |")
        print("|---|---:|")
        print(f"| comm, PCM16 per side (bytes/min) | {total_chunks * len(chunks[0][0]) / minutes:,.0f} |")
        print(f"| spool on disk while recording, both sides (MB/min) | {spool / MB / minutes:.2f} |")
        print(f"| writing: audio time / wall time | {duration / write_s:,.0f}x real time |")
        print(f"| kernel memory peak while writing (tracemalloc, MB) | {write_peak / MB:.2f} |")
        print(f"| kernel memory peak reading both sides back (MB) | {read_peak / MB:.2f} |")
        print(f"| save both sides as FLAC (s) | {save_s:.1f} |")
        for side, size in flac.items():
            print(f"| FLAC {side} (MB/min) | {size / MB / minutes:.2f} |")

        opus_track = AudioTrack("assistant", np.tile(reply_minute, int(args.opus_minutes)), RATE, audio.user.start)
        flac_path, opus_path = folder / "cmp.flac", folder / "cmp.opus"
        write_flac(opus_track, flac_path)
        print(f"\nFLAC against Ogg Opus, the assistant side ({args.opus_minutes:g} min of speech)\n")
        print("| format | MB/min | ratio to FLAC |")
        print("|---|---:|---:|")
        flac_size = flac_path.stat().st_size
        print(f"| FLAC (lossless) | {flac_size / MB / args.opus_minutes:.3f} | 1.00 |")
        for bitrate in (24_000, 32_000, 64_000):
            size = opus_bytes(opus_track, opus_path, bitrate)
            print(
                f"| Ogg Opus {bitrate // 1000} kbit/s | {size / MB / args.opus_minutes:.3f} | {size / flac_size:.2f} |"
            )


if __name__ == "__main__":
    main()
