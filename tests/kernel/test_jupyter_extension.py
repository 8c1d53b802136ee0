"""The Jupyter server extension's log filter: keys in a record's message are redacted, everything else kept."""

from __future__ import annotations

import io
import logging

from realtime_widget.jupyter_extension import SecretRedactingFilter, install, redact

#: Shaped like an ephemeral key, plainly not one.
KEY = "ek_test_" + "0" * 24


def test_redact_replaces_the_subprotocol_key_and_bare_keys() -> None:
    line = f"Client sent subprotocols: ['realtime', 'openai-insecure-api-key.{KEY}'], selecting the first"
    assert redact(line) == (
        "Client sent subprotocols: ['realtime', 'openai-insecure-api-key.[redacted]'], selecting the first"
    )
    assert redact(f"key {KEY} and sk-local-abcdefghijkl") == "key ek_[redacted] and sk-[redacted]"
    assert redact(redact(line)) == redact(line)
    assert redact("GET /proxy/8765/v1/realtime?model=gpt-realtime 101") == (
        "GET /proxy/8765/v1/realtime?model=gpt-realtime 101"
    )


def test_installed_filter_rewrites_records_on_the_logger_and_from_its_children() -> None:
    log = logging.getLogger("test-jupyter-extension")
    log.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        install(log)
        install(log)  # once is enough; twice adds nothing
        assert sum(isinstance(f, SecretRedactingFilter) for f in log.filters) == 1
        log.debug("Client sent subprotocols: %s", ["realtime", f"openai-insecure-api-key.{KEY}"])
        logging.getLogger("test-jupyter-extension.child").warning("Requested subprotocols were %s", [KEY])
        log.info("nothing secret here: %d", 42)
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert KEY not in written
    assert "'openai-insecure-api-key.[redacted]'" in written
    assert "['ek_[redacted]']" in written
    assert "nothing secret here: 42" in written
