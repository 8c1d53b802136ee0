"""From a Python function's signature and docstring to a pydantic arguments model and a JSON Schema for the model.

Type hints become the schema (``int``, ``float``, ``str``, ``bool``, ``Literal``/``Enum`` as ``enum``, ``Optional``,
lists, dicts, pydantic models, ``datetime``/``date``); defaults make a parameter optional. Descriptions come from
``Annotated[int, "text"]``, ``Annotated[int, Field(description=...)]`` or the docstring's ``Args:`` (Google),
``Parameters`` (NumPy) or ``:param x:`` (Sphinx) entries, in that order of precedence.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic.fields import FieldInfo

__all__ = ["Docstring", "ToolSignature", "clean_schema", "parse_docstring", "signature_of"]


@dataclass(frozen=True)
class Docstring:
    """What a docstring tells the model: a summary (its first paragraph) and one description per parameter."""

    summary: str
    params: dict[str, str]


_GOOGLE_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:\s*$")
_ANY_GOOGLE_SECTION = re.compile(r"^[A-Z][A-Za-z ]{2,30}:\s*$")
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> Docstring:
    """Split a (cleaned) docstring into its summary and its per-parameter descriptions."""
    lines = inspect.cleandoc(doc).splitlines() if doc else []
    params: dict[str, str] = {}
    summary: list[str] = []
    in_summary = True
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        is_numpy_header = i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip() or "x") is not None
        if _GOOGLE_SECTION.match(line):
            i = _google_entries(lines, i + 1, params)
            in_summary = False
            continue
        if is_numpy_header:
            in_summary = False
            if stripped in ("Parameters", "Other Parameters"):
                i = _numpy_entries(lines, i + 2, params)
                continue
            i += 2
            continue
        if sphinx := _SPHINX_PARAM.match(stripped):
            i = _continued(lines, i, sphinx.group(1), sphinx.group(2), params)
            in_summary = False
            continue
        if in_summary:
            if not stripped or _ANY_GOOGLE_SECTION.match(line) or stripped.startswith(":"):
                in_summary = bool(not summary and not stripped)
            else:
                summary.append(stripped)
        i += 1
    return Docstring(" ".join(summary), params)


def _google_entries(lines: list[str], i: int, params: dict[str, str]) -> int:
    entry_indent: int | None = None
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        if line.strip() and not line.startswith((" ", "\t")):
            break  # back at the left margin: the section is over
        indent = len(line) - len(line.lstrip())
        if line.strip():
            if entry_indent is None:
                entry_indent = indent
            match = _GOOGLE_ENTRY.match(line.strip()) if indent == entry_indent else None
            if match:
                current = match.group(1)
                params[current] = match.group(2).strip()
            elif current is not None:
                params[current] = f"{params[current]} {line.strip()}".strip()
        i += 1
    return i


def _numpy_entries(lines: list[str], i: int, params: dict[str, str]) -> int:
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        next_is_rule = i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip() or "x") is not None
        if next_is_rule:
            break  # the next section's header
        if line.strip() and not line.startswith((" ", "\t")):
            match = _NUMPY_ENTRY.match(line.strip())
            current = match.group(1) if match else None
            if current:
                params[current] = ""
        elif line.strip() and current is not None:
            params[current] = f"{params[current]} {line.strip()}".strip()
        i += 1
    return i


def _continued(lines: list[str], i: int, name: str, first: str, params: dict[str, str]) -> int:
    text = [first.strip()]
    i += 1
    while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
        text.append(lines[i].strip())
        i += 1
    params[name] = " ".join(t for t in text if t)
    return i


# ---- signature → arguments model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSignature:
    """The arguments model of a function, and which of its parameters must be passed by position."""

    model: type[BaseModel]
    positional_only: tuple[str, ...]
    docstring: Docstring

    def call_arguments(self, validated: BaseModel) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments for the function, from a validated arguments model."""
        values = {name: getattr(validated, name) for name in type(validated).model_fields}
        args = [values.pop(name) for name in self.positional_only if name in values]
        return args, values


class _Arguments(BaseModel):
    # Unknown arguments are refused, so the model learns the right names from the error instead of being ignored.
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=False)


