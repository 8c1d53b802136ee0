"""A local, offline, Realtime-compatible server: the peer of every end-to-end test and the widget's server when no
OpenAI key is set.

Run it: ``python -m realtime_widget.server --port 0 [--api-key KEY] [--exit-with-parent] [--strict]`` (the key
may also come from ``REALTIME_WIDGET_SERVER_KEY``); it prints ``Realtime server ready at http://HOST:PORT/v1``.
From Python: ``launcher.LocalServer.start()`` (a child process) or ``app.RealtimeServer`` (in-process, async).

Endpoints, as the GA Realtime API has them: ``POST /v1/realtime/client_secrets``, ``POST /v1/realtime/calls`` (SDP
or multipart), ``POST /v1/realtime/calls/{id}/hangup`` and the WebSocket ``GET /v1/realtime?model=...`` (or
``?call_id=`` for a WebRTC call's sideband). A control API for tests lives under ``/_local/`` (``control.py``).

Modules, one job each: ``app`` (server state, aiohttp app), ``http_api``, ``websocket``, ``webrtc`` (transports),
``engine`` (the session protocol), ``responses`` (one response's events), ``conversation``, ``input_buffer``,
``session_config``, ``auth``, ``events`` (event ids and strict validation), ``audio_out`` (paced WebRTC track),
``g711``, ``usage``, ``deps``/``fallbacks`` (what the engine needs from a voice model), ``model`` (the seams),
and the offline voice model itself (``voice``, ``vad``, ``asr``, ``tts``, ``responder``, ``script``).
"""
