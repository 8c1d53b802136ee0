"""``RealtimeWidget``: a voice console for a realtime model, inside a notebook.

The widget is thin: it wires the browser (``js/``) to the kernel-side parts that do the work — the session config
(:mod:`.config`), key minting (:mod:`.keys`), Python tools (:mod:`.tools`) and the session record (:mod:`.record`).
The wire between kernel and browser is described in ``docs/wire.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets
from anywidget.experimental import command

from .agents.driver import AgentHooks, AgentSettings
from .agents.support import AgentSupport
from .arguments import check_seconds
from .audio_inbox import AUDIO_TYPE, AudioChunkInbox
from .autosave import Autosave
from .background import BackgroundTasks
from .batches import BatchInbox
from .callbacks import EventDispatcher
from .config import SessionConfig
from .connection_options import ConnectionOptions, Transport, check_transport, route_options
from .endpoint import Endpoint, resolve_endpoint
from .errors import ErrorInfo, RealtimeWidgetError
from .images import Detail, image_parts
from .key_prewarm import KeyPrewarmer
from .keys import EphemeralKey, KeyMinter
from .live_updates import LiveUpdates, SessionUpdate
from .problems import DEFAULT_HINT, HINTS, problem_of
from .protocol import require_client_event
from .protocol.rules import KEY_TTL_RANGE_S
from .record import SessionRecord, utterance
from .record.store import ms_to_us
from .session_options import build_session_config, check_endpoint_arguments, config_with_tools
from .tools import Tool, ToolLike, ToolRegistry
from .tools.runner import ToolRunner

if TYPE_CHECKING:
    from .evals import Case, Results
    from .headless.user_audio import TextToSpeech
    from .play import CasePlay

_STATIC = Path(__file__).parent / "static"

# A source checkout without `npm run build` still imports (unit tests, docs); the widget then says what to do.
_MISSING_BUNDLE = """export default { render({ el }) {
  el.textContent = "realtime-widget: the front-end bundle is missing. Run scripts/setup (or npm run build in js/).";
} };"""

# Timeline milestones (docs/wire.md) that settle the connection's status.
log = logging.getLogger(__name__)

_STATUS_AFTER = {
    "connected": "connected",
    "reconnect_scheduled": "reconnecting",
    "closed": "closed",
    "failed": "failed",
}

STATUSES = ("idle", "minting", "connecting", "connected", "reconnecting", "closed", "failed")


class RealtimeWidget(anywidget.AnyWidget):
    """Talk to a realtime voice model from a notebook, and keep the whole session for analysis.

    Display the widget and press Connect (or call :meth:`connect`). With an OpenAI key (``api_key=`` or the
    ``OPENAI_API_KEY`` environment variable) it talks to the Realtime API; without one it starts the bundled
    local server, an offline stand-in that listens, answers and calls tools.

    The standard key never leaves the kernel: the browser asks for a short-lived ephemeral key before each
    connection attempt and uses it once.

    Args:
        tools: Python functions the model may call (plain functions or :func:`realtime_widget.tool`).
        api_key: the standard OpenAI key; defaults to ``OPENAI_API_KEY``. Without either, the local server is used.
        base_url: the API base, e.g. ``https://api.openai.com/v1`` (default with a key), a proxy, or a local server.
        config: a :class:`SessionConfig`; or give its options as keyword arguments (``voice="marin"``,
            ``instructions=...``, ``turn_detection="semantic_vad"``, ...).
        connection: a :class:`ConnectionOptions` (microphone constraints, ICE servers, bitrate cap, reconnects).
        transport: ``"auto"`` (default: WebRTC, falling back to the WebSocket when the page has no WebRTC, ICE
            fails, or the server is only reachable through the Jupyter server), ``"webrtc"`` or ``"websocket"``.
            Over WebSocket the browser captures and plays the audio itself (PCM16 at 24 kHz); the local server
            on a remote kernel is then reached through jupyter-server-proxy (the ``proxy`` extra) or Colab's port
            proxy. The timeline says which transport and route ran and why.
        key_ttl_seconds: how long each ephemeral key may be used to start a session (10 to 7200).
        autosave: a folder to save the record in while connected (as ``<folder>/<session id>``), every
            ``autosave_every_s`` seconds and when the connection ends; each save is atomic, and a failed one
            (a full disk) keeps the last good save and says so in the widget.
        autosave_every_s: seconds between autosaves (default 30).
        agent: an OpenAI Agents SDK ``agents.realtime.RealtimeAgent`` (needs the ``agents`` extra): its
            instructions, function tools, handoffs, voice, prompt and output guardrails drive the session, as the
            SDK's ``RealtimeSession`` runs them (see :mod:`realtime_widget.agents`); ``tools=`` may add ours.
        context: the context object given to the agent's dynamic instructions, tools, handoffs and guardrails.
        microphone: ``False`` connects without asking for the microphone: receive-only, typed turns in, the
            assistant's voice and transcript out. The widget also connects this way by itself when the browser
            refuses the microphone, has none, or the page is not a secure context; :attr:`mic_off` says why.
        record_audio: record both sides' audio (off by default): the browser captures the microphone track as sent
            and the assistant's audio as played, and sends it to the kernel in half-second chunks, which are
            streamed to disk as they arrive (an hour costs the kernel no more memory than a minute). The console
            shows a "recording" mark while it is on. Read it as ``record.audio``; ``record.save`` writes FLAC
            files; ``record.turns.acoustic_latency_ms`` is measured from the sound.

    Unknown keyword arguments raise ``TypeError`` naming the closest option.
    """

    _esm = _STATIC / "widget.js" if (_STATIC / "widget.js").exists() else _MISSING_BUNDLE
    _css = _STATIC / "widget.css" if (_STATIC / "widget.css").exists() else ""

    status = traitlets.Unicode("idle", help="Connection state, written by the browser.").tag(sync=True)
    error = traitlets.Dict(help="The current failure: {code, message, hint}, or empty.").tag(sync=True)
    muted = traitlets.Bool(False, help="Whether the microphone is muted.").tag(sync=True)
    settings = traitlets.Dict(help="Voice, instructions and turn detection as the UI edits them.").tag(sync=True)
    calls_url = traitlets.Unicode("", help="Where the browser posts its SDP offer.").tag(sync=True)
    server_label = traitlets.Unicode("", help="Who the widget talks to, for the UI.").tag(sync=True)
    options = traitlets.Dict(help="Connection options for the browser (see ConnectionOptions).").tag(sync=True)
    presentation = traitlets.Bool(False, help="Large-text mode for projectors.").tag(sync=True)
    kernel_busy_hint = traitlets.Bool(False).tag(sync=True)
    instance_id = traitlets.Unicode(help="Unique per widget: the browser keys its one connection by it.").tag(sync=True)
    problem_hints = traitlets.Dict(help="What to do next, by API error code, for problems shown live.").tag(sync=True)
    microphone = traitlets.Bool(
        True, help="Whether the browser asks for the microphone when it connects (False: receive-only)."
    ).tag(sync=True)
    record_audio = traitlets.Bool(
        False, help="Whether the browser records both sides' audio for the kernel (set once, by record_audio=True)."
    ).tag(sync=True)

    # Kernel-side only, from the browser's timeline (traits the browser writes can arrive late; batches do not).
    mic_off = traitlets.Dict(
        help="Why the current connection has no microphone: {reason, message, hint, detail}; empty when it has one. "
        "reason is one of not_requested, insecure_context, unsupported, vscode_webview, denied, missing, "
        "lost (the device stopped mid-call; the call goes on receive-only), failed."
    )

    # Kernel-side only (no sync=True): updated from the browser's batches, never sent back.
    transcript: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Finished utterances: dicts with role, text, item_id."
    )

    def __init__(
        self,
        tools: Iterable[ToolLike] = (),
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        config: SessionConfig | None = None,
        connection: ConnectionOptions | None = None,
        transport: Transport = "auto",
        key_ttl_seconds: int = 600,
        autosave: str | Path | None = None,
        autosave_every_s: float = 30.0,
        microphone: bool = True,
        record_audio: bool = False,
        agent: Any = None,
        context: Any = None,
        **session_options: Any,
    ) -> None:
        _check_widget_arguments(api_key, base_url, key_ttl_seconds, autosave_every_s)
        transport = check_transport(transport)
        if not isinstance(microphone, bool):
            raise TypeError(f"microphone must be True or False; got {type(microphone).__name__}")
        if not isinstance(record_audio, bool):
            raise TypeError(f"record_audio must be True or False; got {type(record_audio).__name__}")
        # widget.config puts the Python tools and the config's other tools back together.
        self._config, self._tools = build_session_config(
            "RealtimeWidget", tools, config, session_options, _WIDGET_OPTIONS
        )
        self._agent = AgentSupport.given(agent, context, self._tools)
        if self._agent is not None:
            self._config = self._agent.configure(self._config)
        self._endpoint: Endpoint = resolve_endpoint(api_key=api_key, base_url=base_url)
        self._key_ttl_seconds = key_ttl_seconds
        self._autosave = Autosave(Path(autosave), autosave_every_s) if autosave is not None else None
        self._call_id: str | None = None
        self._hung_up: str | None = None
        self._play: CasePlay | None = None
        self._transport_in_use: str | None = None
        self.record = SessionRecord()
        self._inbox = BatchInbox()
        self._audio_inbox = AudioChunkInbox()
        self._dispatcher = EventDispatcher()
        self._live_updates = LiveUpdates()
        self._background = BackgroundTasks("realtime widget", log)
        self._runner = ToolRunner(
            self._tools if self._agent is None else self._agent.toolbox,
            send=self._send_client_event,
            notify=self._send_command,
            record=self.record,
        )
        self._prewarm_minter: KeyMinter | None = None
        self._keys = KeyPrewarmer(
            self._mint_in_background,
            push=self._send_message,
            on_minted=lambda detail: self.record.add_kernel_timeline("key_prewarmed", detail),
            settings=self._ui_settings_now,
        )
        connection = connection or ConnectionOptions()
        super().__init__(
            instance_id=uuid.uuid4().hex,
            calls_url=self._endpoint.calls_url,
            server_label=self._endpoint.label,
            options={**connection.to_trait(), **route_options(transport, self._local_server_url())},
            settings=self._config.ui_settings(),
            problem_hints={"codes": HINTS, "default": DEFAULT_HINT},
            microphone=microphone,
            record_audio=record_audio,  # in the first state the browser sees: its connection reads it once
        )
        if record_audio:
            self.record.start_audio()
        self.on_msg(self._on_custom_message)
        if self._agent is not None:
            hooks = AgentHooks(
                self.record, self._send_client_event, self._switch_agent, self.cancel_response, self.notify
            )
            hooks.attributed = lambda response_id, name: self._send_command(
                {"name": "agent", "response_id": response_id, "agent": name}
            )
            self._agent.bind(hooks)
        self.observe(self._on_settings_edited, names=["settings"])
        # Autosave follows the status whoever moves it: the browser's trait usually arrives before the batch with
        # the timeline milestone, which then finds the status already set.
        self.observe(self._on_status, names=["status"])

    # ---- the Python API -------------------------------------------------------------------------------------

    @property
    def config(self) -> SessionConfig:
        """The session configuration used for the next key and ``session.update``: the widget's Python tools, and
        the tools of the config it does not run itself (MCP servers, functions answered elsewhere), untouched."""
        config = config_with_tools(self._config, self._tools)
        if self._agent is None:
            return config
        return config.replace(tools=[*config.tools, *self._agent.tool_definitions()])

    @property
    def tools(self) -> ToolRegistry:
        """The Python tools the model may call; add or remove them with :meth:`add_tool` / :meth:`remove_tool`."""
        return self._tools

    @property
    def agent(self) -> Any:
        """The Agents SDK agent in charge now (after handoffs, the one handed to), or ``None`` without ``agent=``."""
        return self._agent.driver.agent if self._agent is not None else None

    @property
    def local_server(self) -> Any:
        """The bundled local server when the widget uses it (for scripting it in tests), else ``None``."""
        return self._endpoint.local_server

    def _local_server_url(self) -> str | None:
        server = self._endpoint.local_server
        return None if server is None else str(server.base_url)

    @property
    def call_id(self) -> str | None:
        """The id of the latest WebRTC call (``rtc_...``), e.g. for a server-side sideband connection; ``None``
        over the WebSocket transport, whose sessions have no call."""
        return self._call_id

    def connect(self) -> None:
        """Connects. Returns at once; ``await widget.wait_for("connected")`` waits for it.

        The kernel mints the first ephemeral key right here and sends it with the request, so the browser need not
        ask a kernel that is busy running this cell. A key that cannot be minted raises
        :class:`RealtimeWidgetError` (bad key, no access, network down) and shows in the widget.
        """
        reply = self._mint(attempt=1)
        if not reply["ok"]:
            raise RealtimeWidgetError(ErrorInfo.from_dict(reply["error"]))
        self._send_command({"name": "connect", "key": reply["value"], "settings": reply["settings"]})

    def disconnect(self) -> None:
        """Asks the browser to hang up. Nothing recorded is lost."""
        self._send_command({"name": "disconnect"})

    def mute(self) -> None:
        self.muted = True

    def unmute(self) -> None:
        self.muted = False

    def send_event(self, event: dict[str, Any]) -> None:
        """Sends a client event on the data channel. It is checked first, exactly as the local server checks what it
        receives: an event the API would refuse raises ``ValueError`` with the API's message, and nothing is sent."""
        require_client_event(event)
        self._send_client_event(event)

    def send_image(self, image: Any, text: str | None = None, *, respond: bool = True, detail: Detail = "auto") -> None:
        """Shows the model an image, as a user message: a matplotlib figure, a PIL image, a PNG or JPEG path or bytes,
        or a pandas DataFrame (as a table image, and as text so the numbers are exact). ``text`` goes with it
        ("What stands out in this chart?"); the model answers unless ``respond=False``. Large images are shrunk to
        fit the data channel (see ``realtime_widget.images``)."""
        content = image_parts(image, detail=detail)
        if text:
            content.append({"type": "input_text", "text": text})
        self.send_event(
            {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": content}}
        )
        if respond:
            self.create_response()

    def send_text(self, text: str, *, respond: bool = True) -> None:
        """Adds a user text message to the conversation and (by default) asks the model to answer it."""
        self.send_event(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
            }
        )
        if respond:
            self.create_response()

    def create_response(self, **response: Any) -> None:
        """Asks for a response; keyword arguments override the session for this response (``instructions=...``)."""
        event: dict[str, Any] = {"type": "response.create"}
        if response:
            event["response"] = response
        self.send_event(event)

    def cancel_response(self) -> None:
        """Stops the current response and the audio already on its way (``response.cancel`` + buffer clear)."""
        self._send_command({"name": "interrupt"})

    def update_session(self, **changes: Any) -> SessionUpdate:
        """Changes the session config (``widget.update_session(voice="cedar", instructions="...")``).

        While connected, a ``session.update`` carrying only the changed options is sent, and the returned
        :class:`~realtime_widget.live_updates.SessionUpdate` can be awaited: it gives the new config once the server
        confirms it (``session.updated``). If the server refuses it (an ``error`` naming the update, e.g. changing
        the voice after the assistant has spoken), the config and the UI roll back, the widget shows the error,
        and awaiting raises :class:`RealtimeWidgetError` with the API's code. Not connected, the change waits for
        the next connection and the result is already done. ``model`` cannot change during a session.

        Raises:
            TypeError, ValueError: an unknown option or a value the config refuses (nothing is sent).
        """
        previous = self._config
        if self.status == "connected" and "model" in changes:
            raise ValueError("the model cannot change during a session; disconnect and connect again to switch it")
        self._config = previous.replace(**changes)
        self._keys.config_changed()
        self.settings = self._config.ui_settings()
        update = SessionUpdate(self._config)
        if self.status != "connected" or not changes:
            update.confirm()
            return update
        self._send_session_update(changes, {name: getattr(previous, name) for name in changes}, update)
        return update

    def _send_session_update(
        self, changes: dict[str, Any], previous: dict[str, Any], update: SessionUpdate | None = None
    ) -> None:
        event = self._config.session_update_event(changes)
        event["event_id"] = "evt_" + uuid.uuid4().hex[:20]
        self.send_event(event)
        self._live_updates.sent(event["event_id"], previous, update)

    def _roll_back(self, previous: dict[str, Any]) -> None:
        # Only the options of the refused update: later confirmed ones stay.
        self._config = self._config.replace(**previous)
        self._keys.config_changed()
        self.settings = self._config.ui_settings()
        names = ", ".join(previous) or "the change"
        self.notify("warning", f"The server refused {names}: undone.")

    def _switch_agent(self, settings: AgentSettings) -> None:
        """A handoff (``realtime_widget.agents``): the new agent's instructions, prompt and tools in one
        ``session.update``; a new voice in one of its own after it, which the API refuses once the assistant has
        spoken (shown, rolled back) without undoing the handoff."""
        assert self._agent is not None
        tools = self.config.tool_definitions()  # the agent's tools are the new agent's already
        self._config, changes, previous = self._agent.switch(self._config, tools)
        self._keys.config_changed()
        self.settings = self._config.ui_settings()
        if self.status == "connected":
            self._send_session_update(changes, previous)
        if settings.voice is not None and settings.voice != self._config.voice:
            self.update_session(voice=settings.voice)

    def add_tool(self, tool: ToolLike) -> None:
        """Makes another Python function callable by the model (sent at once when connected)."""
        if self._agent is not None:
            self._agent.toolbox.refuse_clash(Tool.from_function(tool).name)
        self._tools.add(tool)
        self._tools_changed()

    def remove_tool(self, name: str) -> None:
        self._tools.remove(name)
        self._tools_changed()

    def on(self, event_type: str, callback: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Calls ``callback(event)`` for each event of ``event_type`` that crosses the data channel, either way.

        ``"*"`` matches every event. ``"error"`` callbacks also get every problem the session reports besides
        ``error`` events: a ``response.done`` that failed or was cut short (``incomplete``) and a failed input audio
        transcription (``realtime_widget.problems.problem_of(event)`` reads code, message and hint from any of
        them; ``record.problems`` lists them all). Returns a function that removes the callback. Callbacks run in
        the kernel when the batch arrives (a busy kernel runs them once the running cell finishes).
        """
        return self._dispatcher.add(event_type, callback)

    def wait_for(self, status: str, timeout: float | None = 30.0) -> Awaitable[str]:
        """An awaitable that resolves when ``status`` is reached (``"connected"``, ``"closed"``, ...).

        ``widget.connect()`` then ``await widget.wait_for("connected")`` works in one cell: the key travels with
        the connect request, and the browser's batches (which carry the connection's milestones) reach the kernel
        while an async cell awaits. A cell that blocks without awaiting (``time.sleep``) holds everything until
        it ends. Raises :class:`RealtimeWidgetError` if the connection fails first, and ``TimeoutError`` after
        ``timeout`` seconds.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")

        async def waited() -> str:
            # Polled rather than observed: cheap, and indifferent to which message moved the status.
            deadline = None if timeout is None else time.monotonic() + timeout
            while self.status != status:
                if self.status == "failed" and status != "failed":
                    raise RealtimeWidgetError(ErrorInfo.from_dict(self.error or {"code": "unknown"}))
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"the widget did not reach {status!r} within {timeout} s (now {self.status!r})")
                await asyncio.sleep(0.05)
            return status

        return waited()

    async def play(self, case: Case, *, tts: TextToSpeech | None = None) -> Results:
        """Speaks a case's user turns into the live session, for a demo an audience can watch; returns its results.

        ``case`` is an evals :class:`~realtime_widget.evals.Case`. Each spoken step is synthesized here (eSpeak NG
        from the ``speech`` extra, or ``tts``, your own text-to-speech) and mixed by the browser into the
        microphone track, so the model hears it as it would hear you (with or without a microphone, over either
        transport); typed steps and images go as the composer sends them. Each reply is awaited, done and heard,
        before the next step (a barge-in step speaks over it instead); each step is bounded by ``case.timeout_s``.
        The widget shows "Playing case <name> · step i/n" with a Stop button.

        At the end the case's expectations are checked against the part of the record made during the play, and
        the result is what :func:`realtime_widget.evals.run` gives for one case (``assert result.passed`` lists
        any failure with the transcript it looked at). A Stop, a dropped connection or a step that timed out ends
        the play with a failure saying so; nothing recorded is lost. Await it in a cell: the browser's batches keep
        reaching the kernel while it waits.

        Raises:
            PlayError: the widget is not connected, or another case is playing.
            ValueError: the case expects a tool the widget does not have (as the evals refuse it), or scripts the
                local server's replies when the widget does not use it.
            RuntimeError: the case speaks text and eSpeak NG is missing (pass ``tts=``).
        """
        from .play import CasePlay, PlayError  # noqa: PLC0415 - the evals' parts load only when a case is played
        from .play.driver import PlayHost  # noqa: PLC0415

        if self._play is not None:
            raise PlayError(f"case {self._play.case.name!r} is playing; wait for it to end (or press Stop) first")
        if self.status != "connected":
            raise PlayError(
                f"the widget is not connected (status {self.status!r}): connect first, e.g. widget.connect() "
                "then await widget.wait_for('connected')"
            )
        case.check_tools([str(t["name"]) for t in self.config.tools if isinstance(t, dict) and "name" in t])
        host = PlayHost(
            record=self.record,
            status=lambda: self.status,
            error=lambda: dict(self.error),
            send=lambda content, buffers: self.send(content, buffers=buffers),
            send_text=self.send_text,
            send_image=self.send_image,
            websocket=self._transport_in_use == "websocket",
        )
        play = CasePlay(host, case, tts)  # refuses a missing text-to-speech before anything is scripted or played
        if case.script:
            await self._script(case)
        if self._play is not None:  # another play began while the script was being queued
            raise PlayError(f"case {self._play.case.name!r} is playing; wait for it to end (or press Stop) first")
        self._play = play
        try:
            return await play.run()
        finally:
            self._play = None

    async def _script(self, case: Case) -> None:
        """A case's scripted replies, for this session only (the local server's scripted mode)."""
        server = self.local_server
        if server is None:
            raise ValueError(
                f"case {case.name!r} scripts the local server's replies, but this widget talks to "
                f"{self.server_label}; drop its script"
            )
        target = self._call_id or self._api_session_call()
        await asyncio.to_thread(server.script, list(case.script), target)

    def _api_session_call(self) -> str | None:
        """Over WebSocket a session has no call id: the local server's call that holds this session."""
        events = self.record.events
        created = events[(events["type"] == "session.created") & (events["direction"] == "server")]
        if created.empty:
            return None
        session_id = (json.loads(created["payload"].iloc[-1]).get("session") or {}).get("id")
        calls = self.local_server.calls() if self.local_server is not None else []
        return next((c["call_id"] for c in calls if c.get("session_id") == session_id), None)

    def close(self) -> None:
        """Closes the widget; the local server (if any) stays for other widgets and ends with the kernel."""
        keys = getattr(self, "_keys", None)  # absent when __init__ failed on a bad option
        if keys is not None:
            keys.close()
        minter = getattr(self, "_prewarm_minter", None)
        if minter is not None:
            minter.close()  # the sync pool; the async one closes with its loop's transports
        endpoint = getattr(self, "_endpoint", None)
        if endpoint is not None:
            endpoint.close()
        super().close()

    def __repr__(self) -> str:
        return f"RealtimeWidget(status={self.status!r}, server={self.server_label!r}, events={len(self.record)})"

    # ---- the wire -------------------------------------------------------------------------------------------

    def notify(self, level: str, text: str) -> None:
        """Shows a notice in the widget (``level``: ``"info"``, ``"warning"`` or ``"error"``), as text."""
        self._send_command({"name": "notice", "level": level, "text": text})

    def _send_command(self, command_body: dict[str, Any]) -> None:
        self._send_message({"type": "rtw:cmd", "command": command_body})

    def _send_message(self, message: dict[str, Any]) -> None:
        self.send(message)

    def _send_client_event(self, event: dict[str, Any]) -> None:
        self._send_command({"name": "send", "event": event})

    def _on_custom_message(self, _widget: Any, content: Any, buffers: list[bytes]) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == AUDIO_TYPE:
            self._take_audio(content, buffers)
            return
        if content.get("type") == "rtw:key_request":
            self._keys.request(str(content.get("client") or ""))
            return
        if content.get("type") == "rtw:key_release":
            self._keys.release(str(content.get("client") or ""))
            return
        if content.get("type") != "rtw:batch":
            return
        result = self._inbox.accept(content)
        if result.error is not None:
            log.warning("a batch from the browser was not recorded whole: %s", result.error)
        if result.ack is not None:
            self.send(result.ack)
        if result.items:
            self._take_items(result.items)

    def _take_audio(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """An audio chunk (docs/wire.md, "Audio chunks"): acknowledged, then written once, in order, to disk."""
        result = self._audio_inbox.accept(content, buffers)
        if result.error is not None:
            log.warning("an audio chunk from the browser was not recorded: %s", result.error)
        if result.ack is not None:
            self.send(result.ack)
        if not self.record_audio:
            return  # recording is off: nothing asked for this audio
        for chunk in result.chunks:
            start_us = ms_to_us(chunk.t + self.record.clock_offset_ms)
            self.record.write_audio(chunk.side, chunk.pcm16, chunk.rate, start_us)

    def _take_items(self, items: list[dict[str, Any]]) -> None:
        self.record.add_items(items)
        finished: list[dict[str, Any]] = []
        for item in items:
            kind = item.get("k")
            if kind == "timeline":
                self._follow_timeline(item)
            elif kind == "event" and isinstance(item.get("event"), dict):
                event = item["event"]
                line = utterance(item)
                if line is not None:
                    finished.append(line)
                if line is not None and self._agent is not None:
                    line["agent"] = self._agent.driver.agent_of(line.get("response_id"))
                if item.get("dir") == "server":
                    if self._agent is not None:
                        self._agent.driver.on_server_event(event)
                    self._runner.on_server_event(event)
                    refused = self._live_updates.on_server_event(event)
                    if refused is not None:
                        self._roll_back(refused)
                self._dispatcher.dispatch(event)
                if item.get("dir") == "server" and event.get("type") != "error" and problem_of(event) is not None:
                    self._dispatcher.dispatch_to("error", event)
        if finished:
            self.transcript = [*self.transcript, *finished]
        if self._play is not None:
            self._play.on_items(items)

    def _hang_up(self, call_id: str) -> None:
        # The browser closed its side; the API's hang-up (standard key only) ends the call on the server at once.
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a script without one): the server ends the call when the peer is gone
        self._background.spawn(self._endpoint.minter().ahangup(call_id))

    def _follow_timeline(self, item: dict[str, Any]) -> None:
        detail = item.get("detail") or {}
        what = item.get("what")
        if what == "answer_received":
            self._call_id = str(detail.get("call_id") or "") or None
        elif what == "transport":
            self._transport_in_use = str(detail.get("transport") or "") or None
            if detail.get("transport") == "websocket":
                # transport="auto" falling back after WebRTC failed (ICE): that call was answered but never
                # connected, and no status ends it (the connection goes on), so it is hung up here rather than
                # left on the server.
                if self._call_id not in (None, self._hung_up):
                    self._hung_up = self._call_id
                    self._hang_up(self._call_id)
                self._call_id = None
        elif what == "mic_off":
            self.mic_off = {key: str(detail.get(key) or "") for key in ("reason", "message", "hint", "detail")}
        elif what == "mic_ready":
            self.mic_off = {}
        status = _STATUS_AFTER.get(str(what))
        if status is None:
            return
        # Hung up from here, in the batches' order (after the call's own answer_received), even when the browser's
        # status trait got here first: that trait can also arrive late, after a newer call's answer.
        if status in ("closed", "failed", "reconnecting") and self._call_id not in (None, self._hung_up):
            self._hung_up = self._call_id
            self._hang_up(self._call_id)
        if status == self.status:
            return
        # The browser also writes `status`, but ipywidgets holds a model's trait updates back while the kernel has
        # not reported idle for the previous one, which an async cell delays; batches are not held, so the
        # connection's milestones from the timeline keep the kernel's view current.
        if status == "failed" and not self.error and detail.get("code"):
            self.error = ErrorInfo.from_dict(detail).to_dict()
        if status != "connected":
            self._live_updates.forget()  # that session is gone; the config stands for the next one
        self.status = status

    def _on_status(self, change: dict[str, Any]) -> None:
        if change["new"] == "connected" and self.error:
            # An error from a failed attempt (a key mint that could not reach the server during a reconnect) is
            # over once a later attempt connects; left standing, the widget and Python would still report it.
            self.error = {}
        if self._autosave is not None:
            self._autosave.follow(str(change["new"]), self)
        if self._play is not None:
            self._play.poke()

    def _on_settings_edited(self, change: dict[str, Any]) -> None:
        # The UI edits voice/instructions/turn detection; the config follows so the next key carries them.
        new_config = self._config.with_ui_settings(change["new"])
        if new_config != self._config:
            self._keys.config_changed()
        self._config = new_config
        # Echo the whole settings back when the edit changed what the UI does not show (the turn detection object
        # after a switch of its type), so the browser's next connect sends the object the kernel holds.
        settings = self._config.ui_settings()
        if settings != change["new"]:
            self.settings = settings

    def _tools_changed(self) -> None:
        self._keys.config_changed()
        if self.status == "connected":
            # The registry already changed; a refusal is shown and recorded, and the next key carries the tools.
            self._send_session_update({"tools": self.config.tool_definitions()}, {})

    # ---- commands from the browser (anywidget experimental.invoke) ------------------------------------------

    @command
    def mint_key(self, msg: dict[str, Any], _buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        attempt = int(msg.get("attempt", 1)) if isinstance(msg, dict) else 1
        return self._mint(attempt), []

    def _mint(self, attempt: int) -> dict[str, Any]:
        """The ``mint_key`` reply (docs/wire.md): a fresh ephemeral key for the current config, or the error."""
        self.record.add_kernel_timeline("mint_start", {"attempt": attempt})
        settings = self._config.ui_settings()  # what the key's session carries (docs/wire.md)
        try:
            key = self._endpoint.minter().mint(self.config.to_session(), ttl_seconds=self._key_ttl_seconds)
        except RealtimeWidgetError as exc:
            self.record.add_kernel_timeline("mint_failed", {"attempt": attempt, **exc.info.to_dict()})
            self.error = exc.info.to_dict()
            return {"ok": False, "error": exc.info.to_dict()}
        self.record.add_kernel_timeline("mint_end", {"attempt": attempt})
        return {**key.to_reply(), "settings": settings}

    def _ui_settings_now(self) -> dict[str, Any]:
        """The ``settings`` trait of the config as it is now (the config object is replaced on every change)."""
        return self._config.ui_settings()

    async def _mint_in_background(self) -> EphemeralKey:
        """A key for the current config, for the pre-warmer (never blocks the kernel's event loop).

        With a minter of its own: its async HTTP client then lives on the pre-warmer's event loop only, while the
        endpoint's is also used by hang-ups that may run on another (a connection pooled on one loop and awaited
        on another never answers, which stopped pre-warming after a few calls)."""
        if self._prewarm_minter is None:
            self._prewarm_minter = KeyMinter(self._endpoint.base_url, self._endpoint.api_key)
        return await self._prewarm_minter.amint(self.config.to_session(), ttl_seconds=self._key_ttl_seconds)

    @command
    def history(self, _msg: Any, _buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        return {"items": self.record.history_items(), "last_seq": self._inbox.last_seq()}, []

    @command
    def clock(self, _msg: Any, _buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        return {"t_kernel": time.time() * 1000.0}, []


_WIDGET_OPTIONS = (
    "tools",
    "api_key",
    "base_url",
    "config",
    "connection",
    "transport",
    "key_ttl_seconds",
    "autosave",
    "autosave_every_s",
    "agent",
    "context",
    "microphone",
    "record_audio",
)


def _check_widget_arguments(
    api_key: object, base_url: object, key_ttl_seconds: object, autosave_every_s: object
) -> None:
    """A wrong type or value for an argument raises at once, naming it, instead of failing later and elsewhere."""
    check_endpoint_arguments(api_key, base_url)
    low, high = KEY_TTL_RANGE_S
    if isinstance(key_ttl_seconds, bool) or not isinstance(key_ttl_seconds, int):
        raise TypeError(f"key_ttl_seconds must be a whole number of seconds; got {type(key_ttl_seconds).__name__}")
    if not low <= key_ttl_seconds <= high:
        raise ValueError(f"key_ttl_seconds must be between {low} and {high} (the API's limits); got {key_ttl_seconds}")
    check_seconds("autosave_every_s", autosave_every_s)
