"""The real API's timing in JupyterLab, over real WebRTC with the fake microphone: replies are generated faster
than they are heard, so a barge-in comes after response.done; a tool's follow-up waits for a VAD-started
response; a refused live update rolls back; an image turn is answered.

The microphone says its phrase every eleven seconds (2.5 s of silence, the phrase, 6 s of silence, in a loop).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .harness import RECENT_EVENTS, JupyterLab
from .lab_page import WIDGET, LabPage, click_connect, opened_widget
from .notebooks import write_notebook

pytestmark = pytest.mark.e2e

#: About eleven seconds of speech: generated in under three, still playing when the next phrase comes.
LONG_REPLY = " ".join(["The north region had a strong month and sales rose in every store we track."] * 2)


def test_a_barge_in_after_the_reply_was_generated_is_counted_and_the_transcript_cut(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> None:
    name = write_notebook(
        lab.root_dir,
        "barge_in.ipynb",
        "from realtime_widget import RealtimeWidget\nwidget = RealtimeWidget()\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        local_server.script([{"say": LONG_REPLY}, {"say": "Go ahead."}], call_id=kernel.value("widget.call_id"))
        # The next phrase of the microphone cuts the long reply off while it plays.
        kernel.wait_until("widget.record.transcript.interrupted.any()", timeout=90, explain=RECENT_EVENTS)
        cut = kernel.value("widget.record.transcript.query('interrupted').iloc[0].to_dict()")
        assert cut["generated_text"] == LONG_REPLY
        assert LONG_REPLY.startswith(cut["text"])
        assert len(cut["text"]) < len(LONG_REPLY)  # what was heard, not what was generated
        turn = kernel.value(
            f"widget.record.turns.query('response_id == {json.dumps(_response_of(kernel, cut['item_id']))}')"
            ".iloc[0].to_dict()"
        )
        assert turn["interrupted"] is True
        assert turn["status"] == "completed"  # generation had ended: nothing was left to cancel
        assert 0 < turn["speaking_ms"] == cut["audio_end_ms"]
        # The local server counts 20 audio tokens a second of generated audio (usage.py): 50 ms a token.
        usage = "widget.record.usage.set_index('response_id').output_audio_tokens"
        generated_ms = kernel.value(f"int({usage}[{json.dumps(turn['response_id'])}]) * 50")
        assert turn["speaking_ms"] < generated_ms  # less was heard than was generated
        order = kernel.value(
            "list(widget.record.events.query(\"type in ['response.done', 'output_audio_buffer.cleared'] and "
            f'response_id == {turn["response_id"]!r}").type)'
        )
        assert order == ["response.done", "output_audio_buffer.cleared"]
        entry = lab_page.page.locator(f"{WIDGET} [data-testid=transcript] [data-interrupted=true]").first
        entry.wait_for(timeout=30_000)
        lab_page.page.locator(WIDGET).first.screenshot(path=str(artifacts / "barge-in.png"))
        assert kernel.value("len(widget.record.validate())") == 0


def _response_of(kernel: object, item_id: str) -> str:
    value: str = kernel.value(  # type: ignore[attr-defined]
        f"widget.record.transcript.query('item_id == {json.dumps(item_id)}').response_id.iloc[0]"
    )
    return value


def test_a_tool_follow_up_waits_for_the_response_the_microphone_started(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    # The tool finishes while a VAD-started reply is being generated: its follow-up response.create must wait
    # for that response (the API would refuse it with conversation_already_has_active_response).
    name = write_notebook(
        lab.root_dir,
        "tool_follow_up.ipynb",
        "import threading\n"
        "from realtime_widget import RealtimeWidget, tool\n"
        "created = []\n"
        "second_response = threading.Event()\n"
        "@tool\n"
        "def lookup(region: str) -> str:\n"
        '    """Looks a region up."""\n'
        "    second_response.wait(60)\n"
        "    return f'{region}: 42'\n",
        "widget = RealtimeWidget(tools=[lookup])\n"
        "def on_created(event):\n"
        "    created.append(event['response']['id'])\n"
        "    if len(created) >= 2:\n"
        "        second_response.set()\n"
        "widget.on('response.created', on_created)\n"
        "widget",
    )
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        after_tool = "The north has 42."
        script = [
            {"call_tool": {"name": "lookup", "arguments": {"region": "north"}}},
            {"say": LONG_REPLY},
            {"say": after_tool},
        ]
        local_server.script(script, call_id=kernel.value("widget.call_id"))
        kernel.run("widget.send_text('Look up the north.', respond=True)")
        kernel.wait_until(f"(widget.record.transcript.text == {after_tool!r}).any()", timeout=90)
        problems = kernel.value("list(widget.record.problems.code)")
        assert "conversation_already_has_active_response" not in problems
        events = kernel.value(
            "widget.record.events.query(\"type in ['response.create', 'response.done']\")"
            "[['time', 'direction', 'type', 'response_id']].astype(str).to_dict('records')"
        )
        vad_response = kernel.value("created[1]")
        vad_done = next(e["time"] for e in events if e["type"] == "response.done" and e["response_id"] == vad_response)
        follow_up = [e["time"] for e in events if e["direction"] == "client" and e["type"] == "response.create"][-1]
        assert follow_up > vad_done  # held until the response the microphone started was done


def test_a_refused_live_update_rolls_back_and_an_image_turn_is_answered(
    lab_page: LabPage, lab: JupyterLab, local_server: LocalServer
) -> None:
    name = write_notebook(
        lab.root_dir,
        "live_update.ipynb",
        "from realtime_widget import RealtimeWidget\n"
        "widget = RealtimeWidget(voice='marin', turn_detection=None)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        local_server.script([{"say": "Hello there."}], call_id=kernel.value("widget.call_id"))
        kernel.run("widget.send_text('Hi.')")
        kernel.wait_until("(widget.record.events.type == 'output_audio_buffer.started').any()", timeout=30)
        # The assistant has spoken: the API refuses a voice change now, and the config must not drift.
        kernel.run("update = widget.update_session(voice='cedar', instructions='Be brief.')")
        kernel.wait_until("update.done", timeout=30)
        assert kernel.value("update.refusal.code") == "cannot_update_voice"
        assert kernel.value("widget.config.voice") == "marin"
        assert kernel.value("widget.settings['voice']") == "marin"
        notice = lab_page.page.locator(f"{WIDGET} [data-testid=notice][data-code=cannot_update_voice]")
        notice.wait_for(timeout=30_000)
        # An image turn: the local server says what it was shown.
        kernel.run("from PIL import Image\nwidget.send_image(Image.new('RGB', (64, 48), 'teal'), 'What is this?')")
        kernel.wait_until("widget.record.transcript.text.str.startswith('I see a 64 by 48 PNG').any()", timeout=30)
        lab_page.page.locator(f"{WIDGET} [data-testid=transcript]").get_by_text("I see a 64 by 48 PNG").first.wait_for(
            timeout=30_000
        )
        assert kernel.value("widget.status") == "connected"
        assert kernel.value("len(widget.record.validate())") == 0


def test_a_custom_voice_and_tuned_vad_go_to_the_api_as_objects(lab_page: LabPage, lab: JupyterLab) -> None:
    name = write_notebook(
        lab.root_dir,
        "custom_voice.ipynb",
        "from realtime_widget import RealtimeWidget\n"
        "vad = {'type': 'server_vad', 'threshold': 0.7, 'silence_duration_ms': 700}\n"
        "widget = RealtimeWidget(voice={'id': 'voice_1234'}, turn_detection=vad)\nwidget",
    )
    with opened_widget(lab_page, name) as kernel:
        click_connect(lab_page, kernel)
        # The key was minted with them, so the session the call made has them (no session.update on connect).
        created = "widget.record.events.query(\"type == 'session.created'\").payload"
        kernel.wait_until(f"len({created}) > 0")
        audio = kernel.value(f"__import__('json').loads({created}.iloc[-1])['session']['audio']")
        assert audio["output"]["voice"] == {"id": "voice_1234"}  # the object, not the id the UI shows
        # The whole tuned object, never a bare {"type"} that could reset the thresholds to the API's defaults.
        assert {k: audio["input"]["turn_detection"][k] for k in ("type", "threshold", "silence_duration_ms")} == {
            "type": "server_vad",
            "threshold": 0.7,
            "silence_duration_ms": 700,
        }
        kernel.run("widget.send_text('Say something.')")
        kernel.wait_until("(widget.record.events.type == 'response.done').any()", timeout=30)
        assert kernel.value("len(widget.record.problems)") == 0
        assert kernel.value("len(widget.record.validate())") == 0
