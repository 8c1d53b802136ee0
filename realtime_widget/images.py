"""Images a notebook has, as content the model can see: ``input_image`` parts (a data URL of PNG or JPEG bytes).

``widget.send_image(x)`` takes a matplotlib figure, a PIL image, a path to a PNG or JPEG file, PNG or JPEG bytes,
or a pandas DataFrame (rendered as a table image, and also given as text so the model can read the numbers
exactly). Rendering needs matplotlib (the ``analysis`` extra); without it a DataFrame goes as text alone.
"""

from __future__ import annotations

import base64
import io
import logging
import struct
from pathlib import Path
from typing import Any, Literal

import pandas as pd

log = logging.getLogger(__name__)

Detail = Literal["auto", "low", "high"]

#: Bytes of image data sent at most. The whole event crosses the WebRTC data channel as one message, and
#: Chromium's SCTP transport allows 256 KiB per message; base64 makes data a third larger.
MAX_IMAGE_BYTES = 180_000
#: Rows and columns of a DataFrame shown in its image (the text part has up to ``MAX_TABLE_TEXT`` characters).
MAX_TABLE_ROWS = 40
MAX_TABLE_TEXT = 20_000

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


def image_parts(image: Any, *, detail: Detail = "auto") -> list[dict[str, Any]]:
    """The user message content for ``image``: one ``input_image`` part, preceded by an ``input_text`` part for a
    DataFrame. Raises ``TypeError`` for anything else, and ``ValueError`` for bytes that are not PNG or JPEG."""
    if isinstance(image, pd.DataFrame):
        return _table_parts(image, detail)
    data = _image_bytes(image)
    return [_input_image(_fit(data), detail)]


def describe(data: bytes) -> str:
    """``"a 640 by 480 PNG"``: what the image is, from its header (PNG or JPEG)."""
    size = _dimensions(data)
    kind = "PNG" if data.startswith(_PNG) else "JPEG" if data.startswith(_JPEG) else "image"
    return f"a {size[0]} by {size[1]} {kind}" if size else f"a {kind}"


def decode_data_url(url: str) -> bytes | None:
    """The bytes of a ``data:image/...;base64,`` URL, or ``None`` for anything else (an http URL)."""
    head, _, payload = url.partition(",")
    if not head.startswith("data:image/") or not head.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError:
        return None


def _image_bytes(image: Any) -> bytes:
    if isinstance(image, bytes | bytearray):
        data = bytes(image)
    elif isinstance(image, str | Path):
        data = Path(image).expanduser().read_bytes()
    elif hasattr(image, "savefig"):  # a matplotlib Figure
        buffer = io.BytesIO()
        image.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        data = buffer.getvalue()
    elif hasattr(image, "save") and hasattr(image, "size"):  # a PIL Image
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
    else:
        raise TypeError(
            "send_image takes a matplotlib figure, a PIL image, a PNG or JPEG path or bytes, or a DataFrame; "
            f"got {type(image).__name__}"
        )
    if not data.startswith((_PNG, _JPEG)):
        raise ValueError("the image must be PNG or JPEG (the formats the Realtime API takes)")
    return data


def _fit(data: bytes) -> bytes:
    """``data`` itself when small enough, else a smaller JPEG of it (needs Pillow; without it, as it is)."""
    if len(data) <= MAX_IMAGE_BYTES:
        return data
    try:
        from PIL import Image  # noqa: PLC0415 - optional: comes with matplotlib (the analysis extra)
    except ImportError:
        log.warning("image of %d bytes may be too large for the data channel; install Pillow to shrink it", len(data))
        return data
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    while True:
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=85)
        if buffer.tell() <= MAX_IMAGE_BYTES or min(picture.size) < 64:
            return buffer.getvalue()
        picture = picture.resize((picture.width * 3 // 4, picture.height * 3 // 4))


def _input_image(data: bytes, detail: Detail) -> dict[str, Any]:
    mime = "image/png" if data.startswith(_PNG) else "image/jpeg"
    return {
        "type": "input_image",
        "image_url": f"data:{mime};base64,{base64.b64encode(data).decode()}",
        "detail": detail,
    }


def _table_parts(frame: pd.DataFrame, detail: Detail) -> list[dict[str, Any]]:
    text = frame.to_string(max_rows=MAX_TABLE_ROWS * 5)[:MAX_TABLE_TEXT]
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": f"A table ({len(frame)} rows):\n{text}"}]
    try:
        parts.append(_input_image(_fit(_table_png(frame.head(MAX_TABLE_ROWS))), detail))
    except ImportError:
        log.info(
            "matplotlib is not installed: the DataFrame goes as text only (pip install 'realtime-widget[analysis]')"
        )
    return parts


def _table_png(frame: pd.DataFrame) -> bytes:
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional (the analysis extra); no pyplot state

    rows, columns = frame.shape
    figure = Figure(figsize=(min(2 + 1.4 * (columns + 1), 16), 0.6 + 0.32 * (rows + 1)))
    axes = figure.add_subplot()
    axes.axis("off")
    cells = [[str(value) for value in row] for row in frame.itertuples(index=False)]
    table = axes.table(
        cellText=cells or [[""] * columns],
        colLabels=[str(c) for c in frame.columns],
        rowLabels=[str(i) for i in frame.index],
        loc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _dimensions(data: bytes) -> tuple[int, int] | None:
    if data.startswith(_PNG) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
        return int(width), int(height)
    if data.startswith(_JPEG):
        at = 2
        while at + 9 < len(data):
            if data[at] != 0xFF:
                return None
            marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):  # start of frame: height, then width
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return int(width), int(height)
            at += 2 + length
    return None
