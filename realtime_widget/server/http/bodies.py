"""Reading request bodies: JSON objects, text and multipart forms, with every way they can be malformed answered
as a 400 in the API's error shape rather than an exception (a 500) in the handler."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from realtime_widget.server.http.errors import error_response

#: The API's words for a body it cannot parse (its 400 ``invalid_request_error``).
NOT_JSON = "We could not parse the JSON body of your request."


class BadBodyError(Exception):
    """A request body that cannot be read; ``response`` is the 400 to answer with."""

    def __init__(self, message: str, *, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.response = error_response(400, message, code=code, param=param)


def parse_json_object(data: bytes | str, *, param: str | None = None) -> dict[str, Any]:
    """``data`` parsed as a JSON object; ``BadBodyError`` when it is not UTF-8, not JSON (or nested deeper than
    the parser goes), or not an object."""
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        where = f"the '{param}' part" if param else "the JSON body of your request"
        raise BadBodyError(f"We could not parse {where}: {_reason(exc)}", code="invalid_json", param=param) from exc
    if not isinstance(parsed, dict):
        what = f"'{param}'" if param else "The request body"
        raise BadBodyError(
            f"{what} must be a JSON object.", code="invalid_type" if param else "invalid_json", param=param
        )
    return parsed


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, ``{}`` when there is none."""
    if not request.can_read_body:
        return {}
    data = await request.read()
    return parse_json_object(data) if data.strip() else {}


async def text(request: web.Request, *, param: str | None = None) -> str:
    """The body as UTF-8 text (whatever charset the request claims: the API's bodies are UTF-8)."""
    return decode_utf8(await request.read(), param=param)


def decode_utf8(data: bytes, *, param: str | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        what = f"'{param}'" if param else "The request body"
        raise BadBodyError(f"{what} is not valid UTF-8 text.", code="invalid_value", param=param) from exc


async def multipart_parts(request: web.Request) -> dict[str, bytes]:
    """The named parts of a ``multipart/form-data`` body as bytes (the last one wins for a repeated name)."""
    parts: dict[str, bytes] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name:
                parts[part.name] = bytes(await part.read(decode=True))
    except (ValueError, LookupError, RuntimeError, AssertionError, HttpProcessingError) as exc:
        # aiohttp raises these for a missing boundary, a truncated part, a broken header or an unknown encoding.
        raise BadBodyError(f"The multipart body could not be read: {_reason(exc)}", code="invalid_multipart") from exc
    return parts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it is nested too deeply."
    if isinstance(exc, UnicodeDecodeError):
        return "it is not valid UTF-8."
    if isinstance(exc, HttpProcessingError):
        return f"{exc.message or type(exc).__name__}."
    return f"{str(exc).rstrip('.')}." if str(exc) else type(exc).__name__
