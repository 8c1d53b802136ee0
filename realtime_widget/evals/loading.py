"""Cases and variants from YAML or JSON files, with errors that name the file, the case and the step.

A cases file is a list of cases, or ``{"cases": [...]}``. A case::

    name: weather in Paris
    timeout_s: 20              # per step (optional)
    steps:
      - say: What is the weather in Paris?
      - expect_tool: {name: get_weather, arguments: {city: Paris}, match: subset}
      - expect_said: Paris
      - say: Stop, thanks.
        interrupt_after_ms: 400  # a barge-in
      - expect_interrupted: true
      - type: And tomorrow?
      - image: chart.png         # paths are relative to the file
        prompt: What stands out?
      - audio: question.wav
      - silence_ms: 500
      - expect_latency_ms: 1500
      - expect_no_error: true
      - expect_cost_usd: 0.05
      - expect_agent: Billing    # the Agents SDK agent that answered (a session with agent=)
    script: [{say: "Sunny."}]    # local server only

A variants file maps each variant's name to its session options: ``{"terse": {"instructions": "..."}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from realtime_widget.evals.cases import Case, Step
from realtime_widget.evals.expectations import (
    AnsweredBy,
    CostUnder,
    Interrupted,
    LatencyWithin,
    NoError,
    Said,
    ToolCalled,
)
from realtime_widget.evals.steps import Image, Say, Silence, Typed
from realtime_widget.suggest import did_you_mean

__all__ = ["CaseFileError", "load_cases", "load_variants"]


class CaseFileError(ValueError):
    """A cases or variants file that cannot be read, naming the file and where in it."""


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CaseFileError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    import yaml  # noqa: PLC0415  # optional (the evals extra): JSON needs nothing

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise CaseFileError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from exc


def _user_step(key: str, value: Any, body: Mapping[str, Any], folder: Path) -> Step:
    if key == "say":
        return Say(text=str(value), interrupt_after_ms=body.get("interrupt_after_ms"))
    if key == "audio":
        return Say(audio=folder / str(value), interrupt_after_ms=body.get("interrupt_after_ms"))
    if key == "type":
        return Typed(str(value))
    if key == "image":
        prompt = body.get("prompt")
        return Image(folder / str(value), None if prompt is None else str(prompt))
    return Silence(float(value))


def _tool(value: Any) -> ToolCalled:
    if isinstance(value, str):
        return ToolCalled(value)
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
        raise ValueError("expect_tool is a tool name, or {name, arguments, match}")
    unknown = set(value) - {"name", "arguments", "match"}
    if unknown:
        raise ValueError(f"expect_tool has no field {sorted(unknown)[0]!r} (it has name, arguments, match)")
    arguments = value.get("arguments")
    if arguments is not None and not isinstance(arguments, Mapping):
        raise ValueError("expect_tool's arguments must be a mapping")
    return ToolCalled(value["name"], arguments, value.get("match", "exact"))


def _said(value: Any) -> Said:
    if isinstance(value, str):
        return Said(value)
    if isinstance(value, Mapping) and isinstance(value.get("pattern"), str):
        return Said(value["pattern"], bool(value.get("negate", False)), value.get("role", "assistant"))
    raise ValueError("expect_said is a regular expression, or {pattern, negate, role}")


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} is true or false, not {value!r}")
    return value


def _no_error(value: Any) -> NoError:
    if not _flag(value, "expect_no_error"):
        raise ValueError("expect_no_error: false expects nothing; leave it out")
    return NoError()


_EXPECTATIONS: dict[str, Callable[[Any], Step]] = {
    "expect_tool": _tool,
    "expect_said": _said,
    "expect_not_said": lambda v: Said(str(v), negate=True),
    "expect_latency_ms": lambda v: LatencyWithin(float(v)),
    "expect_interrupted": lambda v: Interrupted(_flag(v, "expect_interrupted")),
    "expect_no_error": _no_error,
    "expect_cost_usd": lambda v: CostUnder(float(v)),
    "expect_agent": lambda v: AnsweredBy(str(v)),
}
_USER_KEYS = ("say", "audio", "type", "image", "silence_ms")
_MODIFIERS = {"say": {"interrupt_after_ms"}, "audio": {"interrupt_after_ms"}, "image": {"prompt"}}


def _step(body: Any, folder: Path) -> Step:
    if isinstance(body, str):
        body = {"say": body}
    if not isinstance(body, Mapping):
        raise ValueError(f"a step is a mapping such as {{say: ...}} or {{expect_said: ...}}, not {body!r}")
    keys = [k for k in body if k in _USER_KEYS or k in _EXPECTATIONS]
    if len(keys) != 1:
        if keys:
            raise ValueError(f"a step does one thing; this one has {', '.join(map(repr, keys))}")
        first = next(iter(body), "")
        raise ValueError(f"unknown step {first!r}" + did_you_mean(first, [*_USER_KEYS, *_EXPECTATIONS]))
    key = keys[0]
    extra = set(body) - {key} - _MODIFIERS.get(key, set())
    if extra:
        name = sorted(extra)[0]
        allowed = _MODIFIERS.get(key)
        raise ValueError(
            f"{key!r} takes no {name!r}"
            + did_you_mean(name, allowed or [], otherwise="")
            + (f" (it takes {', '.join(sorted(allowed))})" if allowed else "")
        )
    if key in _EXPECTATIONS:
        return _EXPECTATIONS[key](body[key])
    return _user_step(key, body[key], body, folder)


def _case(body: Any, folder: Path, where: str) -> Case:
    if not isinstance(body, Mapping):
        raise CaseFileError(f"{where}: a case is a mapping with a name and steps, not {body!r}")
    unknown = set(body) - {"name", "steps", "timeout_s", "script", "description"}
    if unknown:
        name = sorted(unknown)[0]
        raise CaseFileError(f"{where}: a case has no field {name!r}" + did_you_mean(name, ["steps", "timeout_s"]))
    name = body.get("name")
    if not isinstance(name, str):
        raise CaseFileError(f"{where}: the case needs a name")
    where = f"{where.rsplit(',', 1)[0]}, case {name!r}"
    steps_body = body.get("steps")
    if not isinstance(steps_body, list) or not steps_body:
        raise CaseFileError(f"{where}: 'steps' must be a non-empty list")
    steps = []
    for n, step_body in enumerate(steps_body, 1):
        try:
            steps.append(_step(step_body, folder))
        except (ValueError, TypeError) as exc:
            raise CaseFileError(f"{where}, step {n}: {exc}") from exc
    script = body.get("script", [])
    if not isinstance(script, list) or not all(isinstance(s, Mapping) for s in script):
        raise CaseFileError(f"{where}: 'script' is a list of steps such as {{say: ...}}")
    try:
        return Case(
            name,
            steps,
            timeout_s=float(body.get("timeout_s", 30.0)),
            script=script,
            description=str(body.get("description", "")),
        )
    except (ValueError, TypeError) as exc:
        raise CaseFileError(f"{where}: {exc}") from exc


def load_cases(path: str | Path) -> list[Case]:
    """The cases in a YAML (``.yaml``/``.yml``) or JSON (``.json``) file; raises :class:`CaseFileError` naming the
    file, the case and the step that is wrong. Media paths are relative to the file."""
    path = Path(path)
    data = _read(path)
    if isinstance(data, Mapping) and "cases" in data:
        data = data["cases"]
    if not isinstance(data, list) or not data:
        raise CaseFileError(f"{path}: expected a list of cases (or {{cases: [...]}})")
    cases = [_case(body, path.parent, f"{path}, case {n}") for n, body in enumerate(data, 1)]
    names = [case.name for case in cases]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise CaseFileError(f"{path}: two cases are named {duplicate!r}; names identify cases in results")
    return cases


def load_variants(path: str | Path) -> dict[str, dict[str, Any]]:
    """The variants in a YAML or JSON file: ``{name: {session option: value}}``. Whether the options are valid is
    checked when a run starts, before anything runs."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, Mapping) or not data:
        raise CaseFileError(f"{path}: expected a mapping of variant names to session options")
    variants: dict[str, dict[str, Any]] = {}
    for name, given in data.items():
        options = {} if given is None else given
        if not isinstance(options, Mapping):
            raise CaseFileError(f"{path}, variant {name!r}: its options must be a mapping, not {options!r}")
        variants[str(name)] = dict(options)
    return variants
