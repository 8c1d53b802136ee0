// The Controller (types.ts) for one widget model in one page: the connection's lifecycle and reconnects,
// the synced traits it writes, kernel commands, and the history batches to the kernel.
//
// Status: idle → minting → connecting → connected. A first attempt that fails goes to `failed` with `error` set
// (no retry: a wrong key or a refused mic will not fix itself). A connection lost after `connected` (data channel
// closed or errored, pc `failed`, or `disconnected` for longer than options.disconnect_grace_ms) goes to
// `reconnecting`: a fresh key and a new pc after a backoff (reconnect.ts), up to options.reconnect.max_attempts,
// then `failed` with the loss's code. Failures that retrying cannot fix (FINAL) stop reconnecting at once.
// disconnect() → `closed`, never reconnects. Every step is a timeline item, so each state is observable.
//
// Start-up: asks the kernel for `history` (a page reload) and emits those items as `event`/`stats` (then
// `historyRestored`), placing them first in recentEvents/recentStats; they are not sent back to the kernel.
// Measures the clock offset with `clock` at start and after every connect (timeline `clock_offset`).
import type { Experimental } from "@anywidget/types";
import type {
  Controller,
  ControllerEvents,
  ErrorCode,
  EventItem,
  KernelCommand,
  MicOff,
  RealtimeEvent,
  StatsItem,
  Status,
  TimelineItem,
  TimelineWhat,
  ToolStatusMessage,
  WidgetError,
  WireItem,
} from "../types";
import { CasePlayer, parsePlayMessage, type PlayState } from "../audio/casePlayer";
import { now } from "./clock";
import { CommandInvoker } from "./commands";
import type { AttemptKey, ReadyKey } from "./attemptKey";
import type { ConnectionHooks } from "./connection";
import { Emitter } from "./emitter";
import { Aborted, ConnectFailure } from "./errors";
import { userText, type Parsed } from "./events";
import { randomId } from "./ids";
import { KernelClient } from "./kernel";
import { PrewarmedKey } from "./keyPrewarm";
import { micConstraints } from "./microphone";
import { PeerPreparer } from "./preparedPeer";
import { PressedMicrophone } from "./pressedMicrophone";
import { VoiceLatencyDetector } from "./latency";
import { reconnectDelay } from "./reconnect";
import { parseAck, parseCallsUrl, parseCommand, parseOptions, parseSettings } from "./traits";
import { createTransport, TransportReport, type Transport } from "./transport";
import { BatchSender } from "./wire";
import { Recording } from "../recording/recording";

/** The parts of an anywidget model the controller uses (an `AnyModel` fits; so does a test fake). */
export interface ControllerModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  /** `buffers` travel as binary frames (anywidget's third argument), never as JSON. */
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: string, callback: (msg: unknown) => void): void;
  off(event?: string | null, callback?: ((msg: unknown) => void) | null): void;
}

/** Extra events beyond `ControllerEvents`; listening is optional. */
export interface ControllerExtraEvents {
  /** History from the kernel (a page reload) was emitted as `event`/`stats` and is in `recentEvents`. */
  historyRestored: (items: readonly WireItem[]) => void;
}

type AllEvents = ControllerEvents & ControllerExtraEvents;

// The unit tests run in Node, whose globalThis is not a Window and has no page events.
const page: Partial<Pick<Window, "addEventListener" | "removeEventListener">> = globalThis;

export const RECENT_EVENTS_LIMIT = 2000;
export const RECENT_STATS_LIMIT = 600;
const TOOL_CALLS_LIMIT = 500;

/**
 * A connect usually finishes within this. Until then the kernel is not told it started (the `minting` and
 * `connecting` statuses, timed batches): each message wakes the Jupyter server and the kernel, which on a small
 * machine take the CPU from the browser and the server answering the offer. A longer connect is reported then.
 */
export const QUIET_CONNECT_MS = 250;

const LIVE: ReadonlySet<Status> = new Set(["minting", "connecting", "connected", "reconnecting"]);

/** Failures that a new attempt cannot fix: reconnecting stops at once. */
const FINAL: ReadonlySet<ErrorCode> = new Set([
  "bad_key",
  "no_access",
  "mic_denied",
  "mic_missing",
  "sdp_rejected",
  "audio_blocked",
]);

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