def signature_of(fn: Callable[..., Any], name: str) -> ToolSignature:
    """The arguments model for ``fn``; raises ``TypeError`` for parameters the model cannot supply."""
    bound_by_partial = set(fn.keywords) if isinstance(fn, functools.partial) else set()
    docstring = parse_docstring(inspect.getdoc(_unwrap_partial(fn)))
    fields: dict[str, Any] = {}
    positional_only: list[str] = []
    for param in _resolved_parameters(fn, name):
        if param.name in bound_by_partial:
            continue
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(
                f"tool {name!r} takes *{param.name}; a tool needs named parameters the model can fill in. "
                "Give it explicit parameters, or wrap it in a function that has them."
            )
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional_only.append(param.name)
        annotation = Any if param.annotation is inspect.Parameter.empty else param.annotation
        fields[param.name] = (annotation, _field(annotation, param, docstring.params.get(param.name)))
    try:
        model = create_model(f"{name}_arguments", __base__=_Arguments, **fields)
        model.model_json_schema()
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise TypeError(
            f"tool {name!r} has a parameter the model cannot send as JSON ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}). Data such as a DataFrame should not be a parameter: capture it in a "
            "closure or bind it with functools.partial, and let the model pass only names, numbers and text."
        ) from exc
    return ToolSignature(model, tuple(positional_only), docstring)


def _resolved_parameters(fn: Callable[..., Any], name: str) -> list[inspect.Parameter]:
    """The parameters with string annotations (``from __future__ import annotations``) evaluated."""
    try:
        return list(inspect.signature(fn, eval_str=True).parameters.values())
    except (NameError, SyntaxError, TypeError):
        pass  # perhaps only the return annotation cannot be resolved, which does not matter: go one by one
    namespace = getattr(inspect.unwrap(_unwrap_partial(fn)), "__globals__", {})
    parameters: list[inspect.Parameter] = []
    for param in inspect.signature(fn).parameters.values():
        if isinstance(param.annotation, str):
            try:
                param = param.replace(annotation=eval(param.annotation, namespace))  # noqa: PLW2901
            except Exception as exc:
                raise TypeError(
                    f"cannot resolve the type {param.annotation!r} of parameter {param.name!r} of tool {name!r} "
                    f"({exc}); with `from __future__ import annotations`, define the types a tool uses at the "
                    "top level of the module or notebook"
                ) from exc
        parameters.append(param)
    return parameters


def _unwrap_partial(fn: Callable[..., Any]) -> Callable[..., Any]:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def _field(annotation: Any, param: inspect.Parameter, doc_description: str | None) -> FieldInfo:
    # Precedence: the annotation's own description, then the docstring's.
    description = _annotated_description(annotation) or doc_description or None
    default = param.default if param.default is not inspect.Parameter.empty else ...
    if description is None:
        return Field(default)  # type: ignore[no-any-return]
    return Field(default, description=description)  # type: ignore[no-any-return]


def _annotated_description(annotation: Any) -> str | None:
    if get_origin(annotation) is not Annotated:
        return None
    for meta in get_args(annotation)[1:]:
        if isinstance(meta, str) and meta.strip():
            return meta.strip()
        if isinstance(meta, FieldInfo) and meta.description:
            return meta.description
    return None


# ---- JSON Schema for the model -------------------------------------------------------------------------------------

_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema made compact for the model: titles dropped and ``$ref``s inlined.

    Titles repeat the property names and cost tokens; inlined definitions read more plainly. A recursive type keeps
    its ``$defs``, since it cannot be inlined.
    """
    defs: dict[str, Any] = schema.get("$defs", {})
    recursive: set[str] = set()

    def walk(node: Any, stack: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [walk(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            ref_name = ref.removeprefix("#/$defs/")
            if ref_name in stack or ref_name not in defs:
                recursive.add(ref_name)
                return {k: walk(v, stack) for k, v in node.items() if k != "title"}
            target = walk(defs[ref_name], stack | {ref_name})
            siblings = {k: walk(v, stack) for k, v in node.items() if k not in ("$ref", "title")}
            return {**target, **siblings}
        cleaned: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("title", "$defs"):
                continue
            if key in _NAME_MAPS and isinstance(value, dict):
                cleaned[key] = {name: walk(sub, stack) for name, sub in value.items()}
            else:
                cleaned[key] = walk(value, stack)
        return cleaned

    result: dict[str, Any] = walk(schema, frozenset())
    if recursive:
        kept = {name: walk(defs[name], frozenset({name})) for name in recursive if name in defs}
        result["$defs"] = kept
    return result
