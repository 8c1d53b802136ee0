"""How a session's events and audio travel: WebRTC (aiortc: a data channel and an Opus track paced in real time)
and WebSocket (JSON events, audio as base64). Both implement ``call.Call`` around one session engine."""