export class RealtimeController implements Controller {
  readonly client = randomId();
  private readonly emitter = new Emitter<AllEvents>();
  private readonly batch: BatchSender;
  private readonly kernel: KernelClient;
  /** A key the kernel pushed ahead of time, so a click needs no kernel round trip before the offer. */
  private readonly prewarmed: PrewarmedKey;
  /** A peer connection with its offer made ahead of the click, for the same reason. */
  private readonly peers = new PeerPreparer();
  private readonly pressedMic = new PressedMicrophone();
  private readonly events: EventItem[] = [];
  private readonly statsItems: StatsItem[] = [];
  private readonly tools = new Map<string, ToolStatusMessage>();
  /** Response id → the Agents SDK agent that gave it, as the kernel says (bounded like the tool calls). */
  private readonly agents = new Map<string, string>();
  private connection: Transport | null = null;
  /** Both sides' audio for the kernel, with RealtimeWidget(record_audio=True); null when recording is off. */
  private readonly recorder: Recording | null;
  private attemptCount = 0;
  /** A key the kernel sent with its connect command: used once, by the next attempt, instead of asking. */
  private keyFromKernel: AttemptKey | null = null;
  private reconnects = 0;
  private lossCause: ConnectFailure | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** A status write held back at the start of a connect (QUIET_CONNECT_MS). */
  private statusTimer: ReturnType<typeof setTimeout> | null = null;
  private wanted = false;
  private detector = new VoiceLatencyDetector();
  private _status: Status = "idle";
  private _error: WidgetError | null = null;
  private _connectedSince: number | null = null;
  private _muted: boolean;
  private _micOff: MicOff | null = null;
  private _talking = false;
  private disposed = false;
  /** The model's comm is gone (the kernel restarted or stopped): see `toKernel`. */
  private kernelGone = false;
  private readonly onCustom = (msg: unknown, buffers?: unknown): void => this.handleCustom(msg, buffers);
  /** widget.play(case): speech the kernel sends, spoken into the call through the connection's mixer. */
  private readonly player = new CasePlayer({
    mixer: () => this.connection?.mixer() ?? Promise.resolve(null),
    timeline: (what, detail) => {
      this.timeline(what, this.attemptCount, detail);
      this.batch.flush(); // the kernel waits on these
    },
    changed: (state) => this.emitter.emit("play", state),
    now,
  });
  private readonly onMutedChange = (): void => this.applyMuted(this.model.get("muted") === true, false);
  // A reload or closed tab ends the call; say so and send what is waiting while the comm may still carry it.
  private readonly onPageHide = (): void => {
    void this.disconnect();
    this.prewarmed.release();
    this.recorder?.pageHide();
  };

  constructor(
    private readonly model: ControllerModel,
    experimental: Experimental | undefined,
  ) {
    this.batch = new BatchSender(this.client, (message) => this.toKernel(() => model.send(message)));
    const commands = new CommandInvoker(experimental, model, (reason) => {
      // Once per page: this front end's `invoke` does not work (marimo's always throws), so commands go over
      // custom messages from now on; the timeline says so, for whoever wonders why.
      this.timeline("commands_over_custom_messages", this.attemptCount, { reason: reason.slice(0, 300) });
    });
    this.prewarmed = new PrewarmedKey(this.client, (message) => this.toKernel(() => model.send(message)));
    this.kernel = new KernelClient(commands, (busy) => {
      this.writeTrait("kernel_busy_hint", busy);
      this.emitter.emit("kernelWaiting", busy);
    });
    this._muted = model.get("muted") === true;
    this.recorder =
      model.get("record_audio") === true
        ? new Recording({
            instanceId: typeof model.get("instance_id") === "string" ? String(model.get("instance_id")) : "",
            client: this.client,
            send: (message, pcm) => this.toKernel(() => model.send(message, undefined, [pcm])),
            problem: (text) => this.emitter.emit("notice", { name: "notice", level: "warning", text }),
          })
        : null;
    model.on("msg:custom", this.onCustom);
    model.on("change:muted", this.onMutedChange);
    page.addEventListener?.("pagehide", this.onPageHide);
    // This page has no connection yet, whatever the trait says from an earlier page (a reload): a live status is
    // over; an ended one (closed, failed) still says how the last connection ended, as the kernel's trait does.
    const previous = model.get("status");
    if (previous === "closed" || previous === "failed") this._status = previous;
    else if (typeof previous === "string" && LIVE.has(previous as Status)) this.setStatus("closed");
    void this.restoreHistory();
    void this.measureClock();
  }

