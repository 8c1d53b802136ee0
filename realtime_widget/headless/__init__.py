"""The parts of a headless :class:`realtime_widget.Session`: the kernel connects itself, with no browser.

``clock`` the session's one time axis; ``user_audio`` what the simulated user says, as PCM; ``microphone`` that
audio in real time, 20 ms at a time; ``playback`` a listener's real-time playback of the reply (WebSocket);
``audible`` where sound begins; ``websocket`` and ``webrtc`` the two ways to reach the API; ``activity`` what the
session is doing (responses in progress, audio playing); ``waiting`` awaiting server events.
"""
