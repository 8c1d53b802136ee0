// One connection attempt over the Realtime WebSocket, for pages where WebRTC cannot run or cannot get through.
// The browser form of the API's authentication: the ephemeral key in the subprotocol list, as
// ["realtime", "openai-insecure-api-key.<key>"] (openai-agents-js, agents-realtime/src/openaiRealtimeWebsocket.ts).
// Here the client owns the audio: the mic is captured by an AudioWorklet as PCM16 24 kHz and sent as
// `input_audio_buffer.append`; `response.output_audio.delta` is played gap-free from a worklet queue; on a
// barge-in (`input_audio_buffer.speech_started`) the client flushes the queue and truncates the item at what was
// actually played (`conversation.item.truncate`), which over WebRTC the server does itself.
//
// Audio events (appends and deltas) are counted in the stats but not recorded as events: over WebRTC the same
// audio travels as RTP and is not in the record either, so both transports give the same record.
import type { AttemptConfig, ConnectionHooks } from "./connection";
import { SESSION_UPDATE_TIMEOUT_MS } from "./connection";
import { keyForAttempt } from "./attemptKey";
import { openMicrophone } from "./microphone";
import { MicMixer } from "../audio/micMixer";
import type { Levels, RealtimeEvent, StatsItem } from "../types";
import { now } from "./clock";
import { Aborted, ConnectFailure } from "./errors";
import { parseMessage, sessionUpdate, withEventId } from "./events";
import { LevelMonitor } from "./levels";
import { base64ToBytes, bytesToBase64, floatToPcm16, pcm16ToFloat, PCM_RATE, PlaybackLedger } from "./pcm";
import { ResponseSequencer } from "./responses";
import { candidateRoutes, pageEnvironment, proxiablePort, type PageEnvironment, type Route } from "./routes";
import { diagnoseRoute } from "./routeProbe";
import { CAPTURE_PROCESSOR, loadWorklets, PLAYBACK_PROCESSOR } from "./worklets";

/** How long one route may take to open and greet with `session.created` before the next is tried. A refused or
 * blocked route fails at once; this bounds a route that hangs. */
export const ROUTE_TIMEOUT_MS = 4000;
const PCM_FORMAT = { type: "audio/pcm", rate: PCM_RATE };

type State = "new" | "opening" | "open" | "closed";

interface RouteWaiter {
  resolve: () => void;
  reject: (failure: ConnectFailure) => void;
}

export class WebSocketConnection {
  private state: State = "new";
  private readonly abort = new AbortController();
  private ws: WebSocket | null = null;
  private mic: MediaStream | null = null;
  private context: AudioContext | null = null;
  private capture: AudioWorkletNode | null = null;
  /** The mic's node into the capture worklet, until the mixer takes the mic over. */
  private micSource: MediaStreamAudioSourceNode | null = null;
  private outMixer: MicMixer | null = null;
  private playback: AudioWorkletNode | null = null;
  private levels: LevelMonitor | null = null;
  private lastLevels: Levels = { input: 0, output: 0 };
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private rejectOpening: ((failure: ConnectFailure) => void) | null = null;
  private routeWaiter: RouteWaiter | null = null;
  private sessionWaiter: RouteWaiter | null = null;
  private sessionUpdateId: string | null = null;
  private readonly ledger = new PlaybackLedger();
  private played = 0;
  private flushing = false;
  /** Deltas that arrived while a flush was on its way to the player; queued once it is done. */
  private held: { itemId: string; contentIndex: number; samples: Float32Array<ArrayBuffer> }[] = [];
  /** Responses cut by a barge-in or interrupt: their late deltas are not played. */
  private readonly cut = new Set<string>();
  /** The response whose audio was queued last: the one a barge-in cuts. */
  private playingResponse: string | null = null;
  private firstAudio = false;
  private responseActive = false;
  private readonly responses = new ResponseSequencer((event) => {
    this.sendNow(event);
  });
  private talking = false;
  private muted: boolean;
  private bytesIn = 0;
  private bytesOut = 0;
  private lastSample: { t: number; bytesIn: number; bytesOut: number } | null = null;
  route: Route | null = null;
  /** No call over WebSocket: nothing for the kernel to hang up; closing the socket ends the session. */
  readonly callId: string | null = null;
  private sessionId: string | null = null;

