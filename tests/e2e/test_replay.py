"""The replay view on a real session, loaded in a fresh kernel in real JupyterLab and real Chromium: a headless
session against the local server (a spoken question, a tool call, a barge-in) is saved with both sides' audio
(eSpeak NG speech placed where it sounded), then replayed. The marks must match the record's turns, the
waveforms must be drawn, a click must play from the clicked second, and space must pause; screenshots in light
and dark are saved for a person to judge."""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from realtime_widget import Session, SessionRecord, tool
from realtime_widget.server.launcher import LocalServer
from realtime_widget.server.pcm import SAMPLE_RATE
from realtime_widget.server.voice.tts import EspeakSynthesizer

from .harness import JupyterLab, run_on_own_loop
from .lab_page import LabPage, shoot_states
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

REPLAY = ".rtw-replay"
TYPED_MARKUP = "tell me everything <b>now</b><script>window.injected = 1</script>"
QUESTION = "what are the total sales in the north"
LONG_REPLY = (
    "Here is a long answer, so that there is time to cut in. The north sold a great deal this quarter, "
    "more than the south and the west together. Shall I go on with the details?"
)


@tool
def total_sales(region: str) -> float:
    """Total sales of a region, in dollars.

    Args:
        region: north, south, east or west.
    """
    return {"north": 1250.5}.get(region, 42.0)


Placed = list[tuple[float, npt.NDArray[np.int16]]]  # (epoch ms of the first sample, samples)


async def record_session(server: LocalServer) -> tuple[SessionRecord, Placed]:
    """A real three-turn session; returns its record and the user's speech as it was sent."""
    speak = EspeakSynthesizer()
    spoken: Placed = []
    session = Session(transport="websocket", api_key=server.api_key, base_url=server.base_url, tools=[total_sales])
    await session.connect()
    try:
        question = speak.synthesize(QUESTION, "alloy").samples
        said = await session.say(question)
        spoken.append((said.started_ms, question))
        await session.wait_for_reply()
        await session.send_text("use the tool: " + QUESTION)
        await session.wait_for_reply()
        calls = await asyncio.to_thread(server.calls)
        call_id = next(c["call_id"] for c in calls if c.get("session_id") == session.api_session_id)
        await asyncio.to_thread(server.script, [{"say": LONG_REPLY}], call_id)
        await session.send_text(TYPED_MARKUP)
        stop = speak.synthesize("stop please", "alloy").samples
        cut_in = await session.interrupt(stop, after_ms=1500)
        spoken.append((cut_in.started_ms, stop))
        await session.wait_for_reply()
    finally:
        await session.close()
    return session.record, spoken


def assistant_speech(record: SessionRecord) -> Placed:
    """Each reply spoken by eSpeak from the moment the record says it started sounding, cut where it was cut."""
    speak = EspeakSynthesizer()
    placed: Placed = []
    for row in record.transcript.query("role == 'assistant'").itertuples():
        text = row.generated_text if isinstance(row.generated_text, str) and row.generated_text else row.text
        samples = speak.synthesize(str(text), "marin").samples
        if row.interrupted and not pd.isna(row.audio_end_ms):
            samples = samples[: int(row.audio_end_ms * SAMPLE_RATE / 1000)]
        placed.append((row.started.timestamp() * 1000, samples))
    return placed


