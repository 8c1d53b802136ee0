"""SessionConfig: validation on construction, the GA session object, session.update and the UI settings."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.realtime import RealtimeSessionCreateRequest
from pydantic import ValidationError

from realtime_widget.config import BUILTIN_VOICES, CustomVoice, SemanticVAD, ServerVAD, SessionConfig, Transcription
from realtime_widget.protocol import validate_client_event

LOOKUP_TOOL = {
    "type": "function",
    "name": "lookup",
    "description": "Look a word up.",
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
}


def sdk_session(session: dict[str, Any]) -> RealtimeSessionCreateRequest:
    return RealtimeSessionCreateRequest.model_validate(session)


def test_defaults_make_a_valid_ga_session() -> None:
    session = SessionConfig().to_session()
    parsed = sdk_session(session)
    assert parsed.type == "realtime"
    assert parsed.model == "gpt-realtime"
    assert session["audio"]["output"] == {"voice": "marin", "speed": 1.0}
    assert session["audio"]["input"]["turn_detection"] == {"type": "server_vad"}
    assert session["output_modalities"] == ["audio"]
    assert "voice" not in session  # GA: voice lives at audio.output.voice


def test_every_option_lands_where_the_ga_schema_wants_it() -> None:
    config = SessionConfig(
        model="gpt-realtime-mini",
        instructions="Be brief.",
        voice={"id": "voice_1234"},
        output_modalities="text",
        turn_detection=ServerVAD(threshold=0.7, prefix_padding_ms=200, silence_duration_ms=800, idle_timeout_ms=6000),
        noise_reduction="far_field",
        transcription=Transcription(model="gpt-4o-transcribe", language="de"),
        tools=[LOOKUP_TOOL],
        tool_choice={"type": "function", "name": "lookup"},
        max_output_tokens=512,
        speed=1.25,
    )
    session = config.to_session()
    parsed = sdk_session(session)
    assert parsed.audio is not None
    assert parsed.audio.input is not None
    assert parsed.audio.output is not None
    assert session["audio"]["output"]["voice"] == {"id": "voice_1234"}
    assert parsed.audio.output.speed == 1.25
    assert parsed.audio.input.noise_reduction is not None
    assert parsed.audio.input.noise_reduction.type == "far_field"
    assert parsed.audio.input.transcription is not None
    assert parsed.audio.input.transcription.language == "de"
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.7,
        "prefix_padding_ms": 200,
        "silence_duration_ms": 800,
        "idle_timeout_ms": 6000,
    }
    assert parsed.output_modalities == ["text"]
    assert parsed.max_output_tokens == 512
    assert session["tools"] == [LOOKUP_TOOL]
    assert session["tool_choice"] == {"type": "function", "name": "lookup"}
    assert session["instructions"] == "Be brief."


@pytest.mark.parametrize("voice", BUILTIN_VOICES)
def test_builtin_voices_are_accepted(voice: str) -> None:
    assert SessionConfig(voice=voice).to_session()["audio"]["output"]["voice"] == voice


def test_builtin_voices_come_from_the_sdk() -> None:
    assert {"marin", "cedar", "alloy"} <= set(BUILTIN_VOICES)
    assert len(BUILTIN_VOICES) == 10


def test_turn_detection_forms() -> None:
    assert SessionConfig(turn_detection="semantic_vad").turn_detection == SemanticVAD()
    assert SessionConfig(turn_detection={"type": "semantic_vad", "eagerness": "high"}).turn_detection == SemanticVAD(
        eagerness="high"
    )
    off = SessionConfig(turn_detection=None)
    assert off.turn_detection is None
    # null is the only way to switch it off, so it is always sent
    assert off.to_session()["audio"]["input"]["turn_detection"] is None
    assert SessionConfig(turn_detection="none").turn_detection is None


def test_off_options_are_left_out_for_minting_and_null_for_updates() -> None:
    config = SessionConfig(transcription=None, noise_reduction=None)
    minted = config.to_session()
    assert "transcription" not in minted["audio"]["input"]
    assert "noise_reduction" not in minted["audio"]["input"]
    updated = config.to_session(explicit_nulls=True)
    assert updated["audio"]["input"]["transcription"] is None
    assert updated["audio"]["input"]["noise_reduction"] is None
    sdk_session(updated)


def test_transcription_from_a_model_name() -> None:
    assert SessionConfig(transcription="whisper-1").transcription == Transcription(model="whisper-1")


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("voise", "voice"), ("instruction", "instructions"), ("turn_detect", "turn_detection"), ("sped", "speed")],
)
def test_unknown_options_name_the_close_match(typo: str, suggestion: str) -> None:
    with pytest.raises(TypeError, match=f"unknown option '{typo}'; did you mean '{suggestion}'\\?"):
        SessionConfig(**{typo: "x"})


def test_unknown_nested_option_names_the_close_match() -> None:
    with pytest.raises(TypeError, match="did you mean 'silence_duration_ms'"):
        SessionConfig(turn_detection={"type": "server_vad", "silence_duration": 500})
    with pytest.raises(TypeError, match="did you mean 'eagerness'"):
        SemanticVAD(eager="low")  # type: ignore[call-arg]


def test_unknown_option_without_a_close_match_lists_the_options() -> None:
    with pytest.raises(TypeError, match=r"known options: .*voice"):
        SessionConfig(zzzzzz=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "options",
    [
        {"speed": 0.2},
        {"speed": 1.6},
        {"max_output_tokens": 0},
        {"max_output_tokens": 4097},
        {"max_output_tokens": "lots"},
        {"output_modalities": ["audio", "text"]},
        {"output_modalities": ["video"]},
        {"turn_detection": "push_to_talk"},
        {"turn_detection": {"type": "server_vad", "threshold": 1.5}},
        {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 1000}},
        {"noise_reduction": "very_far"},
        {"voice": ""},
        {"voice": {"id": ""}},
        {"tool_choice": "sometimes"},
        {"tool_choice": {"type": "function"}},
        {"tools": [{"name": "no_type"}]},
        {"tools": [{"type": "function"}]},
        {"tools": [LOOKUP_TOOL, LOOKUP_TOOL]},
        {"model": ""},
    ],
)
def test_invalid_values_raise_validation_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SessionConfig(**options)


def test_limits_are_inclusive() -> None:
    SessionConfig(speed=0.25, max_output_tokens=1)
    SessionConfig(speed=1.5, max_output_tokens=4096)


def test_any_model_name_is_accepted() -> None:
    assert SessionConfig(model="my-future-model").to_session()["model"] == "my-future-model"


def test_config_is_immutable_and_replace_validates() -> None:
    config = SessionConfig()
    with pytest.raises(ValidationError):
        config.voice = "cedar"  # type: ignore[misc]
    changed = config.replace(voice="cedar", speed=1.1)
    assert (changed.voice, changed.speed) == ("cedar", 1.1)
    assert config.voice == "marin"
    with pytest.raises(ValidationError):
        config.replace(speed=9)
    with pytest.raises(TypeError, match="did you mean 'voice'"):
        config.replace(voise="cedar")


def test_replace_keeps_tuned_options() -> None:
    config = SessionConfig(turn_detection=ServerVAD(silence_duration_ms=900))
    assert config.replace(voice="ash").turn_detection == ServerVAD(silence_duration_ms=900)


def test_full_session_update_is_a_valid_client_event() -> None:
    config = SessionConfig(tools=[LOOKUP_TOOL], noise_reduction="near_field", instructions="Hi.")
    event = config.session_update_event()
    validate_client_event(event)
    assert event["type"] == "session.update"
    assert "model" not in event["session"]  # a live session cannot switch models
    assert event["session"]["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe"}
    assert event["session"]["tools"] == [LOOKUP_TOOL]


def test_full_session_update_switches_off_what_is_off() -> None:
    event = SessionConfig(noise_reduction=None, transcription=None, turn_detection=None).session_update_event()
    validate_client_event(event)
    audio_in = event["session"]["audio"]["input"]
    assert audio_in == {"turn_detection": None, "noise_reduction": None, "transcription": None}


def test_session_update_with_changes_only_sends_those() -> None:
    config = SessionConfig()
    event = config.session_update_event({"voice": "cedar", "noise_reduction": None})
    validate_client_event(event)
    assert event == {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"output": {"voice": "cedar"}, "input": {"noise_reduction": None}}},
    }


def test_session_update_of_tools() -> None:
    event = SessionConfig().session_update_event({"tools": [LOOKUP_TOOL]})
    validate_client_event(event)
    assert event["session"] == {"type": "realtime", "tools": [LOOKUP_TOOL]}


def test_session_update_applies_changes_idempotently() -> None:
    config = SessionConfig()
    changes = {"instructions": "Shorter.", "speed": 1.2}
    assert config.replace(**changes).session_update_event(changes) == config.session_update_event(changes)


def test_session_update_refuses_a_model_change_and_bad_values() -> None:
    with pytest.raises(ValueError, match=r"connect again"):
        SessionConfig().session_update_event({"model": "gpt-realtime-mini"})
    with pytest.raises(ValidationError):
        SessionConfig().session_update_event({"speed": 5})
    with pytest.raises(TypeError, match="did you mean"):
        SessionConfig().session_update_event({"voise": "cedar"})


def test_ui_settings_round_trip() -> None:
    config = SessionConfig(voice="cedar", instructions="Be kind.", turn_detection="semantic_vad")
    assert config.ui_settings() == {
        "voice": "cedar",
        "voice_config": None,
        "instructions": "Be kind.",
        "turn_detection": "semantic_vad",
        "turn_detection_config": {"type": "semantic_vad"},
    }
    assert config.with_ui_settings(config.ui_settings()) == config
    assert SessionConfig(turn_detection=None).ui_settings()["turn_detection"] == "none"
    assert SessionConfig().ui_settings()["instructions"] == ""


def test_with_ui_settings_changes_what_the_ui_edits() -> None:
    config = SessionConfig(turn_detection=ServerVAD(silence_duration_ms=800), instructions="Old.")
    changed = config.with_ui_settings({"voice": "ash", "instructions": "", "turn_detection": "none", "other": 1})
    assert changed.voice == "ash"
    assert changed.instructions is None  # empty means the server's default
    assert changed.turn_detection is None
    # the same kind keeps its tuning; another kind starts from the defaults
    assert config.with_ui_settings({"turn_detection": "server_vad"}).turn_detection == ServerVAD(
        silence_duration_ms=800
    )
    assert config.with_ui_settings({"turn_detection": "semantic_vad"}).turn_detection == SemanticVAD()


def test_with_ui_settings_keeps_a_custom_voice_shown_by_id() -> None:
    config = SessionConfig(voice=CustomVoice(id="voice_42"))
    assert config.ui_settings()["voice"] == "voice_42"
    assert config.ui_settings()["voice_config"] == {"id": "voice_42"}
    assert config.with_ui_settings(config.ui_settings()).voice == CustomVoice(id="voice_42")


def test_with_ui_settings_validates() -> None:
    with pytest.raises(ValidationError):
        SessionConfig().with_ui_settings({"turn_detection": "sometimes"})


def test_repr_is_short_and_shows_what_differs() -> None:
    assert repr(SessionConfig()) == "SessionConfig(model='gpt-realtime', voice='marin')"
    text = repr(SessionConfig(voice="cedar", tools=[LOOKUP_TOOL], turn_detection=ServerVAD(threshold=0.6)))
    assert (
        text
        == "SessionConfig(model='gpt-realtime', voice='cedar', turn_detection=ServerVAD(threshold=0.6), tools=[lookup])"
    )
    long = repr(SessionConfig(instructions="x" * 500))
    assert len(long) < 200


def test_extra_ga_fields_are_merged_and_checked() -> None:
    config = SessionConfig(extra={"truncation": "disabled", "audio": {"input": {"format": {"type": "audio/pcmu"}}}})
    session = config.to_session()
    sdk_session(session)
    assert session["truncation"] == "disabled"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["input"]["turn_detection"] == {"type": "server_vad"}  # merged, not replaced
    event = config.session_update_event({"extra": {"tracing": "auto"}})
    validate_client_event(event)
    assert event["session"] == {"type": "realtime", "tracing": "auto"}
    with pytest.raises(ValidationError, match="did you mean 'truncation'"):
        SessionConfig(extra={"truncaton": "auto"})


def test_the_session_returned_is_a_copy() -> None:
    config = SessionConfig(tools=[LOOKUP_TOOL])
    config.to_session()["tools"][0]["parameters"]["properties"].clear()
    assert config.tools[0]["parameters"]["properties"] == {"word": {"type": "string"}}


# ---- properties ----------------------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

turn_detections = st.one_of(
    st.none(),
    st.sampled_from(["server_vad", "semantic_vad"]),
    st.builds(
        ServerVAD,
        threshold=st.none() | st.floats(0, 1),
        prefix_padding_ms=st.none() | st.integers(0, 2000),
        silence_duration_ms=st.none() | st.integers(0, 5000),
        idle_timeout_ms=st.none() | st.integers(5000, 30000),
        create_response=st.none() | st.booleans(),
        interrupt_response=st.none() | st.booleans(),
    ),
    st.builds(SemanticVAD, eagerness=st.none() | st.sampled_from(["low", "medium", "high", "auto"])),
)

configs = st.builds(
    SessionConfig,
    model=st.sampled_from(["gpt-realtime", "gpt-realtime-mini", "someday-model"]),
    instructions=st.none() | st.text(min_size=1, max_size=50),  # the UI shows "" for None
    voice=st.sampled_from(BUILTIN_VOICES) | st.builds(CustomVoice, id=st.text(min_size=1, max_size=10)),
    output_modalities=st.sampled_from([["audio"], ["text"]]),
    turn_detection=turn_detections,
    noise_reduction=st.sampled_from([None, "near_field", "far_field"]),
    transcription=st.none() | st.builds(Transcription, language=st.none() | st.sampled_from(["en", "de"])),
    tools=st.sampled_from([[], [LOOKUP_TOOL]]),
    max_output_tokens=st.integers(1, 4096) | st.just("inf"),
    speed=st.floats(0.25, 1.5),
)


@settings(max_examples=60, deadline=None)
@given(config=configs)
def test_any_valid_config_makes_valid_wire_objects(config: SessionConfig) -> None:
    sdk_session(config.to_session())
    sdk_session(config.to_session(explicit_nulls=True))
    validate_client_event(config.session_update_event())
    assert config.replace() == config
    assert config.with_ui_settings(config.ui_settings()) == config


def test_ui_settings_carry_the_whole_tuned_turn_detection() -> None:
    config = SessionConfig(turn_detection={"type": "server_vad", "threshold": 0.8, "silence_duration_ms": 900})
    assert config.ui_settings()["turn_detection_config"] == {
        "type": "server_vad",
        "threshold": 0.8,
        "silence_duration_ms": 900,
    }
    assert SessionConfig(turn_detection=None).ui_settings()["turn_detection_config"] is None


def test_a_live_update_clears_instructions_with_an_empty_string_never_null() -> None:
    event = SessionConfig(instructions="Be brief.").session_update_event({"instructions": None})
    assert event["session"] == {"type": "realtime", "instructions": ""}


def test_a_tool_definition_with_a_name_the_api_refuses_is_refused_here() -> None:
    with pytest.raises(ValidationError, match="not usable"):
        SessionConfig(tools=[{"type": "function", "name": "bad/name", "parameters": {}}])
