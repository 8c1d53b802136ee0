"""One test per client event, driving the engine directly (no transport): the events it answers with, in order."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.protocol import CLIENT_EVENT_TYPES
from tests.server.clients import EngineHarness

Make = Callable[..., EngineHarness]

TEXT_ONLY = {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}


def user_text(text: str, **extra: object) -> dict[str, object]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
        **extra,
    }


def pcm_b64(samples: np.ndarray) -> str:  # type: ignore[type-arg]
    return base64.b64encode(samples.astype("<i2").tobytes()).decode()


def tone(ms: int, level: float = 0.3) -> np.ndarray:  # type: ignore[type-arg]
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 300 * t) * level * 32767).astype(np.int16)


def silence(ms: int) -> np.ndarray:  # type: ignore[type-arg]
    return np.zeros(24 * ms, dtype=np.int16)


def session_update(**session: object) -> dict[str, object]:
    """A ``session.update`` of a realtime session with these fields."""
    return {"type": "session.update", "session": {"type": "realtime", **session}}


TEXT_WITH_WHISPER = session_update(
    output_modalities=["text"], audio={"input": {"transcription": {"model": "whisper-1"}}}
)


async def append(h: EngineHarness, *chunks: np.ndarray) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    """Append each chunk of samples to the input buffer in turn; return the events the last one caused."""
    out: list[dict[str, Any]] = []
    for samples in chunks:
        out = await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(samples)})
    return out


async def test_every_client_event_of_the_api_has_a_handler(harness: Make) -> None:
    # The engine routes through an explicit table; an event type the SDK defines but the table lacks would fail.
    assert harness().engine.handled_event_types == CLIENT_EVENT_TYPES


async def test_session_created_first(harness: Make) -> None:
    h = harness()
    assert h.types() == ["session.created"]
    assert h.events[0]["session"]["object"] == "realtime.session"


async def test_session_update_merges_partial_updates(harness: Make) -> None:
    h = harness()
    await h.send({"type": "session.update", "session": {"type": "realtime", "instructions": "A"}})
    out = await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"voice": "marin"}}}}
    )
    session = out[-1]["session"]
    assert out[-1]["type"] == "session.updated"
    assert session["instructions"] == "A"
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "marin",
        "speed": 1.0,
    }
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"


async def test_session_update_turn_detection_type_change_replaces_it(harness: Make) -> None:
    h = harness()
    out = await h.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}},
            },
        }
    )
    turn = out[-1]["session"]["audio"]["input"]["turn_detection"]
    assert turn == {"type": "semantic_vad", "eagerness": "high", "create_response": True, "interrupt_response": True}
    out = await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    assert out[-1]["session"]["audio"]["input"]["turn_detection"] is None


async def test_session_update_with_bad_values_is_an_error(harness: Make) -> None:
    h = harness()
    cases = [
        ({"audio": {"output": {"voice": "nobody"}}}, "session.audio.output.voice"),
        ({"audio": {"output": {"speed": 3.0}}}, "session.audio.output.speed"),
        ({"output_modalities": ["text", "audio"]}, "session.output_modalities"),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 10}}}},
            "session.audio.input.turn_detection.idle_timeout_ms",
        ),
    ]
    for update, param in cases:
        out = await h.send({"type": "session.update", "event_id": "evt_x", "session": {"type": "realtime", **update}})
        assert h.types(out) == ["error"], update
        assert out[0]["error"]["param"] == param
        assert out[0]["error"]["event_id"] == "evt_x"
    assert h.engine.session["audio"]["output"]["voice"] == "alloy"


async def test_voice_is_locked_after_audio_output(harness: Make) -> None:
    h = harness()
    await h.send({"type": "response.create"})
    out = await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"voice": "cedar"}}}}
    )
    assert out[0]["type"] == "error"
    assert out[0]["error"]["code"] == "cannot_update_voice"
    out = await h.send({"type": "session.update", "session": {"type": "realtime", "instructions": "still fine"}})
    assert out[0]["type"] == "session.updated"


async def test_item_create_adds_and_completes_the_item(harness: Make) -> None:
    h = harness()
    first = await h.send(user_text("one"))
    assert h.types(first) == ["conversation.item.added", "conversation.item.done"]
    item = first[0]["item"]
    assert item["id"].startswith("item_")
    assert item["status"] == "completed"
    assert first[0]["previous_item_id"] is None
    second = await h.send(user_text("two"))
    assert second[0]["previous_item_id"] == item["id"]
    third = await h.send(user_text("zero", previous_item_id="root"))
    assert third[0]["previous_item_id"] is None
    assert [i["content"][0]["text"] for i in h.engine.conversation.items] == ["zero", "one", "two"]


async def test_item_create_errors(harness: Make) -> None:
    h = harness()
    out = await h.send(user_text("x", previous_item_id="item_missing", event_id="evt_1"))
    assert out[0]["error"]["param"] == "previous_item_id"
    await h.send(
        {
            "type": "conversation.item.create",
            "item": {
                "id": "item_dup",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "a"}],
            },
        }
    )
    out = await h.send(
        {
            "type": "conversation.item.create",
            "item": {"id": "item_dup", "type": "message", "role": "user", "content": []},
        }
    )
    assert out[0]["error"]["code"] == "item_id_already_exists"


async def test_item_delete_and_retrieve(harness: Make) -> None:
    h = harness()
    item_id = (await h.send(user_text("hello")))[0]["item"]["id"]
    out = await h.send({"type": "conversation.item.retrieve", "item_id": item_id})
    assert out[0]["type"] == "conversation.item.retrieved"
    assert out[0]["item"]["content"][0]["text"] == "hello"
    out = await h.send({"type": "conversation.item.delete", "item_id": item_id})
    assert out == [{"event_id": out[0]["event_id"], "type": "conversation.item.deleted", "item_id": item_id}]
    for event_type in ("conversation.item.delete", "conversation.item.retrieve"):
        out = await h.send({"type": event_type, "item_id": item_id, "event_id": "evt_gone"})
        assert out[0]["type"] == "error"
        assert out[0]["error"]["param"] == "item_id"
        assert out[0]["error"]["event_id"] == "evt_gone"
    assert out[0]["error"]["code"] == "item_retrieve_invalid_item_id"


async def test_item_truncate(harness: Make) -> None:
    h = harness()
    await h.send({"type": "response.create"})
    item = h.of_type("response.output_item.done")[0]["item"]
    out = await h.send(
        {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 100}
    )
    assert out[0] == {**out[0], "type": "conversation.item.truncated", "audio_end_ms": 100}
    out = await h.send(
        {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 100_000}
    )
    assert out[0]["error"]["param"] == "audio_end_ms"
    user_id = (await h.send(user_text("hi")))[0]["item"]["id"]
    out = await h.send(
        {"type": "conversation.item.truncate", "item_id": user_id, "content_index": 0, "audio_end_ms": 0}
    )
    assert out[0]["type"] == "error"
    out = await h.send(
        {"type": "conversation.item.truncate", "item_id": "item_none", "content_index": 0, "audio_end_ms": 0}
    )
    assert out[0]["error"]["code"] == "item_truncate_invalid_item_id"


async def test_append_then_commit_makes_a_user_audio_item(harness: Make) -> None:
    h = harness()
    await h.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    assert await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(silence(300))}) == []
    out = await h.send({"type": "input_audio_buffer.commit"})
    assert h.types(out) == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    assert out[1]["item"]["content"][0]["type"] == "input_audio"
    assert out[0]["item_id"] == out[1]["item"]["id"]


async def test_commit_of_an_empty_buffer_is_an_error(harness: Make) -> None:
    h = harness()
    out = await h.send({"type": "input_audio_buffer.commit", "event_id": "evt_c"})
    assert out[0]["error"]["code"] == "input_audio_buffer_commit_empty"
    assert out[0]["error"]["event_id"] == "evt_c"


async def test_clear_empties_the_buffer(harness: Make) -> None:
    h = harness()
    await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(silence(300))})
    assert h.types(await h.send({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    out = await h.send({"type": "input_audio_buffer.commit"})
    assert out[0]["error"]["code"] == "input_audio_buffer_commit_empty"


async def test_append_errors(harness: Make) -> None:
    h = harness()
    out = await h.send({"type": "input_audio_buffer.append", "audio": "not base64!!", "event_id": "evt_a"})
    assert out[0]["error"]["param"] == "audio"
    big = "A" * (15 * 1024 * 1024 + 4)
    out = await h.send({"type": "input_audio_buffer.append", "audio": big})
    assert out[0]["error"]["code"] == "audio_too_large"


async def test_output_audio_buffer_clear_is_webrtc_only(harness: Make) -> None:
    h = harness()
    out = await h.send({"type": "output_audio_buffer.clear", "event_id": "evt_o"})
    assert out[0]["type"] == "error"
    assert out[0]["error"]["event_id"] == "evt_o"


async def test_text_response_lifecycle(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    await h.send(user_text("hello there"))
    out = await h.send({"type": "response.create"})
    kinds = h.types(out)
    assert kinds[:6] == [
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert kinds[-5:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    text = "".join(e["delta"] for e in out if e["type"] == "response.output_text.delta")
    assert text == "You said: hello there"
    done = out[-1]["response"]
    assert done["status"] == "completed"
    assert done["id"].startswith("resp_")
    assert done["output"][0]["content"] == [{"type": "output_text", "text": text}]
    assert done["usage"]["output_tokens"] > 0


async def test_audio_response_over_websocket_streams_audio_and_transcript(harness: Make) -> None:
    h = harness()
    await h.send(user_text("hi"))
    out = await h.send({"type": "response.create"})
    kinds = h.types(out)
    assert "response.output_audio.delta" in kinds
    assert "output_audio_buffer.started" not in kinds  # WebRTC only
    audio = b"".join(base64.b64decode(e["delta"]) for e in out if e["type"] == "response.output_audio.delta")
    assert len(audio) > 24_000  # more than half a second of PCM16 at 24 kHz
    transcript = "".join(e["delta"] for e in out if e["type"] == "response.output_audio_transcript.delta")
    assert transcript == "You said: hi"
    assert kinds.index("response.output_audio.done") < kinds.index("response.output_audio_transcript.done")
    assert out[-1]["response"]["usage"]["output_token_details"]["audio_tokens"] > 0


async def test_response_overrides_and_out_of_band(harness: Make) -> None:
    h = harness()
    item_id = (await h.send(user_text("classify me")))[0]["item"]["id"]
    out = await h.send(
        {
            "type": "response.create",
            "response": {
                "conversation": "none",
                "output_modalities": ["text"],
                "metadata": {"topic": "x"},
                "input": [{"type": "item_reference", "id": item_id}],
                "instructions": "Classify.",
            },
        }
    )
    assert "conversation.item.added" not in h.types(out)
    done = out[-1]["response"]
    assert done["conversation_id"] is None
    assert done["metadata"] == {"topic": "x"}
    assert done["output_modalities"] == ["text"]
    assert len(h.engine.conversation.items) == 1


async def test_second_response_create_while_active_is_an_error(harness: Make) -> None:
    h = harness()
    await h.engine.receive('{"type": "response.create"}')
    await h.engine.receive('{"type": "response.create", "event_id": "evt_2"}')
    await h.engine.idle()
    errors = h.of_type("error")
    assert [e["error"]["code"] for e in errors] == ["conversation_already_has_active_response"]
    assert errors[0]["error"]["event_id"] == "evt_2"
    assert len(h.of_type("response.done")) == 1


async def test_response_cancel(harness: Make) -> None:
    h = harness()
    await h.engine.receive('{"type": "response.create"}')
    await h.engine.receive('{"type": "response.cancel"}')
    await h.engine.idle()
    done = h.of_type("response.done")[0]["response"]
    assert done["status"] == "cancelled"
    assert (
        done["status_details"] == {"type": "cancelled", "reason": "client_cancelled", "error": None}
        or done["status_details"]["reason"] == "client_cancelled"
    )
    out = await h.send({"type": "response.cancel", "event_id": "evt_c"})
    assert out[0]["error"]["code"] == "response_cancel_not_active"


async def test_function_call_round_trip(harness: Make) -> None:
    h = harness()
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    await h.send(
        {"type": "session.update", "session": {"type": "realtime", "tools": [tool], "output_modalities": ["text"]}}
    )
    h.engine.deps.script.push({"call_tool": {"name": "get_weather", "arguments": {"city": "Oslo"}}})
    out = await h.send({"type": "response.create"})
    kinds = h.types(out)
    assert "response.function_call_arguments.delta" in kinds
    done_args = h.of_type("response.function_call_arguments.done")[0]
    assert done_args["name"] == "get_weather"
    assert done_args["arguments"] == '{"city": "Oslo"}'
    assert done_args["call_id"].startswith("call_")
    item = out[-1]["response"]["output"][0]
    assert item["type"] == "function_call"
    assert item["status"] == "completed"
    await h.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": done_args["call_id"], "output": "sunny"},
        }
    )
    out = await h.send({"type": "response.create"})
    text = "".join(e["delta"] for e in out if e["type"] == "response.output_text.delta")
    assert "sunny" in text


async def test_malformed_events_are_errors_and_the_session_goes_on(harness: Make) -> None:
    h = harness()
    cases: list[str] = [
        "{nope",
        "[1, 2]",
        '{"event_id": "e1"}',
        '{"type": "no.such.thing", "event_id": "e2"}',
        '{"type": "conversation.item.delete", "event_id": "e3"}',
        '{"type": "conversation.item.delete", "item_id": 5, "event_id": "e4"}',
        '{"type": "session.update", "session": {"type": "realtime", "instructions": 7}}',
        '{"type": "input_audio_buffer.append", "audio": null}',
    ]
    for raw in cases:
        out = await h.send(raw)
        assert h.types(out) == ["error"], raw
        assert out[0]["error"]["type"] == "invalid_request_error"
    assert [e["error"]["event_id"] for e in h.of_type("error")][3:6] == ["e2", "e3", "e4"]
    assert h.of_type("error")[4]["error"]["param"] == "item_id"
    out = await h.send(user_text("still here"))
    assert h.types(out) == ["conversation.item.added", "conversation.item.done"]


async def test_server_vad_turn_commits_and_responds(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_WITH_WHISPER)
    out = await append(h, silence(500), tone(800), silence(600))
    kinds = h.types()
    for expected in (
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
        "response.created",
        "response.done",
    ):
        assert expected in kinds, (expected, kinds)
    started = h.of_type("input_audio_buffer.speech_started")[0]
    stopped = h.of_type("input_audio_buffer.speech_stopped")[0]
    assert 100 <= started["audio_start_ms"] <= 500  # speech began at 500 ms, minus 300 ms prefix padding
    assert 1250 <= stopped["audio_end_ms"] <= 1350
    assert started["item_id"] == stopped["item_id"] == h.of_type("input_audio_buffer.committed")[0]["item_id"]
    assert out


async def test_idle_timeout_triggers(harness: Make) -> None:
    h = harness()
    await h.send(
        session_update(
            output_modalities=["text"],
            audio={"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 5000}}},
        )
    )
    for _ in range(6):
        await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(silence(1000))})
    triggered = h.of_type("input_audio_buffer.timeout_triggered")
    assert len(triggered) == 1
    assert triggered[0]["audio_end_ms"] - triggered[0]["audio_start_ms"] >= 5000
    assert "response.done" in h.types()


async def test_session_ends_at_its_maximum_duration(harness: Make) -> None:
    import asyncio

    expired: list[bool] = []
    h = harness(max_session_s=0.05, on_expired=lambda: expired.append(True))
    await asyncio.sleep(0.2)
    assert h.of_type("error")[0]["error"]["code"] == "session_expired"
    assert expired == [True]


async def test_max_output_tokens_makes_an_incomplete_response(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    await h.send(user_text("please repeat this rather long sentence back to me word for word"))
    out = await h.send({"type": "response.create", "response": {"max_output_tokens": 5}})
    done = out[-1]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"]["reason"] == "max_output_tokens"
    assert done["output"][0]["status"] == "incomplete"
    assert len(done["output"][0]["content"][0]["text"]) <= 20


async def test_g711_formats_in_and_out(harness: Make) -> None:
    from realtime_widget.server.session import codecs as g711

    h = harness()
    await h.send(
        session_update(
            audio={
                "input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
                "output": {"format": {"type": "audio/pcma"}},
            }
        )
    )
    ulaw = g711.encode(tone(300), "audio/pcmu")
    await h.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(ulaw).decode()})
    assert h.types(await h.send({"type": "input_audio_buffer.commit"}))[0] == "input_audio_buffer.committed"
    out = await h.send({"type": "response.create"})
    alaw = b"".join(base64.b64decode(e["delta"]) for e in out if e["type"] == "response.output_audio.delta")
    assert len(alaw) > 4000  # 8 kHz, one byte a sample: over half a second
    assert out[-1]["response"]["audio"]["output"]["format"]["type"] == "audio/pcma"
    assert np.abs(g711.decode(alaw, "audio/pcma")).max() > 3000


async def test_vad_times_stay_on_the_session_clock_after_reconfiguring(harness: Make) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(silence(2000))})
    await h.send(
        session_update(
            audio={
                "input": {
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 300, "prefix_padding_ms": 100}
                }
            }
        )
    )
    await append(h, silence(500), tone(600), silence(500))
    started = h.of_type("input_audio_buffer.speech_started")[0]["audio_start_ms"]
    stopped = h.of_type("input_audio_buffer.speech_stopped")[0]["audio_end_ms"]
    assert 2350 <= started <= 2500  # speech at 2500 ms, minus 100 ms of prefix padding
    assert 3050 <= stopped <= 3150


async def test_semantic_vad_waits_by_eagerness(harness: Make) -> None:
    h = harness()
    await h.send(
        session_update(
            output_modalities=["text"],
            audio={"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}},
        )
    )
    await append(h, tone(600), silence(300))
    assert not h.of_type("input_audio_buffer.speech_stopped")
    await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(silence(1500))})
    assert h.of_type("input_audio_buffer.speech_stopped")


async def test_item_create_with_audio_is_transcribed_and_not_echoed(harness: Make) -> None:
    h = harness()
    await h.send(session_update(audio={"input": {"transcription": {"model": "whisper-1"}}}))
    out = await h.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": pcm_b64(tone(400))}],
            },
        }
    )
    assert h.types(out) == [
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.completed",
    ]
    assert "audio" not in out[0]["item"]["content"][0]


class FixedRecognizer:
    """Hears the same words in every turn (the engine's side of recognition is under test, not recognition)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def transcribe(self, samples: np.ndarray) -> str:  # type: ignore[type-arg]
        return self.text


async def test_transcription_streams_word_deltas_and_feeds_the_responder(harness: Make) -> None:
    from dataclasses import replace

    from realtime_widget.server.voice.loader import fallback_voice_model

    h = harness(deps=replace(fallback_voice_model(), recognizer=FixedRecognizer("what time is it")))
    await h.send(
        session_update(
            output_modalities=["text"],
            audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
        )
    )
    await h.send({"type": "input_audio_buffer.append", "audio": pcm_b64(tone(300))})
    await h.send({"type": "input_audio_buffer.commit"})
    deltas = [e["delta"] for e in h.of_type("conversation.item.input_audio_transcription.delta")]
    assert deltas == ["what", " time", " is", " it"]
    completed = h.of_type("conversation.item.input_audio_transcription.completed")[0]
    assert completed["transcript"] == "what time is it"
    assert completed["usage"] == {"type": "duration", "seconds": 0.3}
    out = await h.send({"type": "response.create"})
    assert "".join(e["delta"] for e in out if e["type"] == "response.output_text.delta") == "You said: what time is it"


class BrokenResponder:
    """A responder that fails, as a buggy voice model would."""

    def respond(self, context: object) -> object:
        raise RuntimeError("model exploded")


async def test_a_failing_voice_model_fails_the_response_not_the_session(harness: Make) -> None:
    from dataclasses import replace

    from realtime_widget.server.voice.loader import fallback_voice_model

    h = harness(deps=replace(fallback_voice_model(), responder=BrokenResponder()))
    out = await h.send({"type": "response.create"})
    assert h.types(out) == ["response.created", "rate_limits.updated", "response.done"]
    done = out[-1]["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["message"] == "model exploded"
    assert h.types(await h.send(user_text("still here"))) == ["conversation.item.added", "conversation.item.done"]


class BrokenRecognizer:
    def transcribe(self, samples: np.ndarray) -> str:  # type: ignore[type-arg]
        raise RuntimeError("recognizer exploded")


async def test_a_failing_recognizer_reports_failed_transcription_and_still_answers(harness: Make) -> None:
    from dataclasses import replace

    from realtime_widget.server.voice.loader import fallback_voice_model

    h = harness(deps=replace(fallback_voice_model(), recognizer=BrokenRecognizer()))
    await h.send(TEXT_WITH_WHISPER)
    await append(h, tone(600), silence(700))
    failed = h.of_type("conversation.item.input_audio_transcription.failed")
    assert failed[0]["error"]["message"] == "recognizer exploded"
    assert h.of_type("response.done")[0]["response"]["status"] == "completed"


class CountingStreamRecognizer:
    """A streaming recognizer that reports how much audio it was fed while the turn was spoken."""

    def __init__(self) -> None:
        self.fed = 0
        self.transcribed = 0

    def transcribe(self, samples: np.ndarray) -> str:  # type: ignore[type-arg]
        self.transcribed += 1
        return "whole"

    def start_stream(self) -> CountingStreamRecognizer:
        return self

    def feed(self, samples: np.ndarray) -> None:  # type: ignore[type-arg]
        self.fed += samples.size

    def finish(self) -> str:
        return f"streamed {self.fed // 24} ms"

    def cancel(self) -> None:
        self.fed = -1


async def test_vad_turns_are_recognised_while_spoken(harness: Make) -> None:
    from dataclasses import replace

    from realtime_widget.server.voice.loader import fallback_voice_model

    recognizer = CountingStreamRecognizer()
    h = harness(deps=replace(fallback_voice_model(), recognizer=recognizer))
    await h.send(TEXT_WITH_WHISPER)
    await append(h, silence(500), tone(800), silence(600))
    transcript = h.of_type("conversation.item.input_audio_transcription.completed")[0]["transcript"]
    assert transcript.startswith("streamed")
    streamed_ms = int(transcript.split()[1])
    # From the turn's start (speech minus 300 ms of prefix padding, at 200 ms) to the end of the audio appended when
    # the VAD stopped it (1900 ms): the stream is fed as audio arrives, in the chunks it arrives in.
    assert streamed_ms == 1700
    assert recognizer.transcribed == 0


async def test_an_image_turn_is_taken_and_the_local_model_says_what_it_was_shown(harness: Make) -> None:
    import base64
    import struct
    import zlib

    def png(width: int, height: int) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        rows = b"".join(b"\x00" + b"\x00" * 3 * width for _ in range(height))
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")

    h = harness()
    await h.send(TEXT_ONLY)
    url = "data:image/png;base64," + base64.b64encode(png(32, 16)).decode()
    image = {"type": "input_image", "image_url": url, "detail": "auto"}
    item = {"type": "message", "role": "user", "content": [image]}
    assert h.types(await h.send({"type": "conversation.item.create", "item": item}))[0] == "conversation.item.added"
    await h.send({"type": "response.create"})
    text = h.of_type("response.output_text.done")[-1]["text"]
    assert text == "I see a 32 by 16 PNG."


async def test_an_out_of_band_progress_response_says_its_message_and_stays_out_of_the_conversation(
    harness: Make,
) -> None:
    h = harness()
    await h.send(TEXT_ONLY)
    instructions = 'Always reply with "One moment, I\'m checking." and nothing else.'
    response = {"conversation": "none", "input": [], "instructions": instructions, "metadata": {"progress": "call_9"}}
    await h.send({"type": "response.create", "response": response})
    done = h.of_type("response.done")[-1]["response"]
    assert done["conversation_id"] is None
    assert done["output"][0]["content"][0]["text"] == "One moment, I'm checking."
    assert len(h.engine.conversation.items) == 0


async def test_json_nested_too_deeply_is_an_error_and_the_session_goes_on(harness: Make) -> None:
    h = harness()
    out = await h.send("[" * 100_000 + "]" * 100_000)
    assert h.types(out) == ["error"]
    assert out[0]["error"]["code"] == "invalid_json"
    assert h.types(await h.send({"type": "session.update", "session": {"type": "realtime"}})) == ["session.updated"]
