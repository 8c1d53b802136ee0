"""A local, offline, Realtime-compatible server: the peer of every end-to-end test and the widget's server when no
OpenAI key is set.

Run it: ``python -m realtime_widget.server --port 0 [--api-key KEY] [--exit-with-parent] [--strict]`` (the key
may also come from ``REALTIME_WIDGET_SERVER_KEY``); it prints ``Realtime server ready at http://HOST:PORT/v1``.
From Python: ``launcher.LocalServer.start()`` (a child process) or ``http.app.RealtimeServer`` (in-process, async).

Endpoints, as the GA Realtime API has them: ``POST /v1/realtime/client_secrets``, ``POST /v1/realtime/calls`` (SDP
or multipart), ``POST /v1/realtime/calls/{id}/hangup`` and the WebSocket ``GET /v1/realtime?model=...`` (or
``?call_id=`` for a WebRTC call's sideband). A control API for tests lives under ``/_local/``.

Four layers, each a subpackage that imports only the ones below it: ``http`` (the application, routes, keys,
errors) → ``transports`` (WebRTC, WebSocket) → ``session`` (the protocol engine) → ``voice`` (the offline model);
``pcm`` is the audio format they share. ``docs/architecture.md`` lists every module.
"""

#: The environment variable that hands the standard key to a server started by ``launcher`` (never on argv,
#: where other users of the machine could read it). Here so the kernel's launcher needs nothing heavier.
KEY_ENV = "REALTIME_WIDGET_SERVER_KEY"
