"""Cases and variants from YAML and JSON, and the errors that name the file, the case and the step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_widget.evals import (
    CaseFileError,
    CostUnder,
    Image,
    Interrupted,
    LatencyWithin,
    NoError,
    Said,
    Say,
    Silence,
    ToolCalled,
    Typed,
    load_cases,
    load_variants,
)

CASES = """
cases:
  - name: weather
    timeout_s: 12
    steps:
      - say: What is the weather in Paris?
      - expect_tool: {name: get_weather, arguments: {city: Paris}, match: subset}
      - expect_said: Paris
      - say: Stop.
        interrupt_after_ms: 400
      - expect_interrupted: true
      - type: And tomorrow?
      - image: chart.png
        prompt: What stands out?
      - audio: question.wav
      - silence_ms: 500
      - expect_latency_ms: 1500
      - expect_no_error: true
      - expect_cost_usd: 0.05
      - expect_not_said: sorry
    script: [{say: Sunny.}]
  - name: short
    steps: [Hello there]
"""


def test_every_step_kind_loads_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES)
    weather, short = load_cases(path)
    assert weather.timeout_s == 12
    assert weather.script == ({"say": "Sunny."},)
    assert weather.steps == (
        Say("What is the weather in Paris?"),
        ToolCalled("get_weather", {"city": "Paris"}, "subset"),
        Said("Paris"),
        Say("Stop.", interrupt_after_ms=400),
        Interrupted(),
        Typed("And tomorrow?"),
        Image(tmp_path / "chart.png", "What stands out?"),
        Say(audio=tmp_path / "question.wav"),
        Silence(500),
        LatencyWithin(1500),
        NoError(),
        CostUnder(0.05),
        Said("sorry", negate=True),
    )
    assert short.steps == (Say("Hello there"),)


def test_json_is_the_same(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([{"name": "a", "steps": [{"type": "hi"}, {"expect_said": "hello"}]}]))
    [case] = load_cases(path)
    assert case.steps == (Typed("hi"), Said("hello"))


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("[{sai: hello}]", "cases.yaml, case 'c', step 1: unknown step 'sai'; did you mean 'say'?"),
        ("[{say: hi}, {expect_tool: {name: t, args: {}}}]", "case 'c', step 2: expect_tool has no field 'args'"),
        ("[{say: hi, type: hello}]", "step 1: a step does one thing; this one has 'say', 'type'"),
        ("[{say: hi, prompt: x}]", "step 1: 'say' takes no 'prompt' (it takes interrupt_after_ms)"),
        ("[{say: hi}, {expect_said: '('}]", "step 2: '(' is not a regular expression"),
        ("[{say: hi}, {expect_latency_ms: -3}]", "step 2: a latency budget is a number of ms > 0"),
        ("[{say: hi}, {expect_interrupted: yes please}]", "step 2: expect_interrupted is true or false"),
        ("[{expect_said: hi}]", "case 'c': case 'c' has no user step"),
        ("[]", "case 'c': 'steps' must be a non-empty list"),
    ],
)
def test_errors_name_the_file_case_and_step(tmp_path: Path, steps: str, message: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(f"- name: c\n  steps: {steps}\n")
    with pytest.raises(CaseFileError) as caught:
        load_cases(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="cannot be read"):
        load_cases(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: [unclosed\n")
    with pytest.raises(CaseFileError, match=r"bad.yaml, line \d+: not valid YAML"):
        load_cases(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[{]")
    with pytest.raises(CaseFileError, match=r"bad\.json, line 1: not valid JSON"):
        load_cases(bad_json)
    twice = tmp_path / "twice.yaml"
    twice.write_text("- {name: a, steps: [hi]}\n- {name: a, steps: [ho]}\n")
    with pytest.raises(CaseFileError, match="two cases are named 'a'"):
        load_cases(twice)
    typo = tmp_path / "typo.yaml"
    typo.write_text("- {name: a, step: [hi]}\n")
    with pytest.raises(CaseFileError, match="case 1: a case has no field 'step'; did you mean 'steps'"):
        load_cases(typo)


def test_variants(tmp_path: Path) -> None:
    path = tmp_path / "variants.yaml"
    path.write_text("terse: {instructions: Be brief.}\ndefault:\n")
    assert load_variants(path) == {"terse": {"instructions": "Be brief."}, "default": {}}
    path.write_text("terse: Be brief.\n")
    with pytest.raises(CaseFileError, match="variant 'terse': its options must be a mapping"):
        load_variants(path)
