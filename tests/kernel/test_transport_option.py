"""``RealtimeWidget(transport=...)``: checked at once, and carried to the browser in the ``options`` trait with the
local server's port (the proxy routes need it), which is absent for any other server."""

from __future__ import annotations

import pytest

from realtime_widget import RealtimeWidget
from realtime_widget.connection_options import check_transport, route_options
from tests.kernel.test_widget import UNUSED_BASE_URL, fake_key


@pytest.mark.parametrize("transport", ["auto", "webrtc", "websocket"])
def test_each_transport_reaches_the_options_trait(transport: str) -> None:
    widget = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, transport=transport)  # type: ignore[arg-type]
    try:
        assert widget.options["transport"] == transport
        assert widget.options["local_server_port"] is None  # not the kernel's local server: no proxy route
    finally:
        widget.close()


def test_auto_is_the_default() -> None:
    widget = RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL)
    try:
        assert widget.options["transport"] == "auto"
    finally:
        widget.close()


def test_a_wrong_transport_names_the_choices() -> None:
    with pytest.raises(ValueError, match="transport must be one of auto, webrtc, websocket; got 'websockets'"):
        check_transport("websockets")
    with pytest.raises(TypeError, match="got int"):
        check_transport(1)
    with pytest.raises(ValueError, match="transport must be one of"):
        RealtimeWidget(api_key=fake_key(), base_url=UNUSED_BASE_URL, transport="udp")  # type: ignore[arg-type]


def test_the_local_servers_port_is_read_from_its_url() -> None:
    assert route_options("auto", "http://127.0.0.1:8123/v1") == {"transport": "auto", "local_server_port": 8123}
    assert route_options("webrtc", None) == {"transport": "webrtc", "local_server_port": None}