  get status(): Status {
    return this._status;
  }
  get error(): WidgetError | null {
    return this._error;
  }
  get connectedSince(): number | null {
    return this._connectedSince;
  }
  get muted(): boolean {
    return this._muted;
  }
  get micOff(): MicOff | null {
    return this._micOff;
  }
  get talking(): boolean {
    return this._talking;
  }
  get recording(): boolean {
    return this.recorder?.isActive === true;
  }
  get recentEvents(): readonly EventItem[] {
    return this.events;
  }
  get recentStats(): readonly StatsItem[] {
    return this.statsItems;
  }
  get toolCalls(): ReadonlyMap<string, ToolStatusMessage> {
    return this.tools;
  }
  get responseAgents(): ReadonlyMap<string, string> {
    return this.agents;
  }
  get playState(): PlayState | null {
    return this.player.state;
  }

  stopPlay(): void {
    this.player.stop();
  }

  on<K extends keyof AllEvents>(name: K, listener: AllEvents[K]): () => void {
    return this.emitter.on(name, listener);
  }

  /** Resolves when the first attempt has connected or failed (see `status`/`error`); never rejects. */
  async connect(): Promise<void> {
    if (this.disposed || (this.wanted && LIVE.has(this._status))) return;
    if (this.kernelGone) {
      this.kernelLost(); // no kernel to mint a key or keep the record: say so again rather than try
      return;
    }
    this.wanted = true;
    this.reconnects = 0;
    this.lossCause = null;
    this.setError(null);
    await this.attempt(false);
  }

  async disconnect(): Promise<void> {
    const wasActive = this.wanted || this.connection !== null || LIVE.has(this._status);
    this.wanted = false;
    this.clearReconnect();
    this.connection?.close();
    this.connection = null;
    this.player.connectionEnded();
    this.stopRecording();
    this._connectedSince = null;
    this.setTalking(false);
    if (wasActive) {
      this.timeline("closed", this.attemptCount, { by: "user" });
      this.setStatus("closed");
    }
    this.batch.flush();
    return Promise.resolve();
  }

  setMuted(muted: boolean): void {
    this.applyMuted(muted, true);
  }

  sendEvent(event: RealtimeEvent): boolean {
    const connection = this.connection;
    if (connection === null || !connection.isOpen) return false;
    return connection.send(event) !== null;
  }

  sendText(text: string): boolean {
    if (text.trim() === "") return false;
    return this.sendEvent(userText(text)) && this.sendEvent({ type: "response.create" });
  }

  interrupt(): void {
    if (this.connection?.isOpen === true) this.connection.interrupt();
  }

  pushToTalk(pressed: boolean): void {
    const connection = this.connection;
    if (connection === null || !connection.isOpen) {
      this.setTalking(false);
      return;
    }
    connection.pushToTalk(pressed);
    this.setTalking(pressed);
  }

