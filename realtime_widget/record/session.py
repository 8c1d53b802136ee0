"""SessionRecord: everything one session did, kept append-only in the kernel and read as DataFrames."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from realtime_widget.protocol import ValidationError, validate_client_event, validate_server_event
from realtime_widget.record import derive, schema
from realtime_widget.record.acoustic import acoustic_turns
from realtime_widget.record.audio import SessionAudio, turn_spans
from realtime_widget.record.audio_files import Placement
from realtime_widget.record.audio_track import AudioSide, AudioTrack
from realtime_widget.record.audio_writer import AudioWriter
from realtime_widget.record.pricing import DEFAULT_PRICES, ModelPrices
from realtime_widget.record.store import EventStore, ms_to_us
from realtime_widget.record.summary import summarize, summary_html
from realtime_widget.validation_errors import first_error, where

if TYPE_CHECKING:
    from realtime_widget.replay import ReplayView

__all__ = ["AppendListener", "SavedAudioFile", "SessionRecord"]

_log = logging.getLogger(__name__)

#: Called after each append with the items just recorded (wire form; kernel-side ones have ``k`` "kernel_timeline"
#: or "tool_call"). Exceptions are logged, never raised into the caller.
AppendListener = Callable[[list[dict[str, Any]]], None]
#: A saved session's audio file and what its ``audio.json`` says of it.
SavedAudioFile = tuple[Path, Placement]

_STATS_FIELDS = tuple(name for name in schema.STATS if name != "time")
# Events a fresh view needs however old they are: the finished utterances and tool calls.
_TRANSCRIPT_TYPES = (
    "conversation.item.input_audio_transcription.completed",
    "response.output_audio_transcript.done",
    "response.output_text.done",
    "response.function_call_arguments.done",
    "conversation.item.added",
)


def _now_us() -> int:
    return ms_to_us(datetime.now(UTC).timestamp() * 1000.0)


def _datetime_us(value: datetime | float | None) -> int | None:
    """A datetime (naive = UTC) or epoch ms to µs."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return ms_to_us(aware.timestamp() * 1000.0)
    return ms_to_us(float(value))


