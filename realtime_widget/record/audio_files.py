"""Recorded audio as standard files: one FLAC file per side, and ``audio.json`` placing each on the record's clock.

FLAC rather than Ogg Opus: it is lossless, so a saved and reloaded session measures exactly the acoustic latency the
live one did (Opus would resample to 48 kHz, add its pre-skip and smear the onsets the measurement looks for), and
every player opens it. The cost is size: about 0.8 MB a minute per side of a conversation at 24 kHz, against about
0.16 MB for Opus at 32 kbit/s (benchmarks/record_audio.py); an hour of both sides is about 100 MB.

A recording being made is saved through flac_cache.py (only the new audio encoded on each save, the file assembled
from frames encoded at different times); :func:`write_flac` encodes a whole track at once (a loaded session saved
again, or audio handed in as tracks). Both make standard FLAC files, and :func:`read_flac` reads either (and the
files of earlier versions, which were all written whole).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np
import numpy.typing as npt
import pandas as pd

from realtime_widget.record.audio_track import AudioSide, AudioTrack

__all__ = ["AUDIO_META", "Placement", "read_flac", "read_meta", "read_placements", "write_flac", "write_meta"]

#: The file naming each side's audio file, sample rate and start time.
AUDIO_META = "audio.json"
#: Samples encoded per frame: bounds the memory a save of an hour-long side needs to one block.
_BLOCK = 1 << 16


def file_name(side: AudioSide) -> str:
    return f"audio_{side}.flac"


def write_flac(track: AudioTrack, path: Path) -> None:
    """Encode ``track`` to a FLAC file, a block at a time (a mapped spool file is never read whole)."""
    with av.open(str(path), "w", format="flac") as container:
        stream: Any = container.add_stream("flac", rate=track.sample_rate, layout="mono")
        stream.format = "s16"
        for pts, block in _blocks(track.samples):
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = track.sample_rate
            frame.pts = pts
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _blocks(samples: npt.NDArray[np.int16]) -> Iterator[tuple[int, npt.NDArray[np.int16]]]:
    for start in range(0, len(samples), _BLOCK):
        yield start, np.ascontiguousarray(samples[start : start + _BLOCK], dtype=np.int16)


def read_flac(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """A mono audio file's samples as int16 and its sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = int(stream.rate or 0)
        pieces = [_mono_s16(frame) for frame in container.decode(stream)]
    return (np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)), rate


def _mono_s16(frame: av.AudioFrame) -> npt.NDArray[np.int16]:
    array = np.asarray(frame.to_ndarray())
    if array.dtype != np.int16:  # a decoder that gives floats or 32-bit samples (another encoder's file)
        scale = 32767.0 if np.issubdtype(array.dtype, np.floating) else 1.0 / 65536.0
        array = np.clip(np.rint(array.astype(np.float64) * scale), -32768, 32767).astype(np.int16)
    return np.asarray(array.reshape(-1) if array.shape[0] == 1 else array[0], dtype=np.int16)


class Placement(NamedTuple):
    """What ``audio.json`` says of one side's file: its length, its rate, and when its first sample sounded."""

    samples: int
    sample_rate: int
    start: pd.Timestamp


def write_meta(placed: dict[AudioSide, Placement], folder: Path) -> None:
    meta = {
        side: {
            "file": file_name(side),
            "sample_rate": place.sample_rate,
            "samples": place.samples,
            "start_us": int(place.start.value // 1000),
        }
        for side, place in placed.items()
    }
    (folder / AUDIO_META).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def read_meta(text: str) -> dict[AudioSide, tuple[str, pd.Timestamp]]:
    """Each side's file name and start time, from the text of ``audio.json``."""
    meta = json.loads(text)
    if not isinstance(meta, dict):
        raise ValueError("not an object")
    placed: dict[AudioSide, tuple[str, pd.Timestamp]] = {}
    for side in ("user", "assistant"):
        entry = meta.get(side)
        if entry is None:
            continue
        name = str(entry["file"])
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{side}: the file must sit in the session folder; got {name!r}")
        placed[side] = (name, pd.Timestamp(int(entry["start_us"]), unit="us", tz="UTC"))
    return placed


def read_placements(text: str) -> dict[AudioSide, Placement]:
    """What ``audio.json`` says of each side's file (length, rate, start), for the sides that say it all; the text
    was checked by :func:`read_meta`."""
    meta = json.loads(text)
    placed: dict[AudioSide, Placement] = {}
    for side in ("user", "assistant"):
        entry = meta.get(side)
        if isinstance(entry, dict) and isinstance(entry.get("samples"), int) and entry.get("sample_rate"):
            start = pd.Timestamp(int(entry["start_us"]), unit="us", tz="UTC")
            placed[side] = Placement(int(entry["samples"]), int(entry["sample_rate"]), start)
    return placed
