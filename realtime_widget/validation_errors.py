"""pydantic's validation errors in the words our messages use: where the problem is (a dotted path, as the API's
``param`` names it) and what it is. Used by the kernel (tool arguments, the record's validity check) and the local
server (client events, session objects), so they all describe a bad value the same way."""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def where(error: ErrorDetails, *, tagged_union: bool = False) -> str:
    """The dotted path of the value at fault (``"session.audio.input.turn_detection.threshold"``), without the
    union members pydantic names on the way (class names, ``function-…``/``tagged-union[…]`` steps). With
    ``tagged_union`` the first step is the union's tag (an event's type) and is left out too."""
    loc = error["loc"][1:] if tagged_union else error["loc"]
    parts = [str(p) for p in loc if not _UNION_MEMBER.match(str(p)) and not str(p)[:1].isupper()]
    return ".".join(parts)


#: The steps pydantic adds for the member of a union it tried: a type (``int``, ``literal['inf']``), a validator
#: (``function-after[...]``), a tagged union; none is a field.
_UNION_MEMBER = re.compile(
    r"^(?:int|float|str|bool|none|list\[.*\]|dict\[.*\]|literal\[.*\]|function-.*|tagged-union.*)$"
)


def what(error: ErrorDetails) -> str:
    """What is wrong, in plain words (pydantic's message, except for a missing or an unexpected field)."""
    if error["type"] == "missing":
        return "required but missing"
    if error["type"] == "extra_forbidden":
        return "not expected here"
    return str(error["msg"])


def first_error(exc: ValidationError) -> ErrorDetails:
    """The first problem pydantic found (the one a message names, as the API names one ``param``)."""
    return exc.errors()[0]