def _text(value: object) -> str | None:
    """Tool arguments/outputs as text: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


class SessionRecord:
    """The whole record of one realtime session, as pandas DataFrames.

    The widget appends what the browser reports (every event both ways, ``getStats`` samples, the connection
    timeline, voice-to-voice latencies) and what the kernel did (key minting, tool runs). Appending is cheap and
    nothing is ever changed or dropped: malformed events are kept as they came (see :meth:`validate`).

    Views are properties built on first access and cached until the next append: :attr:`events`,
    :attr:`transcript`, :attr:`turns`, :attr:`stats`, :attr:`timeline`, :attr:`usage`, :attr:`tool_calls`,
    :attr:`voice_latency`; recorded audio of both sides, when recording is on, is :attr:`audio`. Every time column
    is ``datetime64[us, UTC]`` on the kernel's clock; durations are float milliseconds; missing values are
    ``NaT``/``NaN``/``<NA>``. String columns use pandas' ``str`` dtype.

    Clocks: browser items carry browser time. ``clock_offset_ms`` is *kernel clock minus browser clock* (as measured
    by the ``clock`` command's round trip) and is added to every browser time on the way in, so browser and kernel
    happenings share one axis. A ``clock_offset`` timeline item from the browser updates it for the items recorded
    after it (the browser measures it at each connect, before the conversation's events, so in practice every event
    gets the offset of its connection).
    """

    def __init__(self, session_id: str | None = None, *, prices: Mapping[str, ModelPrices] | None = None) -> None:
        self.session_id: str = session_id or uuid.uuid4().hex
        #: Model id → prices used by :attr:`usage`; edit freely (see ``realtime_widget.record.pricing``).
        self.prices: dict[str, ModelPrices] = dict(DEFAULT_PRICES if prices is None else prices)
        #: Overrides the model read from ``session.created``/``session.updated`` when pricing usage.
        self.model: str | None = None
        self.clock_offset_ms: float = 0.0
        self.clock_rtt_ms: float | None = None
        self.created: datetime = datetime.now(UTC)
        self._events = EventStore()
        self._stats: list[tuple[Any, ...]] = []
        # (time µs, source, what, attempt, detail JSON)
        self._timeline: list[tuple[int, str, str, int | None, str]] = []
        self._response_agents: dict[str, str] = {}  # response id -> Agents SDK agent, from agent_response rows
        self._voice_latency: list[tuple[int, float, int, int]] = []
        self._tool_calls: list[tuple[Any, ...]] = []
        self._listeners: list[AppendListener] = []
        self._audio_writer: AudioWriter | None = None
        self._saved_audio: SessionAudio | None = None  # a loaded session's audio files, decoded on first use
        self._saved_audio_files: dict[AudioSide, SavedAudioFile] = {}  # ... and each file as saved
        self._audio_files: tuple[Path, ...] = ()  # where the audio was last saved
        self._views: dict[str, pd.DataFrame] = {}
        #: Held while appending and while building a view: any thread may read or save the record while the
        #: widget appends (hold it to read several views as one consistent snapshot; ``save`` does).
        self.lock = threading.RLock()

    def event_lines(self) -> Iterator[str]:
        """Every recorded event as one JSON line in wire form (what a save writes to ``events.jsonl``, and what
        :meth:`add_items` reads back)."""
        with self.lock:
            return iter(list(self._events.wire_lines()))

    @classmethod
    def restore(
        cls,
        session_id: str,
        *,
        events: list[dict[str, Any]],
        stats: list[tuple[Any, ...]],
        timeline: list[tuple[int, str, str, int | None, str]],
        tool_calls: list[tuple[Any, ...]],
        voice_latency: list[tuple[int, float, int, int]],
        prices: Mapping[str, ModelPrices] | None = None,
        created: datetime | None = None,
        model: str | None = None,
        clock_offset_ms: float = 0.0,
        clock_rtt_ms: float | None = None,
    ) -> SessionRecord:
        """A record rebuilt from what a save wrote (``persist.load`` uses it).

        ``events`` are wire items whose times already include the clock offset (they are recorded as they are).
        The other rows are tuples in the column order of their views (``stats``, ``timeline``, ``tool_calls``,
        ``voice_latency``; see ``schema.py``), with times as integer microseconds since the epoch. The measured
        ``clock_offset_ms`` is kept for reference, not applied again.
        """
        record = cls(session_id, prices=prices)
        if created is not None:
            record.created = created
        record.model = model
        record.add_items(events, clock_offset_ms=0.0)
        record._stats = list(stats)
        record._timeline = list(timeline)
        for _time, _source, what, _attempt, detail in record._timeline:
            if what == "agent_response":
                record._note_agent(json.loads(detail))
        record._tool_calls = list(tool_calls)
        record._voice_latency = list(voice_latency)
        record.set_clock_offset(clock_offset_ms, clock_rtt_ms)
        record._views.clear()
        return record

    # ---- appending -------------------------------------------------------------------------------------------

    def add_items(self, items: list[dict[str, Any]], *, clock_offset_ms: float | None = None) -> int:
        """Record wire items (``event``, ``stats``, ``timeline``, ``voice_latency``; see docs/wire.md).

        ``clock_offset_ms`` (kernel minus browser, ms) shifts the items' times; ``None`` uses the record's current
        offset. Items of an unknown kind or without a numeric ``t`` are skipped (and logged): the wire promises
        both. Returns the number of items recorded.
        """
        with self.lock:
            offset = self.clock_offset_ms if clock_offset_ms is None else clock_offset_ms
            recorded: list[dict[str, Any]] = []
            for item in items:
                t = item.get("t")
                if not isinstance(t, int | float) or isinstance(t, bool):
                    _log.warning("skipping a wire item without a numeric 't': kind %r", item.get("k"))
                    continue
                time_us = ms_to_us(t + offset)
                kind = item.get("k")
                if kind == "event":
                    self._events.append(time_us, str(item.get("dir")), item.get("event"), _raw(item.get("raw")))
                elif kind == "stats":
                    self._stats.append((time_us, *(item.get(name) for name in _STATS_FIELDS)))
                elif kind == "timeline":
                    self._add_timeline(time_us, "browser", item)
                    if item.get("what") == "clock_offset" and clock_offset_ms is None:
                        offset = self._take_clock_offset(item.get("detail"), offset)
                elif kind == "voice_latency":
                    self._voice_latency.append(
                        (
                            time_us,
                            float(item.get("ms") or 0.0),
                            ms_to_us(float(item.get("user_speech_end_t") or 0.0) + offset),
                            ms_to_us(float(item.get("assistant_audio_start_t") or 0.0) + offset),
                        )
                    )
                else:
                    _log.warning("skipping a wire item of unknown kind %r", kind)
                    continue
                recorded.append(item)
            self._appended(recorded)
            return len(recorded)

    def add_kernel_timeline(self, what: str, detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
        """Record something the kernel did (``key_minted``, ``tool_started``, ``tool_finished``...), at ``at``
        (default: now) on the kernel's clock. Never put secrets in ``detail``: it is saved with the session."""
        with self.lock:
            time_us = _datetime_us(at) or _now_us()
            item = {"k": "kernel_timeline", "t": time_us / 1000.0, "what": what, "detail": detail or {}}
            self._add_timeline(time_us, "kernel", item)
            self._appended([item])

    def add_tool_call(self, record: Mapping[str, Any]) -> None:
        """Record one finished tool call: ``call_id``, ``name``, ``arguments`` and ``output`` (text, or anything
        JSON-serialisable), ``error`` and ``traceback`` (text or None), ``started`` (datetime or epoch ms, kernel
        clock) and ``duration_ms``."""
        with self.lock:
            duration = record.get("duration_ms")
            row = (
                _datetime_us(record.get("started")),
                _text(record.get("name")),
                _text(record.get("call_id")),
                _text(record.get("arguments")),
                _text(record.get("output")),
                _text(record.get("error")),
                _text(record.get("traceback")),
                None if duration is None else float(duration),
            )
            self._tool_calls.append(row)
            self._appended([{"k": "tool_call", **record}])

    def set_clock_offset(self, offset_ms: float, rtt_ms: float | None = None) -> None:
        """Set the browser → kernel clock offset (kernel minus browser, ms) for items appended from now on."""
        with self.lock:
            self.clock_offset_ms = float(offset_ms)
            self.clock_rtt_ms = None if rtt_ms is None else float(rtt_ms)

    def on_append(self, listener: AppendListener) -> Callable[[], None]:
        """Call ``listener(items)`` after every append; returns a function that removes it.

        The widget uses this to keep small traits current (the last stats sample, the latest transcript line) and to
        fire user callbacks per event type, without re-reading the record.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _add_timeline(self, time_us: int, source: str, item: Mapping[str, Any]) -> None:
        attempt = item.get("attempt")
        detail = item.get("detail")
        if item.get("what") == "agent_response":
            self._note_agent(detail)
        self._timeline.append(
            (
                time_us,
                source,
                str(item.get("what")),
                attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
                json.dumps(detail if isinstance(detail, dict) else {}, default=str, separators=(",", ":")),
            )
        )

    def _note_agent(self, detail: object) -> None:
        # An Agents SDK session's kernel row naming the agent of a response (realtime_widget.agents).
        if isinstance(detail, dict) and detail.get("response_id") and detail.get("agent"):
            self._response_agents[str(detail["response_id"])] = str(detail["agent"])

    def _take_clock_offset(self, detail: object, current: float) -> float:
        if isinstance(detail, dict) and isinstance(detail.get("offset_ms"), int | float):
            rtt = detail.get("rtt_ms")
            self.set_clock_offset(detail["offset_ms"], rtt if isinstance(rtt, int | float) else None)
            return self.clock_offset_ms
        return current

    def _appended(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        self._views.clear()
        for listener in list(self._listeners):
            try:
                listener(items)
            except Exception:
                _log.exception("an on_append listener failed")

    # ---- views -----------------------------------------------------------------------------------------------

    def _view(self, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        with self.lock:
            cached = self._views.get(name)
            if cached is None:
                cached = self._views[name] = build()
            # A shallow copy: with copy-on-write, a caller changing its frame never changes the cache.
            return cached.copy(deep=False)

    @property
    def events(self) -> pd.DataFrame:
        """Every message that crossed the data channel, both directions, in arrival order.

        ==============  =======================  ===========================================================
        column          dtype                    meaning
        ==============  =======================  ===========================================================
        time            datetime64[us, UTC]      when the browser sent or received it (kernel clock)
        direction       str                      ``"client"`` (browser sent) or ``"server"`` (arrived)
        type            str                      the event's ``type``; missing for unparseable messages
        event_id        str                      the event's ``event_id``
        item_id         str                      ``item_id``, or ``item.id`` for item events
        response_id     str                      ``response_id``, or ``response.id`` for response events
        call_id         str                      ``call_id``, or ``item.call_id`` (function calls/outputs)
        payload         str                      the whole event as JSON text (``json.loads`` it, or use
                                                 :meth:`event`); missing for unparseable messages
        raw             str                      the text of a message that was not JSON, else missing
        ==============  =======================  ===========================================================

        The index is the event's position in the record (what :meth:`event` and :meth:`validate` use). Items are
        in arrival order, which can differ slightly from ``time`` when batches were resent; sort by ``time`` for
        analysis across directions.
        """
        return self._view("events", self._build_events)

    def _build_events(self) -> pd.DataFrame:
        store = self._events
        raw_flags = [store.is_raw(i) for i in range(len(store))]
        payload = store.payload.to_list()
        data = {
            "time": schema.times(store.times()),
            "direction": ["client" if d == 0 else "server" for d in store.direction],
            "type": store.types.decode(store.codes("type_code")),
            "event_id": store.event_id.to_list(),
            "item_id": store.ids.decode(store.codes("item_code")),
            "response_id": store.ids.decode(store.codes("response_code")),
            "call_id": store.ids.decode(store.codes("call_code")),
            "payload": [None if r else p for r, p in zip(raw_flags, payload, strict=True)],
            "raw": [p if r else None for r, p in zip(raw_flags, payload, strict=True)],
        }
        return schema.frame(schema.EVENTS, data)

    def event(self, index: int) -> dict[str, Any] | None:
        """The event at position ``index`` of :attr:`events` as a dict (``None`` for an unparseable message)."""
        return self._events.event(index)

    @property
    def transcript(self) -> pd.DataFrame:
        """One row per finished utterance, in the order they started.

        ==============  ====================  =======================================================================
        column          dtype                 meaning
        ==============  ====================  =======================================================================
        role            str                   ``"user"`` or ``"assistant"``
        text            str                   what was said (user: the input transcription, or the typed text;
                                              assistant: what was heard: ``output_audio_transcript.done`` or
                                              ``output_text.done``, cut where the item was truncated)
        item_id         str                   the conversation item
        response_id     str                   the assistant's response; missing for user rows
        started         datetime64[us, UTC]   user: ``speech_started`` (else the first transcription delta);
                                              assistant: the first transcript/text delta
        ended           datetime64[us, UTC]   user: ``speech_stopped`` (else transcription completed);
                                              assistant: the ``.done`` event
        interrupted     bool                  the reply's audio was truncated (``conversation.item.truncated``)
        audio_end_ms    float64               where it was truncated, in ms of its audio (NaN if it was not)
        generated_text  str                   everything the model generated (equals ``text`` unless interrupted)
        agent           str                   the Agents SDK agent that spoke (``RealtimeWidget(agent=...)``);
                                              missing for user rows and without an agent
        ==============  ====================  =======================================================================

        The real API generates a reply faster than it is spoken, so its whole transcript arrives before the user
        has heard it. When the user cuts in, the item is truncated at ``audio_end_ms`` (by the server over WebRTC,
        by the client over WebSocket) and ``text`` keeps the words spoken by then. The API sends no word timings:
        the cut is placed at this session's speaking rate (measured from replies heard in full over WebRTC; about
        150 words a minute without any), whole words only. Typed user messages have ``started == ended``.
        """
        return self._view("transcript", lambda: derive.transcript(self._events, self._response_agents))

    @property
    def turns(self) -> pd.DataFrame:
        """One row per user turn: a user item (speech started, a push-to-talk commit, or a typed message) and the
        responses created before the next one.

        ====================  ====================  ====================================================================
        column                dtype                 meaning
        ====================  ====================  ====================================================================
        turn                  int64                 0, 1, 2, ...
        user_item_id          str                   the user's conversation item
        speech_started        datetime64[us, UTC]   ``input_audio_buffer.speech_started`` (NaT for typed turns)
        speech_stopped        datetime64[us, UTC]   ``input_audio_buffer.speech_stopped``
        response_id           str                   the turn's first response
        response_created      datetime64[us, UTC]   its ``response.created``
        first_audio           datetime64[us, UTC]   first ``output_audio_buffer.started`` of the turn's responses
                                                    (WebSocket: first ``response.output_audio.delta``)
        response_done         datetime64[us, UTC]   the last ``response.done`` of the turn
        status                str                   the last response's status (completed, cancelled, ...)
        interrupted           bool                  the user cut a reply off: its output buffer was cleared, its item
                                                    truncated, or it was cancelled (``turn_detected`` or
                                                    ``client_cancelled``) while being generated
        latency_ms            float64               ``speech_stopped`` → ``first_audio``: latency by events
        voice_to_voice_ms     float64               as heard in the browser (mic energy falls → reply audio rises),
                                                    from the ``voice_latency`` item that falls in the turn
        response_duration_ms  float64               ``response_created`` → ``response_done``: generation time, which
                                                    the real API keeps shorter than the audio it generates
        speaking_ms           float64               audio actually played: ``audio_end_ms`` of a truncated reply, else
                                                    ``output_audio_buffer.started`` → ``.stopped``/``.cleared``
                                                    (WebRTC); NaN when unknown (an untruncated reply over WebSocket)
        responses             int64                 responses in the turn (2 when a tool call needed a follow-up)
        input_tokens          Int64                 summed over the turn's responses
        output_tokens         Int64                 summed over the turn's responses
        agent                 str                   the Agents SDK agent of the turn's last response, the one that
                                                    answered (after a handoff, the agent handed to); missing without
        ====================  ====================  ====================================================================

        Server VAD reports ``speech_stopped`` after its silence duration, so ``latency_ms`` excludes that wait and
        ``voice_to_voice_ms`` includes it. ``acoustic_latency_ms`` (float64, after ``voice_to_voice_ms``) is the
        gap a listener heard, found in the recorded audio (:attr:`audio`): the end of the user's last sound before
        ``speech_stopped`` → the reply's first sound (see ``realtime_widget.record.acoustic``); NaN without
        recorded audio. Responses before the first user turn (a greeting) belong to no turn.
        """
        audio = self.audio
        version = self._audio_writer.version if self._audio_writer is not None else 0
        key = f"turns:{version}"
        with self.lock:  # recorded audio changes the acoustic column: keep only the turns of the latest audio
            for stale in [name for name in self._views if name.startswith("turns:") and name != key]:
                del self._views[stale]
        return self._view(key, lambda: self._build_turns(audio))

    def _build_turns(self, audio: SessionAudio) -> pd.DataFrame:
        turns = derive.turns(self._events, self._voice_latency, self._response_agents)
        if audio and len(turns):
            turns["acoustic_latency_ms"] = acoustic_turns(audio, turns)["acoustic_latency_ms"].to_numpy()
        return turns

    @property
    def stats(self) -> pd.DataFrame:
        """One row per ``getStats`` sample, sorted by time (in = the model's audio arriving, out = the mic's audio
        leaving).

        ``time`` datetime64[us, UTC]; ``rtt_ms``, ``jitter_ms``, ``bitrate_in_kbps``, ``bitrate_out_kbps``,
        ``audio_level_in``, ``audio_level_out`` float64 (NaN when the browser had no value);
        ``packets_received``, ``packets_lost``, ``bytes_received``, ``bytes_sent`` Int64 (cumulative counters since
        the peer connection started; they restart at a reconnect); ``codec`` str (e.g. ``"opus"``).
        """
        return self._view("stats", self._build_stats)

    def _build_stats(self) -> pd.DataFrame:
        rows = sorted(self._stats, key=lambda r: r[0])  # by time: resent batches arrive late
        data: dict[str, Any] = {name: [row[i] for row in rows] for i, name in enumerate(schema.STATS)}
        data["time"] = schema.times(data["time"])
        return schema.frame(schema.STATS, data)

    @property
    def timeline(self) -> pd.DataFrame:
        """The connection's story from both sides, sorted by time.

        ``time`` datetime64[us, UTC]; ``source`` str (``"browser"`` or ``"kernel"``); ``what`` str (browser: the
        wire's timeline names such as ``mint_start``, ``ice_state``, ``connected``, ``disconnected``; kernel:
        ``key_minted``, ``tool_started``, ``tool_finished``...); ``attempt`` Int64 (connect attempt, from 1;
        missing for kernel rows); ``state`` str (``detail["state"]`` for ``*_state`` rows); ``detail`` str (JSON).
        """
        return self._view("timeline", self._build_timeline)

    def _build_timeline(self) -> pd.DataFrame:
        rows = sorted(self._timeline, key=lambda r: r[0])
        data: dict[str, Any] = {
            "time": schema.times([r[0] for r in rows]),
            "source": [r[1] for r in rows],
            "what": [r[2] for r in rows],
            "attempt": [r[3] for r in rows],
            "state": [json.loads(r[4]).get("state") for r in rows],
            "detail": [r[4] for r in rows],
        }
        return schema.frame(schema.TIMELINE, data)

    @property
    def usage(self) -> pd.DataFrame:
        """Tokens and cost per ``response.done`` and per transcribed user turn, priced with :attr:`prices` (see
        :meth:`usage_with_cost`).

        ``time`` datetime64[us, UTC]; ``response_id``, ``status``, ``model`` str (the session's model at the time,
        or :attr:`model`; for a transcription, the transcription model); token counts Int64: ``total_tokens``,
        ``input_tokens``, ``output_tokens``, ``input_text_tokens``, ``input_audio_tokens``, ``input_image_tokens``,
        ``cached_tokens``, ``cached_text_tokens``, ``cached_audio_tokens``, ``cached_image_tokens``,
        ``output_text_tokens``, ``output_audio_tokens``; ``cost_usd`` float64 (NaN when the model has no prices);
        ``source`` str (``"response"``, or ``"transcription"``: input audio transcription, which OpenAI bills
        apart, by tokens or, for ``whisper-1``, by the minute); ``item_id`` str (the transcribed user item);
        ``audio_seconds`` float64 (the duration billed, for duration-priced transcription).
        """
        # Keyed on the prices and model too, so editing `record.prices` shows at once.
        key = f"usage:{hash((frozenset(self.prices.items()), self.model))}"
        return self._view(key, lambda: derive.usage(self._events, self.prices, self.model))

    @property
    def problems(self) -> pd.DataFrame:
        """One row per problem the server reported, in time order: every ``error`` event, every ``response.done``
        that failed or was cut short (``incomplete``), every failed input audio transcription.

        ``time`` datetime64[us, UTC]; ``source`` (the event type), ``level`` (``error`` or ``warning``), ``code``
        (the API's error code, or the incomplete reason), ``message``, ``hint`` (what to do next) and
        ``response_id`` (for responses) str. Cancelled responses are interruptions, not problems (see
        :attr:`turns`).
        """
        return self._view("problems", lambda: derive.problems(self._events))

    def usage_with_cost(
        self, prices: Mapping[str, ModelPrices] | None = None, model: str | None = None
    ) -> pd.DataFrame:
        """:attr:`usage` priced with other ``prices`` (model id → :class:`ModelPrices`) and/or as another
        ``model``; not cached."""
        return derive.usage(self._events, self.prices if prices is None else prices, model or self.model)

    @property
    def tool_calls(self) -> pd.DataFrame:
        """One row per tool call the kernel ran.

        ``started`` datetime64[us, UTC] (kernel clock); ``name``, ``call_id``, ``arguments`` (JSON text as the model
        sent it), ``output`` (what was sent back), ``error`` and ``traceback`` (missing unless it failed) str;
        ``duration_ms`` float64.
        """
        return self._view("tool_calls", self._build_tool_calls)

    def _build_tool_calls(self) -> pd.DataFrame:
        names = list(schema.TOOL_CALLS)
        data: dict[str, Any] = {name: [row[i] for row in self._tool_calls] for i, name in enumerate(names)}
        data["started"] = schema.times(data["started"])
        return schema.frame(schema.TOOL_CALLS, data)

    @property
    def voice_latency(self) -> pd.DataFrame:
        """Voice-to-voice latencies measured in the browser, sorted by time: ``time``, ``user_speech_end``,
        ``assistant_audio_start`` datetime64[us, UTC]; ``ms`` float64."""
        return self._view("voice_latency", self._build_voice_latency)

    def _build_voice_latency(self) -> pd.DataFrame:
        rows = sorted(self._voice_latency, key=lambda r: r[0])
        data = {
            "time": schema.times([r[0] for r in rows]),
            "ms": [r[1] for r in rows],
            "user_speech_end": schema.times([r[2] for r in rows]),
            "assistant_audio_start": schema.times([r[3] for r in rows]),
        }
        return schema.frame(schema.VOICE_LATENCY, data)

    # ---- recorded audio ------------------------------------------------------------------------------------------

    def start_audio(self, folder: str | Path | None = None) -> AudioWriter:
        """Start recording audio (``record_audio=True`` does this): returns the writer that streams each side's
        chunks to spool files in ``folder`` (default: a temporary folder, removed by :meth:`close_audio`). Calling
        it again returns the same writer."""
        with self.lock:
            if self._audio_writer is None:
                self._audio_writer = AudioWriter(folder)
            return self._audio_writer

    def write_audio(self, side: AudioSide, pcm16: bytes, sample_rate: int, start_us: int) -> None:
        """Record a chunk of ``side``'s audio (little-endian mono PCM16) whose first sample sounded at ``start_us``
        (epoch microseconds on the record's clock); see :class:`~realtime_widget.record.audio_writer.AudioWriter`.
        Starts recording if it was not on."""
        # The record's lock only to start: a save holds it while it writes the views.
        writer = self._audio_writer or self.start_audio()
        writer.write(side, pcm16, sample_rate, start_us)

    @property
    def audio_writer(self) -> AudioWriter | None:
        """The writer streaming the audio being recorded to its spool files, or ``None`` when not recording."""
        return self._audio_writer

    def close_audio(self) -> None:
        """Remove the spool files of the audio recorded live (save first to keep it)."""
        with self.lock:
            if self._audio_writer is not None:
                self._audio_writer.close()
                self._audio_writer = None
                self._views.clear()

    @property
    def audio(self) -> SessionAudio:
        """Both sides' recorded audio (``record_audio=True``): ``.user`` (the microphone as sent) and
        ``.assistant`` (the reply as played), each an :class:`~realtime_widget.record.audio_track.AudioTrack`
        (int16 samples, ``sample_rate``, ``start`` on the clock of :attr:`events`) or ``None``; ``.clip(turn=3)``
        or ``.clip(start=..., end=...)`` cuts both sides; ``.files`` are the saved FLAC files. Falsy when nothing
        was recorded. Live audio is read from its spool files (mapped, not copied); a loaded session's files are
        decoded on first use."""
        writer = self._audio_writer
        spans = lambda: turn_spans(self.turns)  # noqa: E731 - bound late: the turns of the moment of the clip
        if writer is not None:
            sources: dict[AudioSide, Callable[[], AudioTrack | None]] = {
                "user": lambda: writer.track("user"),
                "assistant": lambda: writer.track("assistant"),
            }
            return SessionAudio(sources, files=self._audio_files, turns=spans)
        if self._saved_audio is not None:
            return self._saved_audio.with_turns(spans, files=self._audio_files or None)
        return SessionAudio({}, turns=spans)

    def note_saved_audio(self, files: tuple[Path, ...]) -> None:
        """Used by ``persist.save``: the audio files just saved (listed by :attr:`audio` ``.files`` and
        :meth:`summary`)."""
        self._audio_files = files

    def attach_saved_audio(
        self, audio: SessionAudio, *, as_saved: Mapping[AudioSide, SavedAudioFile] | None = None
    ) -> None:
        """Used by ``persist.load``: the audio of a loaded session, and (``as_saved``) each side's file with what
        ``audio.json`` said of it, which a new save of this record links or copies instead of encoding again."""
        self._saved_audio = audio
        self._saved_audio_files = dict(as_saved or {})
        self._audio_files = audio.files
        self._views.clear()

    @property
    def saved_audio_files(self) -> dict[AudioSide, SavedAudioFile]:
        """A loaded session's audio files as saved, by side (empty for a live record)."""
        return dict(self._saved_audio_files)

    # ---- small helpers for the widget and for people ------------------------------------------------------------

    @property
    def last_stats(self) -> dict[str, Any] | None:
        """The latest ``getStats`` sample as a dict (``time`` as a UTC datetime), or ``None``."""
        if not self._stats:
            return None
        row = max(self._stats, key=lambda r: r[0])  # batches can arrive reordered
        values = dict(zip(schema.STATS, row, strict=True))
        values["time"] = datetime.fromtimestamp(row[0] / 1_000_000, UTC)
        return values

    def transcript_lines(self) -> list[str]:
        """The transcript as ``"user: ..."`` / ``"assistant: ..."`` lines."""
        return [f"{row.role}: {row.text}" for row in self.transcript.itertuples()]

    def history_items(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Event items in wire form for redrawing a fresh view: the last ``limit`` events plus, before them, up to
        ``limit`` older ones a transcript or tool list needs, in record order (the ``history`` command's
        ``items``). Bounded, so a page reloaded after an hour gets a reply of the same size as after ten minutes;
        the UI keeps fewer transcript entries than that anyway."""
        store = self._events
        first_recent = max(len(store) - limit, 0)
        older = [int(p) for p in store.positions_of(*_TRANSCRIPT_TYPES).tolist() if p < first_recent][-limit:]
        return [store.wire_item(i) for i in (*older, *range(first_recent, len(store)))]

    def validate(self) -> pd.DataFrame:
        """Events that are not valid GA Realtime events (per ``openai.types.realtime``), one row per event:
        ``index`` int64 (position in :attr:`events`), ``time``, ``direction``, ``type``, and ``error`` str (the
        first validation error, or "not JSON")."""
        rows: list[dict[str, Any]] = []
        store = self._events
        for i, text in enumerate(store.payload):
            error: str | None = None
            if store.is_raw(i):
                error = "not JSON"
            else:
                validate = validate_client_event if store.direction[i] == 0 else validate_server_event
                try:
                    validate(text or "")
                except ValidationError as exc:
                    first = first_error(exc)
                    path = where(first, tagged_union=True)
                    error = f"{path}: {first['msg']}" if path else first["msg"]
            if error is not None:
                code = store.type_code[i]
                rows.append(
                    {
                        "index": i,
                        "time": store.time_us[i],
                        "direction": "client" if store.direction[i] == 0 else "server",
                        "type": store.types.values[code] if code >= 0 else None,
                        "error": error,
                    }
                )
        columns = {"index": "int64", "time": schema.TIME, "direction": "str", "type": "str", "error": "str"}
        data: dict[str, Any] = {name: [r[name] for r in rows] for name in columns}
        data["time"] = schema.times(data["time"])
        return schema.frame(columns, data)

    def summary(self) -> str:
        """A few lines for people: duration, turns, latency, tokens, cost, errors."""
        return summarize(self)

    def __repr__(self) -> str:
        return f"<SessionRecord {self.session_id}: {self.summary().splitlines()[0]}>"

    def _repr_html_(self) -> str:
        return summary_html(self)

    def replay(self, **options: Any) -> ReplayView:
        """A :class:`~realtime_widget.replay.ReplayView` of this session: both sides' waveforms on one time axis
        with the transcript, turns, tool calls, interruptions and errors marked; click to play from any point.

        Needs no connection, so it works on a session loaded in a fresh kernel. ``options`` go to ``ReplayView``
        (``audio={"user": track, "assistant": track}`` to show other audio than the record's, ``title=...``).
        """
        from realtime_widget.replay import ReplayView  # noqa: PLC0415  # anywidget only when a replay is shown

        return ReplayView(self, **options)

    # ---- persistence ---------------------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Save to folder ``path`` atomically (a failed save leaves the last good one as it was): one Parquet file per
        view, ``events.jsonl``, ``meta.json``.

        Every Parquet file also has a leading ``session_id`` column, so a folder of saved sessions can be queried
        as one table: ``duckdb.sql("select * from 'sessions/*/turns.parquet'")``. :meth:`load` reads it back.
        """
        from realtime_widget.record.persist import save  # noqa: PLC0415  # persist imports this module

        return save(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> SessionRecord:
        """Load a session saved with :meth:`save`; its views equal the saved record's, dtypes included."""
        from realtime_widget.record.persist import load  # noqa: PLC0415  # persist imports this module

        return load(Path(path))

    def __len__(self) -> int:
        return len(self._events)


def _raw(value: object) -> str | None:
    return value if isinstance(value, str) else None
