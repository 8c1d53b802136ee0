"""Which of the session's tools a user's words ask for, and the arguments those words give it.

Used by the local responder. Deterministic keyword rules, no model: a tool matches when the words contain tokens
of its name (``get_weather`` -> "weather") or several keywords of its description. Arguments are filled from
the tool's JSON schema: enum values mentioned, numbers (digits or English number words) in order, a string from a
quoted phrase, the words after the property's name, or the phrase after a preposition ("in Paris"); otherwise the
schema default; required properties are always present (with a typed empty value as the last resort).
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_QUOTED = re.compile(r"[\"“”']([^\"“”']+)[\"“”']")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

#: Words too common to identify a tool or to be an argument by themselves.
STOPWORDS = frozenset(
    """a an the and or but of to for in on at by with from into about as is are was were be been it its this that
    these those i me my you your we our he she they them what which who whom how when where why can could would
    should will shall do does did please tell give get set make show find run call use tool function let lets
    let's some any all there here now today just also then than so if not no yes okay ok hey hi off""".split()  # noqa: SIM905
)
#: Words after which a phrase is taken as a string argument ("weather in Paris", "a song called Yesterday").
PREPOSITIONS = ("called", "named", "titled", "about", "for", "in", "at", "to", "from", "of", "with", "on")
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of ``text``."""
    return _TOKEN.findall(text.lower())


def name_tokens(name: str) -> list[str]:
    """Tokens of an identifier: ``get_weather``, ``getWeather`` and ``get-weather`` all give get, weather."""
    return tokens(_CAMEL.sub(" ", name).replace("_", " ").replace("-", " "))


def _stem(word: str) -> str:
    # Enough to match "lights" with "light" and "timers" with "timer"; not a real stemmer.
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _keywords(words: list[str]) -> set[str]:
    return {_stem(w) for w in words if w not in STOPWORDS and len(w) > 2}


def function_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The function tools among the session's tools (MCP and other kinds are not called by this model)."""
    return [t for t in tools if t.get("type", "function") == "function" and isinstance(t.get("name"), str)]


def tool_score(tool: dict[str, Any], heard: list[str]) -> int:
    """How strongly the words ``heard`` point at ``tool``: 3 per name keyword present, 1 per description keyword."""
    heard_keys = _keywords(heard)
    name_keys = _keywords(name_tokens(tool["name"]))
    description_keys = _keywords(tokens(str(tool.get("description") or ""))) - name_keys
    return 3 * len(name_keys & heard_keys) + len(description_keys & heard_keys)


#: A tool is chosen under ``tool_choice: auto`` at this score: one name keyword, or three description keywords.
MATCH_SCORE = 3


def best_tool(tools: list[dict[str, Any]], text: str) -> tuple[dict[str, Any] | None, int]:
    """The best-scoring function tool for ``text`` and its score (first in list order on ties)."""
    heard = tokens(text)
    best: dict[str, Any] | None = None
    best_score = 0
    for tool in function_tools(tools):
        score = tool_score(tool, heard)
        if score > best_score:
            best, best_score = tool, score
    return best, best_score


# ---- numbers -----------------------------------------------------------------------------------------------------
class _SpokenNumber:
    """An English number being read word by word: ``total`` holds finished thousands, ``part`` the rest."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.total = 0
        self.part = 0
        self.last = ""

    def takes(self, word: str) -> bool:
        """Whether ``word`` continues this number ("five twenty" is two numbers, "twenty five" one)."""
        if word in _SCALES:
            return True
        if word in _TENS:
            return self.part % 100 == 0
        return self.last in _TENS or self.last in _SCALES

    def add(self, word: str) -> None:
        if word == "thousand":
            self.total += max(self.part, 1) * 1000
            self.part = 0
        elif word == "hundred":
            self.part = max(self.part, 1) * 100
        else:
            self.part += _UNITS.get(word, 0) + _TENS.get(word, 0)
        self.last = word

    @property
    def value(self) -> float:
        return float(self.total + self.part)


def numbers_in(text: str) -> list[float]:
    """Numbers in ``text`` in order: digits ("21", "3.5") and English number words ("twenty one", "one hundred",
    "two thousand five hundred")."""
    found: list[tuple[int, float]] = [(m.start(), float(m.group())) for m in _NUMBER.finditer(text)]
    current: _SpokenNumber | None = None
    for match in _TOKEN.finditer(text.lower()):
        word = match.group()
        if word not in _UNITS and word not in _TENS and (word not in _SCALES or current is None):
            if current is not None:
                found.append((current.start, current.value))
                current = None
            continue
        if current is not None and not current.takes(word):
            found.append((current.start, current.value))
            current = None
        if current is None:
            current = _SpokenNumber(match.start())
        current.add(word)
    if current is not None:
        found.append((current.start, current.value))
    return [number for _, number in sorted(found)]


# ---- strings -----------------------------------------------------------------------------------------------------
def _phrase_after(words: list[str], index: int) -> str:
    taken: list[str] = []
    for word in words[index:]:
        if word.lower() in STOPWORDS:
            if taken:
                break
            continue
        taken.append(word)
        if len(taken) == 3:
            break
    return " ".join(taken)


def _original_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?", text)


def string_after_name(text: str, prop: str) -> str:
    """The words after the property's name in ``text`` ("city Paris" -> "Paris"), or ""."""
    words = _original_words(text)
    keys = set(name_tokens(prop))
    for index, word in enumerate(words):
        if word.lower() in keys and word.lower() not in STOPWORDS:
            phrase = _phrase_after(words, index + 1)
            if phrase:
                return phrase
    return ""