  constructor(
    private readonly config: AttemptConfig,
    private readonly hooks: ConnectionHooks,
    private readonly page: PageEnvironment = pageEnvironment(),
  ) {
    this.muted = config.muted;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  async open(): Promise<void> {
    if (this.state !== "new") throw new Error("WebSocketConnection.open() called twice");
    this.state = "opening";
    const fatal = new Promise<never>((_, reject) => {
      this.rejectOpening = reject;
    });
    fatal.catch(() => undefined);
    try {
      await Promise.race([this.run(), fatal]);
      this.checkAborted();
      this.state = "open";
      this.rejectOpening = null;
    } catch (error) {
      const aborted = this.abort.signal.aborted;
      this.close();
      if (aborted || error instanceof Aborted) throw new Aborted();
      if (error instanceof ConnectFailure) throw error;
      throw new ConnectFailure("unknown", error instanceof Error ? error.message : String(error));
    }
  }

  private checkAborted(): void {
    if (this.abort.signal.aborted || this.state === "closed") throw new Aborted();
  }

  private async run(): Promise<void> {
    this.hooks.timeline("connect_requested", { transport: "websocket" });
    if (this.config.callsUrl === "") {
      throw new ConnectFailure("unknown", "The kernel has not set calls_url, so there is nowhere to connect.");
    }
    // Over the WebSocket the settings always go in a session.update, which also sets this client's PCM format.
    const { value: key } = await keyForAttempt(this.config, this.hooks, this.abort.signal);
    this.checkAborted();

    const stream = await this.openMic();
    await this.startAudio(stream);
    await this.openSocket(key);
    await this.updateSession();
    this.startStats();
    this.hooks.timeline("connected", { session_id: this.sessionId, transport: "websocket", route: this.route?.name });
  }

  /** The microphone, or null: this attempt goes on receive-only (the timeline and the hook say why). */
  private async openMic(): Promise<MediaStream | null> {
    const mic = await openMicrophone(this.config, this.hooks, () => this.state === "closed");
    if (mic === null) return null;
    this.mic = mic.stream; // a device unplugged mid-call: receive-only from then on (openMicrophone watches it)
    this.applyTrackEnabled();
    return mic.stream;
  }

  /** One AudioContext at the API's rate (the browser resamples the mic into it), with both worklets; without a
   * microphone (receive-only) only the playback worklet runs. */
  private async startAudio(stream: MediaStream | null): Promise<void> {
    const context = new AudioContext({ sampleRate: PCM_RATE });
    this.context = context;
    await loadWorklets(context);
    this.checkAborted();

    if (stream !== null) {
      this.micSource = context.createMediaStreamSource(stream);
      this.startCapture(context, this.micSource);
    }
    // What the capture worklet reads, as a track: the mic's, or the mixer's once something was played.
    this.hooks.recordSide?.("user", () => this.outgoingTrack);

    const playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
    });
    playback.port.onmessage = (e: MessageEvent<{ type: string; played: number }>) => this.onPlayer(e.data);
    playback.connect(context.destination);
    const remote = context.createMediaStreamDestination();
    playback.connect(remote);
    this.playback = playback;
    // The reply as played: the worklet queue's output, flushes and all.
    this.hooks.recordSide?.("assistant", () => remote.stream.getAudioTracks()[0] ?? null);

