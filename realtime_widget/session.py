"""``Session``: a realtime session the kernel runs itself, with no browser, for tests, evals and benchmarks.

It takes the same options as :class:`~realtime_widget.RealtimeWidget` and keeps the same
:class:`~realtime_widget.SessionRecord`. The simulated user speaks in real time (eSpeak NG, a WAV file, an array or
your own text-to-speech) and listens in real time, so the record's timing is what a person at a microphone would
have produced. The parts live in :mod:`realtime_widget.headless`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .agents.driver import AgentHooks, AgentSettings
from .agents.support import AgentSupport
from .arguments import check_seconds
from .background import BackgroundTasks
from .callbacks import EventDispatcher
from .config import SemanticVAD, ServerVAD, SessionConfig
from .endpoint import Endpoint, resolve_endpoint
from .errors import ErrorInfo, RealtimeWidgetError
from .headless.audible import first_audible
from .headless.clock import SessionClock
from .headless.microphone import Microphone
from .headless.playback import Playback
from .headless.results import Reply, Utterance
from .headless.user_audio import TextToSpeech, espeak, user_speech
from .images import Detail, image_parts
from .keys import resolve_api_key
from .live_updates import LiveUpdates, SessionUpdate
from .problems import problem_of
from .protocol import require_client_event
from .protocol.rules import server_vad_defaults
from .record import SessionRecord
from .server.pcm import SAMPLE_RATE
from .session_options import build_session_config, check_endpoint_arguments, config_with_tools
from .tools import ToolLike, ToolRegistry
from .tools.runner import ToolRunner

__all__ = ["Reply", "Session", "Utterance"]

log = logging.getLogger(__name__)

Transport = Literal["websocket", "webrtc"]
EventMatch = str | Callable[[dict[str, Any]], bool]

#: Silence after speech beyond the VAD's own wait, so a slow server still hears the turn end.
VAD_MARGIN_MS = 700
#: Semantic VAD waits longer the less sure it is that the user is done; this covers its "auto" eagerness.
SEMANTIC_VAD_SILENCE_MS = 2000

_SESSION_OPTIONS = (
    "tools",
    "transport",
    "api_key",
    "base_url",
    "config",
    "tts",
    "record_audio",
    "connect_timeout",
    "agent",
    "context",
)


class Session:
    """A realtime session run by the kernel itself: no browser, the same options and record as the widget.

    ::

        async with Session(instructions="Be brief.", tools=[lookup_sales]) as s:
            await s.say("What were the sales in the north?")
            reply = await s.wait_for_reply()
            print(reply.text, reply.latency_ms)
        s.record.turns

    With an OpenAI key (``api_key=`` or ``OPENAI_API_KEY``) it talks to the Realtime API; without one it uses the
    bundled local server, started as the widget starts it. The standard key stays in this process: the WebSocket
    (default) and the WebRTC call (``transport="webrtc"``, aiortc: the path the browser takes) both use it, so no
    ephemeral key is minted.

    Real time, both ways. :meth:`say` streams the user's audio as a microphone would (20 ms frames, in real time),
    then trailing silence long enough for the server's VAD. The reply is listened to in real time: over WebRTC the
    server paces it; over WebSocket the session plays each audio delta on a simulated speaker, as the API expects
    of a WebSocket client, and on a barge-in sends ``conversation.item.truncate`` with what was heard, so
    ``record.transcript`` keeps only the words that were said aloud. Turn latency is measured from the audio itself
    (end of the user's speech → first audible reply sample) and recorded as ``record.voice_latency`` (and the
    ``voice_to_voice_ms`` of ``record.turns``).

    Many sessions run concurrently on one event loop (``asyncio.gather``).

    Args:
        tools: Python functions the model may call; they run exactly as in the widget.
        transport: ``"websocket"`` (default) or ``"webrtc"``.
        api_key: the standard OpenAI key; defaults to ``OPENAI_API_KEY``. Without either, the local server is used.
        base_url: the API base, e.g. ``https://api.openai.com/v1``, a proxy, or a local server.
        config: a :class:`SessionConfig`; or give its options as keyword arguments (``voice="marin"``, ...).
        tts: text-to-speech for :meth:`say` (text in; mono audio at 24 kHz out, int16 or float). Default: eSpeak
            NG (the ``speech`` extra).
        record_audio: record both sides' audio (off by default): what the simulated user's microphone sent and the
            reply as it played, streamed to disk as it happens and read as ``record.audio`` (saved as FLAC files by
            ``record.save``); ``record.turns.acoustic_latency_ms`` is then measured from that sound. Either way the
            ``input_audio_buffer.append`` and ``response.output_audio.delta`` events are recorded with an empty
            ``audio``/``delta`` (their times and ids kept): as base64 JSON the audio would grow the record by about
            100 kB a second.
        connect_timeout: seconds to wait for the session to be ready.
        agent: an OpenAI Agents SDK ``agents.realtime.RealtimeAgent`` (the ``agents`` extra), run as in the widget:
            its instructions, function tools, handoffs, voice, prompt and output guardrails drive the session.
        context: the context object given to the agent's dynamic instructions, tools, handoffs and guardrails.

    Unknown keyword arguments raise ``TypeError`` naming the closest option.
    """

    def __init__(
        self,
        tools: Iterable[ToolLike] = (),
        *,
        transport: Transport = "websocket",
        api_key: str | None = None,
        base_url: str | None = None,
        config: SessionConfig | None = None,
        tts: TextToSpeech | None = None,
        record_audio: bool = False,
        connect_timeout: float = 30.0,
        agent: Any = None,
        context: Any = None,
        **session_options: Any,
    ) -> None:
        check_endpoint_arguments(api_key, base_url)
        if transport not in ("websocket", "webrtc"):
            raise ValueError(f"transport must be 'websocket' or 'webrtc'; got {transport!r}")
        if tts is not None and not callable(tts):
            raise TypeError(f"tts must be a function from text to audio; got {type(tts).__name__}")
        check_seconds("connect_timeout", connect_timeout)
        self._config, self._tools = build_session_config("Session", tools, config, session_options, _SESSION_OPTIONS)
        self._agent = AgentSupport.given(agent, context, self._tools)
        if self._agent is not None:
            self._config = self._agent.configure(self._config)
        if base_url is not None and resolve_api_key(api_key) is None:
            raise ValueError("base_url needs an api_key (or OPENAI_API_KEY) for that server")
        self._api_key = api_key
        self._base_url = base_url
        self.transport: Transport = transport
        self._tts = tts
        self._record_audio = record_audio
        self._connect_timeout = float(connect_timeout)
        #: Everything this session did, as the widget records it (see :class:`SessionRecord`).
        self.record = SessionRecord()
        self.status = "idle"
        #: The failure that ended the session (code, message, hint), or ``None``.
        self.error: ErrorInfo | None = None
        self._endpoint: Endpoint | None = None
        self._link: Any = None
        self._clock = SessionClock()
        self._microphone: Microphone | None = None
        self._playback = Playback()
        self._dispatcher = EventDispatcher()
        self._live_updates = LiveUpdates()
        self._background = BackgroundTasks("headless session", log)
        tool_source = self._tools if self._agent is None else self._agent.toolbox
        self._runner = ToolRunner(tool_source, send=self._send, notify=self._tool_status, record=self.record)
        if self._agent is not None:
            notify = self._agent_notice
            self._agent.bind(AgentHooks(self.record, self.send_event, self._switch_agent, self.cancel_response, notify))
        self._server_events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._mark = 0
        # What the session is doing: responses in progress (id → created at), replies still playing (WebRTC).
        self._active: dict[str, float] = {}
        self._webrtc_playing: set[str] = set()
        self._awaiting_follow_up: set[str] = set()
        # Turn latency: the end of the user's speech not yet answered by audible reply audio.
        self._speech_end_ms: float | None = None
        self._audible: dict[str, float] = {}  # response id → its first audible sample (WebSocket)
        #: When the reply now playing became audible (reset at each user turn and each WebRTC reply).
        self._reply_audible_ms: float | None = None
        self._playback_end: asyncio.TimerHandle | None = None
        self._latencies: list[tuple[float, float]] = []  # (speech end, latency ms)
        self._turn_starts: dict[int, float] = {0: 0.0}  # mark → when that turn began (session ms)
        self._spoken_turns: set[int] = set()  # marks of the turns begun by say()
        self._pending_truncates: dict[str, dict[str, Any]] = {}  # response id → its cut, sent once it is done

    # ---- connecting -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connects and waits until the session is configured (``session.updated`` over WebSocket, the call's
        ``session.created`` over WebRTC). Raises :class:`RealtimeWidgetError` (bad key, server unreachable, ...)
        with the reason; the failure is in :attr:`error` and the record's timeline too."""
        if self.status != "idle":
            raise RuntimeError(f"a Session connects once; this one is {self.status}")
        self.status = "connecting"
        self.record.add_kernel_timeline("connect_requested", {"transport": self.transport})
        try:
            await asyncio.wait_for(self._open(), self._connect_timeout)
        except TimeoutError:
            self._fail(
                ErrorInfo(
                    "network",
                    f"The session was not ready within {self._connect_timeout:g} s.",
                    "The server may be overloaded; try again, or raise connect_timeout.",
                )
            )
        except RealtimeWidgetError as exc:
            self._fail(exc.info)
        if self.error is not None:
            await self._close_link()
            raise RealtimeWidgetError(self.error)
        self.status = "connected"
        self.record.add_kernel_timeline("connected", {"transport": self.transport, "call_id": self.call_id})
        if self.transport == "websocket":
            self._background.spawn(self._stream_microphone())

    async def _open(self) -> None:
        # Starting the local server blocks for a moment; other sessions on this loop go on meanwhile.
        self._endpoint = await asyncio.to_thread(resolve_endpoint, api_key=self._api_key, base_url=self._base_url)
        self._microphone = Microphone(self._clock)
        if self._record_audio:
            self.record.start_audio()
            self._microphone.on_frame = self._record_user_frame
        session = self.config.to_session()
        if self.transport == "webrtc":
            from .headless.webrtc import WebRtcLink  # noqa: PLC0415 - aiortc loads only for WebRTC

            self._link = WebRtcLink(self._microphone, self._on_message, self._on_audio_frame, self._lost)
        else:
            from .headless.websocket import WebSocketLink  # noqa: PLC0415 - aiohttp's client only when used

            self._link = WebSocketLink(self._on_message, self._lost)
        await self._link.open(self._endpoint.base_url, self._endpoint.api_key.reveal(), session)
        await self.wait_for("session.created", timeout=None, since=0)
        if self.transport == "websocket":
            # The session config travels in the first session.update (the WebRTC call carried it in its POST).
            event = self.config.session_update_event()
            event["event_id"] = _event_id()
            self._live_updates.sent(event["event_id"], {})
            start = len(self._server_events)
            self.send_event(event)
            answer = await self.wait_for(
                lambda e: (
                    e.get("type") == "session.updated"
                    or (e.get("type") == "error" and (e.get("error") or {}).get("event_id") == event["event_id"])
                ),
                timeout=None,
                since=start,
            )
            if answer["type"] == "error":
                error = answer.get("error") or {}
                raise RealtimeWidgetError(
                    ErrorInfo(
                        "session_update_rejected",
                        f"The server refused the session config: {error.get('message', '')}",
                        "Check the session options named in the message.",
                    )
                )

    async def close(self) -> None:
        """Hangs up. Nothing recorded is lost; waiting calls raise :class:`RealtimeWidgetError`."""
        if self.status in ("closed", "idle"):
            self.status = "closed"
            return
        if self.status != "failed":
            self.status = "closed"
            self.record.add_kernel_timeline("closed", {})
        await self._close_link()

    async def _close_link(self) -> None:
        if self._microphone is not None:
            self._microphone.stop(RealtimeWidgetError(self._closed_error()))
        await self._background.cancel_all()
        if self._link is not None:
            await self._link.close()
        if self._endpoint is not None:
            call_id = self.call_id
            if call_id is not None:
                # The API ends a WebRTC call at once on a hang-up with the standard key (as the widget does).
                minter = self._endpoint.minter()
                await minter.ahangup(call_id)
                await minter.aclose()
            self._endpoint.close()
        self._arrived.set()

    def _lost(self, info: ErrorInfo) -> None:
        if self.status in ("closed", "failed"):
            return
        self._fail(info)
        if self._microphone is not None:
            self._microphone.stop(RealtimeWidgetError(info))
        self._live_updates.forget()

    def _fail(self, info: ErrorInfo) -> None:
        self.error = info
        self.status = "failed"
        self.record.add_kernel_timeline("failed", info.to_dict())
        self._arrived.set()
        log.warning("realtime session %s failed: %s", self.record.session_id, info.message)

    def _closed_error(self) -> ErrorInfo:
        if self.error is not None:
            return self.error
        return ErrorInfo("channel_closed", "The session is closed.", "Open a new Session to continue.")

    # ---- what the session is -------------------------------------------------------------------------------

    @property
    def config(self) -> SessionConfig:
        """The session config, Python tools included (as the widget's ``config``), and an agent's."""
        config = config_with_tools(self._config, self._tools)
        if self._agent is None:
            return config
        return config.replace(tools=[*config.tools, *self._agent.tool_definitions()])

    def agent_tool_names(self) -> list[str]:
        """The function tools of every agent the starting agent's handoffs can reach (none without ``agent=``)."""
        return self._agent.driver.reachable_tool_names() if self._agent is not None else []

    @property
    def agent(self) -> Any:
        """The Agents SDK agent in charge now (after handoffs, the one handed to), or ``None`` without ``agent=``."""
        return self._agent.driver.agent if self._agent is not None else None

    @property
    def tools(self) -> ToolRegistry:
        return self._tools

    @property
    def call_id(self) -> str | None:
        """The WebRTC call's id (``rtc_...``); ``None`` over WebSocket."""
        return None if self._link is None else self._link.call_id

    @property
    def api_session_id(self) -> str | None:
        """The server's id of this session (``sess_...``, from ``session.created``), as its logs name it."""
        created = next((e for e in self._server_events if e.get("type") == "session.created"), None)
        session = (created or {}).get("session") or {}
        return str(session["id"]) if session.get("id") else None

    def realtime_stats(self) -> dict[str, float]:
        """How well this session kept real time on its side: microphone ``frames`` (20 ms each) handed over,
        ``late_frames`` (more than one frame late: the event loop was too busy) and ``max_late_ms``. A loaded
        machine shows here first; its latencies are then not what a person would have seen."""
        microphone = self._microphone
        if microphone is None:
            return {"frames": 0, "late_frames": 0, "max_late_ms": 0.0}
        return {
            "frames": microphone.frames,
            "late_frames": microphone.late_frames,
            "max_late_ms": microphone.max_late_ms,
        }

    @property
    def local_server(self) -> Any:
        """The bundled local server when the session uses it (for scripting it in tests), else ``None``."""
        return None if self._endpoint is None else self._endpoint.local_server

    def __repr__(self) -> str:
        label = self._endpoint.label if self._endpoint is not None else "not connected"
        return (
            f"Session(transport={self.transport!r}, status={self.status!r}, server={label!r}, "
            f"events={len(self.record)})"
        )

    # ---- sending ---------------------------------------------------------------------------------------------

    def send_event(self, event: dict[str, Any]) -> None:
        """Sends a client event. It is checked first, as the server checks it: an event the API would refuse raises
        ``ValueError`` with the API's message, and nothing is sent. Raises :class:`RealtimeWidgetError` when the
        session is not connected."""
        require_client_event(event)
        self._send(event)

    def _send(self, event: dict[str, Any]) -> None:
        if self._link is None or self.status in ("closed", "failed", "idle"):
            raise RealtimeWidgetError(_NOT_CONNECTED if self.status == "idle" else self._closed_error())
        event = {"event_id": _event_id(), **event} if "event_id" not in event else event
        self._link.send(json.dumps(event))
        recorded = event
        if event.get("type") == "input_audio_buffer.append":
            recorded = {**event, "audio": ""}
        self.record.add_items(
            [{"k": "event", "t": self._clock.now_ms(), "dir": "client", "event": recorded}], clock_offset_ms=0.0
        )
        self._dispatcher.dispatch(event)

    def _record_event(self, t: float, direction: str, event: dict[str, Any] | None, raw: str | None = None) -> None:
        # Wire items as the browser reports them, timed on the session's clock (no offset to apply).
        item: dict[str, Any] = {"k": "event", "t": t, "dir": direction, "event": event}
        if raw is not None:
            item["raw"] = raw
        self.record.add_items([item], clock_offset_ms=0.0)

    def mark(self) -> int:
        """A position in the stream of server events, for :meth:`wait_for` ``since=``: what arrives from now on."""
        return len(self._server_events)

    def _begin_turn(self) -> None:
        self._mark = len(self._server_events)
        self._turn_starts[self._mark] = self._clock.now_ms()
        self._reply_audible_ms = None

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """Adds a typed user message and (by default) asks the model to answer it."""
        self._begin_turn()
        self.send_event(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
            }
        )
        if respond:
            self.create_response()

    async def send_image(
        self, image: Any, text: str | None = None, *, respond: bool = True, detail: Detail = "auto"
    ) -> None:
        """Shows the model an image as a user message, as the widget's ``send_image`` does (a figure, a PIL image,
        PNG/JPEG bytes or path, a DataFrame), with ``text`` beside it; the model answers unless ``respond=False``."""
        content = await asyncio.to_thread(image_parts, image, detail=detail)
        if text:
            content.append({"type": "input_text", "text": text})
        self._begin_turn()
        self.send_event(
            {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": content}}
        )
        if respond:
            self.create_response()

    def create_response(self, **response: Any) -> None:
        """Asks for a response; keyword arguments override the session for this response (``instructions=...``)."""
        event: dict[str, Any] = {"type": "response.create"}
        if response:
            event["response"] = response
        self.send_event(event)

    async def say(
        self,
        what: str | Path | npt.NDArray[Any],
        *,
        sample_rate: int = SAMPLE_RATE,
        trailing_silence_ms: int | None = None,
    ) -> Utterance:
        """Speaks ``what`` as the user, in real time, and returns once the speech has been played.

        ``what`` is text (spoken by ``tts``, eSpeak NG by default), a WAV file (a :class:`pathlib.Path`) or a NumPy
        array of samples at ``sample_rate``. Trailing silence follows (by default the VAD's silence duration plus a
        margin), so server VAD ends the turn; with turn detection off, the audio is committed and a response asked
        for, as push-to-talk does. The trailing silence streams on after this returns; speaking again drops what is
        left of it. Raises :class:`RealtimeWidgetError` when the session ends meanwhile.
        """
        microphone = self._connected_microphone()
        tts = self._tts or espeak()
        speech = await asyncio.to_thread(user_speech, what, tts, sample_rate)
        silence = self._trailing_silence_ms() if trailing_silence_ms is None else int(trailing_silence_ms)
        self._begin_turn()
        self._spoken_turns.add(self._mark)
        ended = await microphone.speak(speech, silence)
        self._speech_end_ms = ended
        duration = speech.size * 1000.0 / SAMPLE_RATE
        self.record.add_kernel_timeline(
            "user_speech_ended", {"duration_ms": duration}, at=datetime.fromtimestamp(ended / 1000.0, UTC)
        )
        if self._config.turn_detection is None:
            self.send_event({"type": "input_audio_buffer.commit"})
            self.create_response()
        return Utterance(ended - duration, ended, duration)

    async def interrupt(self, what: str | Path | npt.NDArray[Any], *, after_ms: float = 0.0, **say: Any) -> Utterance:
        """Barge-in: waits until the reply has been audible for ``after_ms``, then speaks ``what`` over it (see
        :meth:`say`). Over WebSocket the session stops playing the reply when the server hears the user and sends
        ``conversation.item.truncate`` with what was heard; over WebRTC the server does that itself."""
        mark = self._mark
        await self._until(lambda: self._reply_audible_ms is not None, 60.0, "no reply was heard", mark)
        assert self._reply_audible_ms is not None
        wait_s = (self._reply_audible_ms + after_ms - self._clock.now_ms()) / 1000.0
        if wait_s > 0:
            await asyncio.sleep(wait_s)  # the offset into the reply is the point of a barge-in
        return await self.say(what, **say)

    def cancel_response(self) -> None:
        """Stops the current response and the audio already on its way: ``response.cancel`` when a response is in
        progress, then (WebRTC) ``output_audio_buffer.clear``, or (WebSocket) stops playing and truncates the
        item at what was heard."""
        if self._active:
            self.send_event({"type": "response.cancel"})
        if self.transport == "webrtc":
            self.send_event({"type": "output_audio_buffer.clear"})
        else:
            self._stop_playback()

    def update_session(self, **changes: Any) -> SessionUpdate:
        """Changes the session config while connected: a ``session.update`` with only the changed options. Await
        the returned :class:`SessionUpdate` for the confirmed config; a refusal rolls the config back and raises
        :class:`RealtimeWidgetError` with the API's code. ``model`` cannot change during a session."""
        if "model" in changes and self.status == "connected":
            raise ValueError("the model cannot change during a session; open a new Session to switch it")
        previous = self._config
        self._config = previous.replace(**changes)
        update = SessionUpdate(self._config)
        if self.status != "connected" or not changes:
            update.confirm()
            return update
        event = self._config.session_update_event(changes)
        event["event_id"] = _event_id()
        self._live_updates.sent(event["event_id"], {name: getattr(previous, name) for name in changes}, update)
        self.send_event(event)
        return update

    def on(self, event_type: str, callback: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Calls ``callback(event)`` for each event of ``event_type`` either way (``"*"`` for all), as the widget's
        ``on``; returns a function that removes it."""
        return self._dispatcher.add(event_type, callback)

    # ---- waiting ---------------------------------------------------------------------------------------------

    async def wait_for(
        self,
        match: EventMatch,
        *,
        timeout: float | None = 30.0,  # noqa: ASYNC109 - a per-call timeout, as the widget's wait_for has
        since: int | None = None,
    ) -> dict[str, Any]:
        """The first server event matching ``match`` (an event type, or a predicate on the event dict) that arrived
        since ``since`` (a :meth:`mark`; default: the start of the last user turn — :meth:`say`, :meth:`send_text`
        or :meth:`send_image` — so an event that came while ``say`` was still speaking is found).

        Raises ``TimeoutError`` after ``timeout`` seconds, naming the events that did arrive, and
        :class:`RealtimeWidgetError` when the session fails or closes first.
        """
        matches = (lambda e: e.get("type") == match) if isinstance(match, str) else match
        first = self._mark if since is None else since
        position = first
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            nonlocal position
            while position < len(self._server_events):
                event = self._server_events[position]
                position += 1
                if matches(event):
                    found.append(event)
                    return True
            return False

        what = repr(match) if isinstance(match, str) else "matching event"
        await self._until(arrived, timeout, f"no {what}", first)
        return found[0]

    async def _until(self, condition: Callable[[], bool], limit_s: float | None, missing: str, first: int) -> None:
        """Waits until ``condition()`` holds, looking again whenever something arrives (or a reply stops playing)."""
        loop = asyncio.get_running_loop()
        deadline = None if limit_s is None else loop.time() + limit_s
        while not condition():
            if self.status in ("failed", "closed"):
                raise RealtimeWidgetError(self._closed_error())
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                seen = [e.get("type") for e in self._server_events[first:]]
                raise TimeoutError(f"{missing} within {limit_s:g} s; meanwhile the server sent {seen[-20:]}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def wait_for_reply(self, timeout: float = 60.0) -> Reply:  # noqa: ASYNC109 - as wait_for
        """Waits until the model has answered the last user turn and the answer has been heard: a response is
        done, no other is in progress or expected (a tool call's follow-up), and its audio has finished playing
        (or was cut off). Returns the :class:`Reply`."""
        mark = self._mark
        await self._until(lambda: self._reply_finished(mark), timeout, "the reply did not finish", mark)
        return self._reply_since(mark)

    async def turn(self, what: str | Path | npt.NDArray[Any], *, timeout: float = 60.0, **say: Any) -> Reply:  # noqa: ASYNC109
        """Speaks ``what`` (see :meth:`say`) and waits for the reply (see :meth:`wait_for_reply`)."""
        await self.say(what, **say)
        return await self.wait_for_reply(timeout=timeout)

    def _reply_finished(self, mark: int) -> bool:
        events = self._server_events[mark:]
        start = 0
        if mark in self._spoken_turns:
            # A spoken turn is answered by a response to its committed audio, not by one it cut off.
            committed = next((i for i, e in enumerate(events) if e.get("type") == "input_audio_buffer.committed"), None)
            if committed is None:
                return False
            start = committed
        created = {_response_id(e) for e in events[start:] if e.get("type") == "response.created"}
        done = any(e.get("type") == "response.done" and _response_id(e) in created for e in events[start:])
        if not done or self._active or self._awaiting_follow_up:
            return False
        if self.transport == "webrtc":
            return not self._webrtc_playing
        return not self._playback.playing(self._clock.now_ms())

    def _reply_since(self, mark: int) -> Reply:
        events = self._server_events[mark:]
        ids: list[str] = []
        statuses: list[str] = []
        calls: list[dict[str, Any]] = []
        interrupted = False
        for event in events:
            kind = event.get("type")
            if kind == "response.function_call_arguments.done":
                calls.append(
                    {"name": event.get("name"), "arguments": event.get("arguments"), "call_id": event.get("call_id")}
                )
            elif kind == "response.done":
                response = event.get("response") or {}
                ids.append(str(response.get("id")))
                statuses.append(str(response.get("status")))
                if response.get("status") == "cancelled":
                    interrupted = True
            elif kind in ("conversation.item.truncated", "output_audio_buffer.cleared"):
                interrupted = True
        started = self._turn_starts.get(mark, math.inf)
        latency_ms = next((ms for end, ms in self._latencies if end >= started), None)
        # What was said aloud: the transcript cuts a reply where it was truncated.
        transcript = self.record.transcript
        said = transcript[transcript["response_id"].isin(ids)]["text"].dropna()
        return Reply(" ".join(t for t in said if t), ids, statuses, latency_ms, interrupted, calls)

    # ---- what arrives ----------------------------------------------------------------------------------------

    def _on_message(self, text: str) -> None:
        now = self._clock.now_ms()
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.record.add_items(
                [{"k": "event", "t": now, "dir": "server", "event": None, "raw": text[:2000]}], clock_offset_ms=0.0
            )
            return
        kind = event.get("type")
        recorded = event
        if kind == "response.output_audio.delta":
            self._hear_delta(event, now)
            recorded = {**event, "delta": ""}
        self._record_event(now, "server", recorded)
        self._follow(event, now)
        if self._agent is not None:
            self._agent.driver.on_server_event(event)
        self._runner.on_server_event(event)
        refused = self._live_updates.on_server_event(event)
        if refused:
            self._config = self._config.replace(**refused)
        self._dispatcher.dispatch(event)
        if kind != "error" and problem_of(event) is not None:
            self._dispatcher.dispatch_to("error", event)
        self._server_events.append(event)
        self._arrived.set()

    def _follow(self, event: dict[str, Any], now: float) -> None:
        kind = event.get("type")
        response = event.get("response") or {}
        if kind == "response.created":
            self._active[str(response.get("id"))] = now
        elif kind == "response.done":
            response_id = str(response.get("id"))
            self._active.pop(response_id, None)
            truncate = self._pending_truncates.pop(response_id, None)
            if truncate is not None and self.status == "connected":
                self.send_event(truncate)
            # The kernel answers a completed response's function calls with a follow-up response.create.
            calls = any(item.get("type") == "function_call" for item in response.get("output") or [])
            if calls and response.get("status") == "completed":
                self._awaiting_follow_up.add(response_id)
        elif kind == "output_audio_buffer.started":
            self._webrtc_playing.add(str(event.get("response_id")))
        elif kind in ("output_audio_buffer.stopped", "output_audio_buffer.cleared"):
            if kind == "output_audio_buffer.cleared":
                self._webrtc_playing.clear()
            else:
                self._webrtc_playing.discard(str(event.get("response_id")))
        elif kind == "input_audio_buffer.speech_started" and self.transport == "websocket":
            self._stop_playback()
        if kind == "response.created" and self._awaiting_follow_up:
            self._awaiting_follow_up.clear()

    def _hear_delta(self, event: dict[str, Any], now: float) -> None:
        response_id = str(event.get("response_id"))
        try:
            samples = np.frombuffer(base64.b64decode(str(event.get("delta", ""))), dtype="<i2")
        except ValueError:
            return
        if self._record_audio:
            starts_ms = max(now, self._playback.ends_at)  # where the speaker schedules it (Playback.play)
            self.record.write_audio("assistant", samples.tobytes(), SAMPLE_RATE, round(starts_ms * 1000.0))
        audible = self._playback.play(str(event.get("item_id")), response_id, samples, now)
        # Waiters look again when the reply has finished playing, which no event announces over WebSocket.
        if self._playback_end is not None:
            self._playback_end.cancel()
        delay_s = (self._playback.ends_at - now) / 1000.0
        self._playback_end = asyncio.get_running_loop().call_later(delay_s, self._arrived.set)
        if audible is not None and response_id not in self._audible:
            self._audible[response_id] = audible
            self._reply_audible_ms = audible
            created = self._active.get(response_id, now)
            self._heard_reply_start(audible, replying_since=created)

    def _record_user_frame(self, frame: npt.NDArray[np.int16], filled: int, sounded_ms: float) -> None:
        # What the transport sends: over WebRTC every frame (the track never pauses), over WebSocket the queued part.
        sent = frame if self.transport == "webrtc" else frame[:filled]
        if sent.size:
            self.record.write_audio("user", sent.astype("<i2").tobytes(), SAMPLE_RATE, round(sounded_ms * 1000.0))

    def _on_audio_frame(self, samples: npt.NDArray[np.int16], rate: int) -> None:
        if self._record_audio:  # the server paces WebRTC audio: a frame plays as it arrives
            pcm = samples.astype("<i2").tobytes()
            self.record.write_audio("assistant", pcm, rate, round(self._clock.now_ms() * 1000.0))
        loud = first_audible(samples)
        if loud is None:
            return
        audible = self._clock.now_ms() + loud * 1000.0 / rate
        if self._reply_audible_ms is None:
            self._reply_audible_ms = audible
            self._arrived.set()  # a barge-in may be waiting for the reply to be heard
        self._heard_reply_start(audible, replying_since=None)

    def _heard_reply_start(self, audible_ms: float, *, replying_since: float | None) -> None:
        end = self._speech_end_ms
        if end is None or audible_ms <= end or (replying_since is not None and replying_since < end):
            return
        self._speech_end_ms = None
        self._latencies.append((end, audible_ms - end))
        self.record.add_items(
            [
                {
                    "k": "voice_latency",
                    "t": audible_ms,
                    "ms": audible_ms - end,
                    "user_speech_end_t": end,
                    "assistant_audio_start_t": audible_ms,
                }
            ],
            clock_offset_ms=0.0,
        )

    def _stop_playback(self) -> None:
        # A WebSocket client stops playing and tells the server how much was heard, so the conversation keeps
        # only what the user heard (the API docs' "conversation.item.truncate" for WebSocket clients).
        now = self._clock.now_ms()
        stopped = self._playback.stop(now)
        if self._record_audio:  # what was scheduled but never played was never heard
            writer = self.record.start_audio()
            writer.cut("assistant", round(now * 1000.0))
        if stopped is None or self.status != "connected":
            return
        item_id, heard_ms = stopped
        truncate = {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": heard_ms,
        }
        response_id = self._playback.response_of(item_id)
        if response_id in self._active:
            # The item is still being generated (the server is cancelling it): the local server refuses to truncate
            # audio content that is not finished, so the cut waits for the response's end.
            self._pending_truncates[str(response_id)] = truncate
            return
        self.send_event(truncate)

    # ---- the user's microphone (WebSocket) ------------------------------------------------------------------

    async def _stream_microphone(self) -> None:
        microphone = self._connected_microphone()
        while self.status == "connected":
            await microphone.wait_for_audio()
            frame, filled = await microphone.next_frame(continuous=False)
            if filled and self.status == "connected":
                audio = base64.b64encode(frame[:filled].astype("<i2").tobytes()).decode("ascii")
                self._send({"type": "input_audio_buffer.append", "audio": audio})

    def _connected_microphone(self) -> Microphone:
        if self._microphone is None or self.status != "connected":
            raise RealtimeWidgetError(self._closed_error() if self.status != "idle" else _NOT_CONNECTED)
        return self._microphone

    def _trailing_silence_ms(self) -> int:
        detection = self._config.turn_detection
        if isinstance(detection, ServerVAD):
            wait = detection.silence_duration_ms
            return int(server_vad_defaults()["silence_duration_ms"] if wait is None else wait) + VAD_MARGIN_MS
        if isinstance(detection, SemanticVAD):
            return SEMANTIC_VAD_SILENCE_MS + VAD_MARGIN_MS
        return 0

    def _switch_agent(self, settings: AgentSettings) -> None:
        # A handoff (realtime_widget.agents), as the widget's: instructions and tools in one session.update, a new
        # voice in one of its own (refused by the API once the assistant has spoken; the handoff stands).
        assert self._agent is not None
        self._config, changes, previous = self._agent.switch(self._config, self.config.tool_definitions())
        if self.status == "connected":
            event = self._config.session_update_event(changes)
            event["event_id"] = _event_id()
            self._live_updates.sent(event["event_id"], previous, None)
            self.send_event(event)
        if settings.voice is not None and settings.voice != self._config.voice:
            self.update_session(voice=settings.voice)

    def _agent_notice(self, level: str, text: str) -> None:
        # The widget shows these; headless, they go to the log (the record has the handoffs and guardrail trips).
        log.log(logging.WARNING if level in ("warning", "error") else logging.INFO, "%s", text)

    def _tool_status(self, command: dict[str, Any]) -> None:
        # The widget shows these in its UI; a headless session has none (the record has the calls).
        log.debug("tool %s: %s", command.get("tool"), command.get("state"))


_NOT_CONNECTED = ErrorInfo("not_connected", "The session is not connected.", "Use `async with Session(...) as s:`.")


def _response_id(event: dict[str, Any]) -> str:
    return str((event.get("response") or {}).get("id"))


def _event_id() -> str:
    return "evt_" + uuid.uuid4().hex[:20]