def write_track(folder: Path, side: str, placed: Placed) -> str:
    """Mixes the pieces onto one silent track from the first piece's start; writes ``<side>.wav``, returns the
    start as ISO text."""
    first = min(start for start, _ in placed)
    offsets = [round((start - first) * SAMPLE_RATE / 1000) for start, _ in placed]
    track = np.zeros(max(o + len(s) for o, (_, s) in zip(offsets, placed, strict=True)), dtype=np.int32)
    for offset, (_, samples) in zip(offsets, placed, strict=True):
        track[offset : offset + len(samples)] += samples
    with wave.open(str(folder / f"{side}.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.clip(track, -32768, 32767).astype(np.int16).tobytes())
    return pd.Timestamp(first, unit="ms", tz="UTC").isoformat()


LOAD_AND_REPLAY = """\
import json, wave
import numpy as np, pandas as pd
import realtime_widget
from realtime_widget import SessionRecord
from realtime_widget.record.audio_track import AudioTrack

record = SessionRecord.load("replay-session")
starts = json.loads(open("replay-session/audio-starts.json").read())

def track(side):
    with wave.open(f"replay-session/{side}.wav") as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return AudioTrack(side, samples, w.getframerate(), pd.Timestamp(starts[side]))

view = record.replay(audio={"user": track("user"), "assistant": track("assistant")})
view"""


def mark_facts(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """(sel) => {
                const root = document.querySelector(sel);
                const all = (css) => Array.from(root.querySelectorAll(css));
                return {
                    turns: all('.rtw-replay-turn').map(e => [Number(e.dataset.turn), Number(e.dataset.start)]),
                    turnLabels: all('.rtw-replay-turn-label').map(e => e.textContent),
                    utterances: all('.rtw-replay-utterance').map(e => [e.dataset.side, e.title]),
                    flags: all('.rtw-replay-flag').map(e => [e.dataset.kind, e.textContent]),
                    inked: ['user', 'assistant'].map(side => {
                        const c = root.querySelector(`[data-side=${side}] canvas`);
                        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                        let n = 0;
                        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                        return n;
                    }),
                    markup: root.querySelectorAll('.rtw-replay-utterance b, .rtw-replay-utterance script').length,
                };
            }""",
            REPLAY,
        )
    )


def recorded_session(server: LocalServer) -> tuple[SessionRecord, Placed]:
    """:func:`record_session` off the test's thread, where Playwright's sync API already runs a loop."""
    return run_on_own_loop(record_session(server), "record-session")


def check_marks(page: Any, saved: SessionRecord, starts: dict[str, str]) -> None:
    """The marks are the record's: its turns at their times, its transcript, its tool call and interruption; and
    both waveforms are drawn."""
    facts = mark_facts(page)
    turns = saved.turns
    assert [t for t, _ in facts["turns"]] == turns["turn"].tolist()
    origin = min(saved.events["time"].min(), pd.Timestamp(starts["user"]), pd.Timestamp(starts["assistant"]))
    expected = [(t - origin).total_seconds() for t in turns["speech_stopped"].fillna(turns["response_created"])]
    assert [s for _, s in facts["turns"]] == pytest.approx(expected, abs=0.002)
    assert any("interrupted" in label for label in facts["turnLabels"])
    assert sorted(facts["utterances"]) == sorted(saved.transcript[["role", "text"]].values.tolist())
    assert ["tool", "total_sales"] in facts["flags"]
    assert any(kind == "interruption" for kind, _ in facts["flags"])
    assert all(n > 0 for n in facts["inked"]), facts["inked"]
    # Transcript text is shown as text: the typed markup is in the label, and no element came of it.
    assert ["user", TYPED_MARKUP] in facts["utterances"]
    assert facts["markup"] == 0
    assert page.evaluate("() => window.injected") is None


def current_time(page: Any) -> float:
    return float(page.get_attribute(REPLAY, "data-current-time"))


def test_a_loaded_session_replays_in_a_fresh_kernel(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    record, spoken = recorded_session(local_server)
    folder = record.save(lab.root_dir / "replay-session")
    starts = {
        "user": write_track(folder, "user", spoken),
        "assistant": write_track(folder, "assistant", assistant_speech(record)),
    }
    (folder / "audio-starts.json").write_text(json.dumps(starts))
    saved = SessionRecord.load(folder)

    name = write_notebook(lab.root_dir, "replay.ipynb", LOAD_AND_REPLAY)
    page = lab_page.page
    page.set_viewport_size({"width": 1280, "height": 1000})
    lab_page.open_notebook(name)
    lab_page.run_all_cells()
    page.wait_for_selector(f"{REPLAY}[data-peaks-drawn][data-state=paused]", timeout=60_000)
    lab_page.wait_kernel_idle()
    kernel = lab.kernel_client(name)
    try:
        # The fresh kernel imports this checkout, and has no connection of any kind.
        assert Path(kernel.value("realtime_widget.__file__")).is_relative_to(Path(__file__).resolve().parents[2])
        assert kernel.value("len(view.tracks)") == 2
    finally:
        kernel.close()

    check_marks(page, saved, starts)

    shots = shoot_states(lab_page, artifacts, "replay", widget=REPLAY)
    assert all(path.stat().st_size > 0 for path in shots.values())

    # Click on the assistant's lane a little after its first reply began: playback starts from that second.
    reply = page.locator(f"{REPLAY} .rtw-replay-utterance[data-side=assistant]").first
    box = reply.bounding_box()
    tracks = page.locator(f"{REPLAY} [data-testid=tracks]").bounding_box()
    x = box["x"] + 6
    page.mouse.click(x, box["y"] + box["height"] / 2)
    start, end = (float(page.get_attribute(REPLAY, a)) for a in ("data-view-start", "data-view-end"))
    clicked = start + (x - tracks["x"]) / tracks["width"] * (end - start)
    page.wait_for_selector(f"{REPLAY}[data-state=playing]", timeout=30_000)
    first = current_time(page)
    # A pixel of this view is about 20 ms; where within it the click lands is the click's own rounding.
    pixel_s = (end - start) / tracks["width"]
    assert clicked - pixel_s - 0.01 <= first < clicked + 2.0, (clicked, first)
    page.wait_for_function(
        "([sel, t]) => Number(document.querySelector(sel).dataset.currentTime) > t + 0.5", arg=[REPLAY, first]
    )
    playhead_x = page.locator(f"{REPLAY} [data-testid=playhead]").bounding_box()["x"]
    assert playhead_x > x  # the playhead moved on from the click

    # Space pauses, and the playhead then stays put.
    page.keyboard.press("Space")
    page.wait_for_selector(f"{REPLAY}[data-state=paused]")
    paused = current_time(page)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert current_time(page) == paused
    assert page.locator(f"{REPLAY} [data-testid=play]").inner_text().endswith("Play")

    # Zooming in asks the kernel for finer peaks of the shorter window.
    drawn = page.get_attribute(REPLAY, "data-peaks-drawn")
    page.click(f"{REPLAY} [data-testid=zoom-in]")
    page.wait_for_function("([sel, n]) => document.querySelector(sel).dataset.peaksDrawn !== n", arg=[REPLAY, drawn])
    zoomed = [float(page.get_attribute(REPLAY, a)) for a in ("data-view-start", "data-view-end")]
    assert zoomed[1] - zoomed[0] == pytest.approx((end - start) / 2, rel=0.01)
    assert start <= paused <= end