def string_after_preposition(text: str, skip: set[str], after: set[str], numeric: set[str]) -> str:
    """The phrase after the first preposition that follows a word in ``after`` (the tool's keywords; from the
    start when none occurs), skipping phrases made only of words in ``skip`` (keywords, enum values) or holding
    a number (a word in ``numeric`` or digits)."""
    words = _original_words(text)
    lowered = [_stem(w.lower()) for w in words]
    anchor = max((i for i, w in enumerate(lowered) if w in after), default=-1)
    for begin in (anchor + 1, 0):
        for index in range(begin, len(words)):
            if words[index].lower() in PREPOSITIONS:
                phrase = _phrase_after(words, index + 1)
                phrase_words = {_stem(w.lower()) for w in phrase.split()}
                if phrase and not phrase_words <= skip and not phrase_words & numeric:
                    return phrase
    return ""


# ---- arguments ---------------------------------------------------------------------------------------------------
def _empty(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if schema.get("enum"):
        return schema["enum"][0]
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}, "null": None}.get(
        str(kind), ""
    )


def _enum_value(schema: dict[str, Any], heard: list[str]) -> Any:
    heard_text = " " + " ".join(heard) + " "
    for value in schema["enum"]:
        if " " + " ".join(tokens(str(value))) + " " in heard_text:
            return value
    return None


def _clamp(value: float, schema: dict[str, Any]) -> float:
    if isinstance(schema.get("minimum"), int | float):
        value = max(value, float(schema["minimum"]))
    if isinstance(schema.get("maximum"), int | float):
        value = min(value, float(schema["maximum"]))
    return value


_NEGATIVE = frozenset({"off", "no", "not", "false", "disable", "disabled", "stop", "close", "without", "don't"})
_POSITIVE = frozenset({"on", "yes", "true", "enable", "enabled", "start", "open", "with"})


def _boolean(heard: list[str]) -> bool | None:
    words = set(heard)
    if words & _NEGATIVE:
        return False
    return True if words & _POSITIVE else None


def _enum_words(schema: Any) -> set[str]:
    words: set[str] = set()
    if isinstance(schema, dict):
        for value in schema.get("enum") or []:
            words.update(_stem(w) for w in tokens(str(value)))
        for child in (schema.get("properties") or {}).values():
            words |= _enum_words(child)
    return words


class _ArgumentFiller:
    """Fills one tool's arguments from one utterance; tracks which numbers and phrases are already used."""

    def __init__(self, tool: dict[str, Any], text: str) -> None:
        self.text = text
        self.heard = tokens(text)
        self.numbers = numbers_in(text)
        self.quoted = [m.group(1).strip() for m in _QUOTED.finditer(text) if m.group(1).strip()]
        self.tool_keys = _keywords(name_tokens(tool["name"]))
        self.skip = self.tool_keys | _enum_words(tool.get("parameters"))
        self.numeric = set(_UNITS) | set(_TENS) | set(_SCALES) | {w for w in self.heard if w.isdigit()}
        self.phrase_used = False

    def fill(self, schema: dict[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties") or {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        result: dict[str, Any] = {}
        for prop, prop_schema in properties.items():
            value = self._value(prop, prop_schema if isinstance(prop_schema, dict) else {}, prop in required)
            if value is not None:
                result[prop] = value
        for prop in required:
            result.setdefault(prop, "")  # required but not described: present, as the API's callers expect
        return result

    def _value(self, prop: str, schema: dict[str, Any], required: bool) -> Any:
        kind = schema.get("type")
        kind = kind[0] if isinstance(kind, list) and kind else kind
        found: Any = None
        if schema.get("enum"):
            found = _enum_value(schema, self.heard)
        elif kind in ("integer", "number"):
            if self.numbers:
                number = _clamp(self.numbers.pop(0), schema)
                found = int(number) if kind == "integer" else number
        elif kind == "boolean":
            found = _boolean(self.heard)
        elif kind == "object" and isinstance(schema.get("properties"), dict):
            nested = self.fill(schema)
            found = nested if nested or required else None
        elif kind == "string" or kind is None:
            found = self._string(prop)
        if found is None and "default" in schema:
            found = schema["default"]
        if found is None and required:
            found = _empty(schema)
        return found

    def _string(self, prop: str) -> str | None:
        if self.quoted:
            return self.quoted.pop(0)
        after_name = string_after_name(self.text, prop)
        if after_name:
            return after_name
        if not self.phrase_used:
            phrase = string_after_preposition(self.text, self.skip, self.tool_keys, self.numeric)
            if phrase:
                self.phrase_used = True
                return phrase
        return None


def fill_arguments(tool: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for ``tool`` taken from the words ``text``, following its JSON-schema ``parameters``."""
    parameters = tool.get("parameters")
    return _ArgumentFiller(tool, text).fill(parameters if isinstance(parameters, dict) else {})
