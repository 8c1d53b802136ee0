"""A Jupyter server extension that keeps the widget's keys out of the Jupyter server's log.

On a remote kernel the browser reaches the local server's Realtime WebSocket through jupyter-server-proxy, and
the browser can only authenticate a WebSocket with the key in its subprotocol list
(``["realtime", "openai-insecure-api-key.<ephemeral key>"]``, as the API documents for browsers). The proxy logs
that list: ``ProxyHandler.select_subprotocol`` at DEBUG ("Client sent subprotocols: [...]") and, when the server
picks another protocol than the proxy did, ``start_websocket_connection`` at WARNING ("Requested subprotocols
were [...]"), both on the server's application log (jupyter-server-proxy 4.x, ``jupyter_server_proxy/handlers.py``).

Keeping the key out of the handshake is not an option (it is the only credential a browser WebSocket can carry,
and a query parameter would be in the access log instead), so this extension redacts it where it is logged: a
filter on the application log and on its handlers rewrites any record that carries a key. It is enabled by the
``jupyter_server_config.d/realtime_widget.json`` file the package installs, and costs nothing when the proxy is
not used.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: What a key looks like in a log line: the browser WebSocket's key protocol, an ephemeral key (``ek_...``) or a
#: standard key (``sk-...``) anywhere in the text.
_SECRET = re.compile(r"(openai-insecure-api-key\.)[^\s'\",()\[\]]+|\b(ek_|sk-)[A-Za-z0-9_\-]{8,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every key in it replaced by ``[redacted]`` (the prefix that says which kind is kept).

    Redacting twice changes nothing (a record can pass the logger's filter and a handler's)."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)


class SecretRedactingFilter(logging.Filter):
    """Rewrites a log record whose message carries a key, so the key never reaches a log handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install(log: logging.Logger) -> SecretRedactingFilter:
    """Adds the filter to ``log`` (records logged on it) and to its handlers (records propagated from others)."""
    redacting = SecretRedactingFilter()
    for target in (log, *log.handlers):
        if not any(isinstance(f, SecretRedactingFilter) for f in target.filters):
            target.addFilter(redacting)
    return redacting


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "realtime_widget.jupyter_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    log: logging.Logger = serverapp.log
    install(log)
    log.debug("realtime_widget: keys are redacted from this server's log")
