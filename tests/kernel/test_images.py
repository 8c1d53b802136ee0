"""send_image: what a notebook has, as input_image content the model sees (and the local server describes)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from realtime_widget import RealtimeWidget
from realtime_widget.images import MAX_IMAGE_BYTES, decode_data_url, describe, image_parts

matplotlib = pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def figure() -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    fig.add_subplot().plot([1, 3, 2])
    return fig


def png_of(part: dict[str, Any]) -> bytes:
    data = decode_data_url(part["image_url"])
    assert data is not None
    return data


def test_a_figure_a_pil_image_a_path_and_bytes_become_one_input_image(tmp_path: Path) -> None:
    picture = Image.new("RGB", (64, 48), "teal")
    path = tmp_path / "picture.png"
    picture.save(path)
    for given in (figure(), picture, path, str(path), path.read_bytes()):
        (part,) = image_parts(given)
        assert part["type"] == "input_image"
        assert part["image_url"].startswith("data:image/png;base64,")
    assert describe(png_of(image_parts(picture)[0])) == "a 64 by 48 PNG"


def test_a_dataframe_goes_as_text_and_as_a_table_image() -> None:
    frame = pd.DataFrame({"region": ["north", "south"], "sales": [120.5, 99.0]})
    text, picture = image_parts(frame)
    assert text["type"] == "input_text"
    assert "north" in text["text"]
    assert "120.5" in text["text"]
    assert png_of(picture).startswith(b"\x89PNG")


def test_a_large_image_is_shrunk_to_fit_the_data_channel() -> None:
    noise = Image.effect_noise((1600, 1200), 80).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert buffer.tell() > MAX_IMAGE_BYTES
    (part,) = image_parts(buffer.getvalue())
    assert len(png_of(part)) <= MAX_IMAGE_BYTES
    assert describe(png_of(part)).endswith("JPEG")


def test_anything_else_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="matplotlib figure, a PIL image"):
        image_parts(42)
    with pytest.raises(ValueError, match="PNG or JPEG"):
        image_parts(b"GIF89a...")


def test_send_image_sends_one_valid_user_message_and_asks_for_an_answer() -> None:
    w = RealtimeWidget(api_key="sk-" + "test" * 6, base_url="http://127.0.0.1:9/v1")
    sent: list[dict[str, Any]] = []
    w.send = sent.append
    try:
        w.send_image(figure(), "What stands out?")
    finally:
        w.close()
    events = [m["command"]["event"] for m in sent if m.get("type") == "rtw:cmd" and m["command"]["name"] == "send"]
    assert [e["type"] for e in events] == ["conversation.item.create", "response.create"]
    content = events[0]["item"]["content"]
    assert [c["type"] for c in content] == ["input_image", "input_text"]
    assert base64.b64decode(content[0]["image_url"].split(",", 1)[1]).startswith(b"\x89PNG")