  async listMicrophones(): Promise<MediaDeviceInfo[]> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.filter((d) => d.kind === "audioinput");
  }

  async enableAudio(): Promise<void> {
    if (this.connection === null) {
      this.emitter.emit("autoplayBlocked", false);
      return;
    }
    await this.connection.enableAudio();
    await this.recorder?.resume();
  }

  /** Connect is being pressed (pointer down, or Space down): the microphone opens now, so that it is ready by the
   * click (pressedMicrophone.ts). Does nothing while a call is live or without a microphone. */
  pressConnect(): void {
    if (this.disposed || this.kernelGone || (this.wanted && LIVE.has(this._status))) return;
    if (this.model.get("microphone") === false) return;
    this.pressedMic.press(micConstraints(parseOptions(this.model.get("options"))));
  }

  /** Gets the next connect ready (a view was displayed, or an attempt ended): the kernel pushes a key ahead of
   * the click, and a peer connection with its offer waits, so a click starts with the POST of the offer. */
  prepare(): void {
    if (this.disposed || this.kernelGone) return;
    this.prewarmed.want();
    const options = parseOptions(this.model.get("options"));
    // Only WebRTC has anything to prepare; a WebSocket attempt opens its socket with the key in hand.
    if (options.transport !== "websocket") this.peers.prepare(options.ice_servers, this.model.get("microphone") !== false);
  }

  /** Hangs up and stops listening to the model; for the widget's cleanup. */
  dispose(): void {
    if (this.disposed) return;
    void this.disconnect();
    this.disposed = true;
    if (this.statusTimer !== null) clearTimeout(this.statusTimer);
    if (!this.kernelGone) this.prewarmed.release();
    this.peers.discard();
    this.pressedMic.release();
    this.batch.dispose();
    this.recorder?.dispose();
    this.model.off("msg:custom", this.onCustom);
    this.model.off("change:muted", this.onMutedChange);
    page.removeEventListener?.("pagehide", this.onPageHide);
    this.emitter.clear();
  }

  // ---- attempts and reconnects ----

  private async attempt(isReconnect: boolean): Promise<void> {
    const attempt = ++this.attemptCount;
    this.detector = new VoiceLatencyDetector();
    if (isReconnect) this.setStatus("reconnecting");
    const options = parseOptions(this.model.get("options"));
    const microphone = this.model.get("microphone") !== false;
    this.batch.quietUntil(Date.now() + QUIET_CONNECT_MS);
    const connection = createTransport(
      {
        attempt,
        callsUrl: parseCallsUrl(this.model.get("calls_url")),
        settings: parseSettings(this.model.get("settings")),
        options,
        muted: this._muted,
        microphone,
        readyKey: () => this.takeReadyKey(),
        mintKey: (n, signal) => this.kernel.mintKey(n, signal),
        preparedPeer: () => this.peers.take(options.ice_servers, microphone),
        pressedMic: (constraints) => this.pressedMic.take(constraints),
      },
      this.hooksFor(attempt, isReconnect),
    );
    this.connection = connection;
    try {
      await connection.open();
    } catch (error) {
      this.batch.quietUntil(0);
      this.prepare(); // the next attempt's key, asked for once this one no longer competes for the CPU
      if (this.connection !== connection || error instanceof Aborted) return;
      this.connection = null;
      this.stopRecording();
      const failure = error instanceof ConnectFailure ? error : new ConnectFailure("unknown", String(error));
      if (isReconnect && !FINAL.has(failure.code)) this.scheduleReconnect(failure);
      else this.fail(failure, attempt);
      return;
    }
    this.batch.quietUntil(0);
    this.prepare();
    if (this.connection !== connection) return;
    this.reconnects = 0;
    this.lossCause = null;
    this._connectedSince = now();
    this.setError(null);
    this.setStatus("connected");
    void this.measureClock();
  }

  private hooksFor(attempt: number, isReconnect: boolean): ConnectionHooks {
    const current = (): boolean => this.connection !== null && this.attemptCount === attempt;
    const report = new TransportReport();
    return {
      phase: (phase) => {
        if (!isReconnect && current()) this.setStatus(phase);
      },
      timeline: (what, detail) => {
        this.timeline(what, attempt, detail ?? {});
        const notice = report.observe(what, detail ?? {});
        if (notice !== null) this.emitter.emit("notice", notice);
      },
      message: (dir, parsed) => this.recordMessage(dir, parsed),
      stats: (item) => this.recordStats(item),
      levels: (t, levels, emit) => {
        const latency = this.detector.sample(t, levels.input, levels.output);
        if (latency !== null) {
          this.batch.push(latency);
          this.emitter.emit("voiceLatency", latency);
        }
        if (emit) this.emitter.emit("levels", levels);
      },
      autoplayBlocked: (blocked) => this.emitter.emit("autoplayBlocked", blocked),
      recordSide: (side, source) => {
        if (this.recorder === null || !current()) return;
        this.recorder.attach(side, source);
        this.emitter.emit("recording", true);
      },
      micOff: (off) => {
        if (!current()) return;
        this._micOff = off;
        this.emitter.emit("micOff", off);
      },
      lost: (failure) => {
        if (!current()) return;
        this.onLost(failure, attempt);
      },
    };
  }

  private onLost(failure: ConnectFailure, attempt: number): void {
    this.connection = null;
    this.player.connectionEnded();
    this.stopRecording();
    this._connectedSince = null;
    this.setTalking(false);
    this.timeline("disconnected", attempt, { code: failure.code, message: failure.detail ?? "" });
    if (!this.wanted) {
      this.setStatus("closed");
      return;
    }
    this.lossCause = failure;
    this.scheduleReconnect(failure);
  }

  private scheduleReconnect(last: ConnectFailure): void {
    const policy = parseOptions(this.model.get("options")).reconnect;
    this.reconnects++;
    const delay = reconnectDelay(policy, this.reconnects);
    if (delay === null) {
      const cause = this.lossCause ?? last;
      const tries = this.reconnects - 1;
      const detail = `Gave up after ${tries} reconnect attempt${tries === 1 ? "" : "s"}; last: ${last.detail ?? last.code}`;
      this.fail(new ConnectFailure(cause.code, detail), this.attemptCount);
      return;
    }
    this.setStatus("reconnecting");
    this.timeline("reconnect_scheduled", this.attemptCount + 1, {
      delay_ms: delay,
      reconnect: this.reconnects,
      code: last.code,
    });
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.wanted) void this.attempt(true);
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private fail(failure: ConnectFailure, attempt: number): void {
    this.wanted = false;
    this.clearReconnect();
    this._connectedSince = null;
    const error = failure.toWidgetError();
    this.timeline("failed", attempt, { code: error.code, message: error.message, hint: error.hint });
    this.setError(error);
    this.setStatus("failed");
    this.batch.flush();
  }

  // ---- what goes to the kernel and the views ----

  private timeline(what: TimelineWhat, attempt: number, detail: Record<string, unknown>): void {
    const item: TimelineItem = { k: "timeline", t: now(), what, attempt, detail };
    this.batch.push(item);
    this.emitter.emit("timeline", item);
  }

  private recordMessage(dir: "client" | "server", parsed: Parsed): void {
    const item: EventItem = parsed.ok
      ? { k: "event", t: now(), dir, event: parsed.event }
      : { k: "event", t: now(), dir, event: null, raw: parsed.raw };
    this.batch.push(item);
    pushBounded(this.events, item, RECENT_EVENTS_LIMIT);
    this.emitter.emit("event", item);
  }

  private recordStats(item: StatsItem): void {
    this.batch.push(item);
    pushBounded(this.statsItems, item, RECENT_STATS_LIMIT);
    this.emitter.emit("stats", item);
  }

  private setStatus(status: Status): void {
    if (this._status === status && this.model.get("status") === status) return;
    this._status = status;
    this.writeStatusSoon(status);
    this.emitter.emit("status", status);
    // The meters stop with the connection; leave them at rest rather than at the last level.
    if (status !== "connected") this.emitter.emit("levels", { input: 0, output: 0 });
  }

  /** Writes the status trait: at once, except a start of a connect (QUIET_CONNECT_MS). */
  private writeStatusSoon(status: Status): void {
    if (this.statusTimer !== null) clearTimeout(this.statusTimer);
    this.statusTimer = null;
    if (status !== "minting" && status !== "connecting") {
      this.writeTrait("status", status);
      return;
    }
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.writeTrait("status", this._status);
    }, QUIET_CONNECT_MS);
  }

  private setError(error: WidgetError | null): void {
    if (error === null && this._error === null) return;
    this._error = error;
    this.writeTrait("error", error ?? {});
    this.emitter.emit("error", error);
  }

  /** The connection's tracks are gone: its partial chunks go to the kernel now. */
  private stopRecording(): void {
    if (this.recorder?.isActive !== true) return;
    this.recorder.stop();
    this.emitter.emit("recording", false);
  }

  private setTalking(talking: boolean): void {
    this._talking = talking;
  }

  private applyMuted(muted: boolean, write: boolean): void {
    const changed = muted !== this._muted;
    this._muted = muted;
    this.connection?.setMuted(muted);
    if (write && this.model.get("muted") !== muted) this.writeTrait("muted", muted);
    if (changed) this.emitter.emit("status", this._status);
  }

  private writeTrait(name: string, value: unknown): void {
    if (this.disposed || this.kernelGone) return;
    try {
      this.toKernel(() => {
        this.model.set(name, value);
        this.model.save_changes();
      });
    } catch {
      // The kernel is gone (kernelLost has ended the call); the page still shows the state.
    }
  }

  /** Runs a send to the kernel. JupyterLab refuses every send once the model's comm is disposed (a kernel restart
   * or shutdown: "Cannot send"), for good; then nothing this page records has anywhere to go, and no tool can
   * run, so the call is ended rather than left talking to no one. Rethrows, so callers keep their own handling. */
  private toKernel(send: () => void): void {
    try {
      send();
    } catch (error) {
      if (!this.kernelGone && String(error).includes("Cannot send")) this.kernelLost();
      throw error;
    }
  }

  private kernelLost(): void {
    this.kernelGone = true;
    this.wanted = false;
    this.clearReconnect();
    this.connection?.close();
    this.connection = null;
    this.stopRecording();
    this._connectedSince = null;
    this.setTalking(false);
    const error = new ConnectFailure("kernel_lost").toWidgetError();
    this._error = error;
    this._status = "failed";
    this.emitter.emit("error", error);
    this.emitter.emit("status", "failed");
    this.emitter.emit("levels", { input: 0, output: 0 });
  }

  // ---- kernel ----

  private handleCustom(msg: unknown, buffers: unknown): void {
    if (this.prewarmed.accept(msg)) return;
    if (this.recorder?.takeAck(msg) === true) return;
    const ack = parseAck(msg);
    if (ack !== null) {
      if (ack.client === this.client) this.batch.ack(ack.seq);
      return;
    }
    const play = parsePlayMessage(msg);
    if (play !== null) {
      this.player.handle(play, buffers);
      return;
    }
    const command = parseCommand(msg);
    if (command !== null) this.runCommand(command);
  }

  /** A key in hand for the next attempt, used once: the one sent with the kernel's connect, else the pre-warmed
   * one; null when neither is ready and the attempt must ask the kernel. */
  private takeReadyKey(): ReadyKey | null {
    const fromKernel = this.keyFromKernel;
    this.keyFromKernel = null;
    if (fromKernel !== null) return { ...fromKernel, source: "connect_command" };
    const prewarmed = this.prewarmed.take();
    return prewarmed === null ? null : { ...prewarmed, source: "prewarmed" };
  }

  private runCommand(command: KernelCommand): void {
    switch (command.name) {
      case "connect":
        // A kernel busy running the cell that asked cannot answer a key request, so the key comes along.
        this.keyFromKernel = command.key ?? null;
        void this.connect();
        break;
      case "disconnect":
        void this.disconnect();
        break;
      case "send":
        if (!this.sendEvent(command.event)) {
          this.emitter.emit("notice", {
            name: "notice",
            level: "warning",
            text: `Not connected: '${command.event.type}' from the kernel was not sent.`,
          });
        }
        break;
      case "interrupt":
        this.interrupt();
        break;
      case "tool_status":
        this.tools.delete(command.call_id);
        this.tools.set(command.call_id, command);
        if (this.tools.size > TOOL_CALLS_LIMIT) {
          const oldest = this.tools.keys().next();
          if (oldest.done !== true) this.tools.delete(oldest.value);
        }
        this.emitter.emit("tool", command);
        break;
      case "notice":
        this.emitter.emit("notice", command);
        break;
      case "agent":
        this.agents.set(command.response_id, command.agent);
        if (this.agents.size > TOOL_CALLS_LIMIT) {
          const oldest = this.agents.keys().next();
          if (oldest.done !== true) this.agents.delete(oldest.value);
        }
        this.emitter.emit("agent", command);
        break;
    }
  }

  private async restoreHistory(): Promise<void> {
    let items: WireItem[];
    try {
      items = (await this.kernel.history()).items;
    } catch (error) {
      console.warn("realtime-widget: could not restore history", error);
      return;
    }
    if (items.length === 0 || this.disposed) return;
    const restoredEvents: EventItem[] = [];
    for (const item of items) {
      if (item.k === "event") {
        restoredEvents.push(item);
        this.emitter.emit("event", item);
      } else if (item.k === "stats") {
        this.statsItems.unshift(item);
        this.emitter.emit("stats", item);
      }
    }
    // Restored history goes before anything this page has seen already.
    this.events.unshift(...restoredEvents);
    if (this.events.length > RECENT_EVENTS_LIMIT) this.events.splice(0, this.events.length - RECENT_EVENTS_LIMIT);
    if (this.statsItems.length > RECENT_STATS_LIMIT) this.statsItems.splice(0, this.statsItems.length - RECENT_STATS_LIMIT);
    this.emitter.emit("historyRestored", items);
  }

  private async measureClock(): Promise<void> {
    try {
      const sample = await this.kernel.clock();
      if (sample !== null) this.timeline("clock_offset", this.attemptCount, { ...sample });
    } catch {
      // An old kernel without the command, or a busy one: the offset is optional.
    }
  }
}

export function createController(model: ControllerModel, experimental: Experimental | undefined): RealtimeController {
  return new RealtimeController(model, experimental);
}