    this.levels = new LevelMonitor((t, levels, emit) => this.onLevels(t, levels, emit), now);
    if (stream !== null) this.levels.setMic(stream);
    this.levels.setRemote(remote.stream);
    await context.resume().catch(() => undefined);
    if (context.state !== "running" && this.state !== "closed") {
      this.hooks.timeline("autoplay_blocked");
      this.hooks.autoplayBlocked(true);
    }
  }

  /** Tries each route in turn until one greets with `session.created`; says which, and why the others failed. */
  private async openSocket(key: string): Promise<void> {
    const port = proxiablePort(this.config.callsUrl, this.config.options.local_server_port);
    const routes = await candidateRoutes(this.config.callsUrl, port, this.page);
    const failures: string[] = [];
    for (const route of routes) {
      this.checkAborted();
      const started = now();
      try {
        await this.tryRoute(route, key);
        this.route = route;
        this.hooks.timeline("ws_open", { route: route.name, ms: Math.round(now() - started) });
        return;
      } catch (error) {
        if (error instanceof Aborted || this.abort.signal.aborted) throw new Aborted();
        const failure = error instanceof ConnectFailure ? error : new ConnectFailure("network", String(error));
        // A refusal of the key or the session is the server's answer: another route would get the same.
        if (failure.code !== "network") throw failure;
        const why = await diagnoseRoute(route.url, key, this.abort.signal);
        const detail = `${route.name}: ${why ?? failure.detail ?? "unreachable"}`;
        failures.push(detail);
        this.hooks.timeline("route_tried", { route: route.name, ok: false, reason: why ?? failure.detail ?? "" });
      }
    }
    const detail = failures.join("; ");
    const local = port !== null;
    if (local && routes.length === 1) throw new ConnectFailure("unreachable", `(${detail}; no Jupyter proxy found)`);
    throw new ConnectFailure(local ? "unreachable" : "network", `(${detail})`);
  }

  private tryRoute(route: Route, key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (failure: ConnectFailure | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.routeWaiter = null;
        if (failure === null) {
          resolve();
          return;
        }
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        ws.close();
        if (this.ws === ws) this.ws = null;
        reject(failure);
      };
      const ws = new WebSocket(route.url, ["realtime", `openai-insecure-api-key.${key}`]);
      this.ws = ws;
      const timer = setTimeout(
        () => settle(new ConnectFailure("network", `no answer within ${ROUTE_TIMEOUT_MS / 1000} s`)),
        ROUTE_TIMEOUT_MS,
      );
      this.routeWaiter = { resolve: () => settle(null), reject: (f) => settle(f) };
      ws.onmessage = (e: MessageEvent<unknown>) => this.onMessage(e.data);
      ws.onerror = () => undefined; // the close event that follows says more
      ws.onclose = (e: CloseEvent) => {
        if (!settled) {
          // A proxy may accept the browser's handshake and then fail to reach the server: still unreachable.
          settle(new ConnectFailure("network", closeText(e)));
          return;
        }
        this.fail(new ConnectFailure("channel_closed", `The WebSocket closed ${closeText(e)}.`));
      };
      this.abort.signal.addEventListener("abort", () => settle(new ConnectFailure("network", "aborted")));
    });
  }

  private async updateSession(): Promise<void> {
    const confirmed = new Promise<boolean>((resolve, reject) => {
      this.sessionWaiter = { resolve: () => resolve(true), reject };
    });
    const update = sessionUpdate(this.config.settings);
    const session = update["session"] as { audio: { input: object; output: object } };
    // This client sends and plays the API's PCM16 at 24 kHz; say so, whatever the key was minted with.
    session.audio.input = { ...session.audio.input, format: PCM_FORMAT };
    session.audio.output = { ...session.audio.output, format: PCM_FORMAT };
    const sent = this.send(update);
    this.sessionUpdateId = sent?.event_id ?? null;
    this.hooks.timeline("session_update_sent", { event_id: this.sessionUpdateId });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SESSION_UPDATE_TIMEOUT_MS);
    });
    try {
      const ok = await Promise.race([confirmed, gaveUp]);
      this.checkAborted();
      if (ok) this.hooks.timeline("session_updated");
      else this.hooks.timeline("session_update_unconfirmed", { waited_ms: SESSION_UPDATE_TIMEOUT_MS });
    } finally {
      clearTimeout(timer);
      this.sessionWaiter = null;
    }
  }

  // ---- events ----

  private onMessage(data: unknown): void {
    if (this.state === "closed") return;
    const text = typeof data === "string" ? data : String(data);
    this.bytesIn += text.length;
    const parsed = parseMessage(text);
    if (parsed.ok && parsed.event.type === "response.output_audio.delta") {
      this.onAudioDelta(parsed.event);
      return;
    }
    this.hooks.message("server", parsed);
    if (!parsed.ok) return;
    const event = parsed.event;
    this.responses.onServerEvent(event);
    switch (event.type) {
      case "session.created":
        this.sessionId = sessionId(event["session"]);
        this.routeWaiter?.resolve();
        break;
      case "session.updated":
        this.sessionWaiter?.resolve();
        break;
      case "response.created":
        this.responseActive = true;
        break;
      case "response.done":
        this.responseActive = false;
        break;
      case "input_audio_buffer.speech_started":
        this.flushPlayback();
        break;
      case "error":
        this.onError(event);
        break;
    }
  }

  private onError(event: RealtimeEvent): void {
    const error = event["error"] as { event_id?: unknown; message?: unknown; code?: unknown } | undefined;
    const message = typeof error?.message === "string" ? error.message : "The server refused the connection.";
    if (this.routeWaiter !== null) {
      // An error before `session.created` is the server refusing this connection (a bad key, say).
      const code = error?.code === "invalid_api_key" ? "bad_key" : "sdp_rejected";
      this.routeWaiter.reject(new ConnectFailure(code, message));
      return;
    }
    if (this.sessionWaiter !== null && this.sessionUpdateId !== null && error?.event_id === this.sessionUpdateId) {
      this.sessionWaiter.reject(new ConnectFailure("session_update_rejected", message));
    }
  }

  private onAudioDelta(event: RealtimeEvent): void {
    const delta = typeof event["delta"] === "string" ? event["delta"] : "";
    const responseId = typeof event["response_id"] === "string" ? event["response_id"] : "";
    if (this.cut.has(responseId) || this.playback === null) return;
    this.playingResponse = responseId;
    const itemId = typeof event["item_id"] === "string" ? event["item_id"] : "";
    const contentIndex = typeof event["content_index"] === "number" ? event["content_index"] : 0;
    const samples = pcm16ToFloat(base64ToBytes(delta));
    if (this.flushing) this.held.push({ itemId, contentIndex, samples });
    else this.enqueue(itemId, contentIndex, samples);
  }

  private enqueue(itemId: string, contentIndex: number, samples: Float32Array<ArrayBuffer>): void {
    this.ledger.add(itemId, contentIndex, samples.length);
    this.playback?.port.postMessage({ type: "enqueue", samples }, [samples.buffer]);
  }

  private onPlayer(message: { type: string; played: number }): void {
    if (this.state === "closed") return;
    this.played = message.played;
    // The player's start and end of each stretch of sound are timeline items: over WebSocket only the browser
    // knows when a reply has been heard (widget.play waits for it; over WebRTC the server's
    // output_audio_buffer events say it).
    if (message.type === "started") {
      this.hooks.timeline("playback_started");
      if (!this.firstAudio) {
        this.firstAudio = true;
        this.hooks.timeline("first_audio", { source: "playback" });
      }
    } else if (message.type === "drained") {
      this.hooks.timeline("playback_drained");
      this.ledger.trim(this.played);
    } else if (message.type === "flushed") {
      this.flushing = false;
      const heard = this.ledger.flush(message.played);
      if (heard !== null && heard.itemId !== "") {
        this.send({
          type: "conversation.item.truncate",
          item_id: heard.itemId,
          content_index: heard.contentIndex,
          audio_end_ms: heard.audioEndMs,
        });
      }
      for (const { itemId, contentIndex, samples } of this.held.splice(0)) this.enqueue(itemId, contentIndex, samples);
    }
  }

  /** Barge-in or interrupt: stop what is playing now and tell the server how much was heard. */
  private flushPlayback(): void {
    if (this.playback === null || this.flushing || this.ledger.queuedSamples <= this.played) return;
    if (this.playingResponse !== null) this.cut.add(this.playingResponse);
    this.flushing = true;
    this.playback.port.postMessage({ type: "flush" });
  }


  /** The capture worklet, reading `input` (the mic, or the mixer's bus) and sending it as appends. */
  private startCapture(context: AudioContext, input: AudioNode): void {
    const capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 1 });
    capture.port.onmessage = (e: MessageEvent<Float32Array>) => this.onCaptured(e.data);
    const mute = context.createGain();
    mute.gain.value = 0; // the capture node must be pulled by the graph to run; it must not be heard
    input.connect(capture).connect(mute).connect(context.destination);
    this.capture = capture;
  }

  /** What the capture worklet reads now, as a track: the mic's, the mixer's once something was played, or null. */
  get outgoingTrack(): MediaStreamTrack | null {
    return this.outMixer?.track ?? this.mic?.getAudioTracks()[0] ?? null;
  }

  /**
   * The mixer of what this session sends, made on first use: from then on the capture worklet reads the mix of
   * the mic (if any) and the speech played into it (receive-only: the capture starts here). Null when not open.
   */
  mixer(): Promise<MicMixer | null> {
    const context = this.context;
    if (this.outMixer !== null || !this.isOpen || context === null) return Promise.resolve(this.outMixer);
    const mixer = new MicMixer(context);
    this.outMixer = mixer;
    this.micSource?.disconnect();
    this.micSource = null;
    mixer.setMic(this.mic);
    if (this.capture !== null) mixer.bus.connect(this.capture);
    else this.startCapture(context, mixer.bus);
    this.levels?.setMic(new MediaStream([mixer.track])); // voice latency then hears the played speech too
    this.hooks.outgoing?.(mixer.track);
    return Promise.resolve(mixer);
  }

  private onCaptured(samples: Float32Array): void {
    // Once speech has been played in, the mix goes out even while the mic is muted (muting then silences the
    // mic's track, as over WebRTC): the server must hear the silence after the speech to end the turn.
    if (!this.channelIsOpen() || !(this.sending() || this.outMixer !== null)) return;
    const event = withEventId({ type: "input_audio_buffer.append", audio: bytesToBase64(floatToPcm16(samples)) });
    const text = JSON.stringify(event);
    this.bytesOut += text.length;
    this.ws?.send(text);
  }

  private onLevels(t: number, levels: Levels, emit: boolean): void {
    if (this.state === "closed") return;
    this.lastLevels = levels;
    this.hooks.levels(t, levels, emit);
  }

  // ---- stats: what a WebSocket can measure (no RTT, jitter or loss; TCP hides them) ----

  private startStats(): void {
    this.statsTimer = setInterval(() => this.hooks.stats(this.sampleStats()), this.config.options.stats_interval_ms);
  }

  private sampleStats(): StatsItem {
    const t = now();
    const prev = this.lastSample;
    const seconds = prev === null ? 0 : (t - prev.t) / 1000;
    const rate = (bytes: number, before: number | undefined): number | null =>
      seconds > 0 && before !== undefined ? ((bytes - before) * 8) / 1000 / seconds : null;
    const item: StatsItem = {
      k: "stats",
      t,
      rtt_ms: null,
      jitter_ms: null,
      packets_received: null,
      packets_lost: null,
      bytes_received: this.bytesIn,
      bytes_sent: this.bytesOut,
      bitrate_in_kbps: rate(this.bytesIn, prev?.bytesIn),
      bitrate_out_kbps: rate(this.bytesOut, prev?.bytesOut),
      audio_level_in: this.lastLevels.output,
      audio_level_out: this.lastLevels.input,
      codec: "audio/pcm/24000",
    };
    this.lastSample = { t, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
    return item;
  }

  // ---- the controller's interface ----

  send(event: RealtimeEvent): RealtimeEvent | null {
    if (!this.channelIsOpen()) return null;
    const withId = withEventId(event);
    if (withId.type === "response.create") this.responses.request(withId);
    else this.sendNow(withId);
    return withId;
  }

  private sendNow(event: RealtimeEvent): void {
    if (!this.channelIsOpen() || this.ws === null) return;
    const text = JSON.stringify(event);
    this.bytesOut += text.length;
    this.ws.send(text);
    this.hooks.message("client", { ok: true, event });
  }

  private channelIsOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.state !== "closed";
  }

  /** Stops the assistant: cancel the response if one is running, then stop playback and truncate at what was
   * heard (over WebSocket there is no server-side output buffer to clear). */
  interrupt(): void {
    if (this.responseActive) {
      this.send({ type: "response.cancel" });
      this.responseActive = false;
    }
    this.flushPlayback();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.applyTrackEnabled();
  }

  pushToTalk(pressed: boolean): void {
    if (pressed === this.talking) return;
    if (pressed) {
      this.send({ type: "input_audio_buffer.clear" });
      this.talking = true;
      this.applyTrackEnabled();
    } else {
      this.talking = false;
      this.applyTrackEnabled();
      this.send({ type: "input_audio_buffer.commit" });
      this.send({ type: "response.create" });
    }
  }

  private sending(): boolean {
    const pttOnly = this.config.settings.turn_detection === "none";
    return this.talking || (!this.muted && !pttOnly);
  }

  private applyTrackEnabled(): void {
    const enabled = this.sending();
    for (const track of this.mic?.getAudioTracks() ?? []) track.enabled = enabled;
  }

  async enableAudio(): Promise<void> {
    await this.context?.resume();
    await this.levels?.resume();
    this.hooks.autoplayBlocked(false);
  }

  private fail(failure: ConnectFailure): void {
    if (this.state === "opening") {
      this.rejectOpening?.(failure);
      return;
    }
    if (this.state !== "open") return;
    this.close();
    this.hooks.lost(failure);
  }

  /** Tears down in a fixed order: stats, socket, mic tracks, worklets and their context. */
  close(): void {
    if (this.state === "closed") return;
    const wasOpening = this.state === "opening";
    this.state = "closed";
    this.abort.abort();
    if (wasOpening) this.rejectOpening?.(new ConnectFailure("unknown", "closed"));
    this.rejectOpening = null;
    this.sessionWaiter = null;
    this.routeWaiter = null;
    this.responses.reset();
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    if (this.ws !== null) {
      this.ws.onopen = this.ws.onmessage = this.ws.onclose = this.ws.onerror = null;
      this.ws.close();
      this.ws = null;
    }
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    this.mic = null;
    this.outMixer?.close();
    this.outMixer = null;
    this.micSource = null;
    if (this.capture !== null) this.capture.port.onmessage = null;
    if (this.playback !== null) this.playback.port.onmessage = null;
    this.capture = this.playback = null;
    this.levels?.close();
    this.levels = null;
    void this.context?.close().catch(() => undefined);
    this.context = null;
  }
}

function closeText(e: CloseEvent): string {
  return `(code ${e.code}${e.reason ? `: ${e.reason}` : ""})`;
}

function sessionId(session: unknown): string | null {
  const id = (session as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : null;
}
