// One connection attempt: owns the mic, the RTCPeerConnection, the "oai-events" channel, the remote audio element,
// stats sampling and level metering, from the ephemeral key to `session.updated`, and tears them down in one order.
import type { ConnectionOptions, Levels, MicOff, RealtimeEvent, Settings, StatsItem, TimelineWhat } from "../types";
import { now } from "./clock";
import { Aborted, ConnectFailure } from "./errors";
import { postOffer } from "./signaling";
import { parseMessage, sessionUpdate, withEventId, type Parsed } from "./events";
import { LevelMonitor } from "./levels";
import { openMicrophone } from "./microphone";
import { ResponseSequencer } from "./responses";
import { StatsSampler } from "./stats";
import type { AudioSide } from "../recording/chunker";

/** How long to wait for `session.updated` before going on without it (the Agents SDK waits as long, then warns). */
export const SESSION_UPDATE_TIMEOUT_MS = 5000;
/** ICE + DTLS + SCTP normally take well under a second; past this the path is blocked. */
export const CHANNEL_OPEN_TIMEOUT_MS = 15_000;
/** Remote level above which the assistant counts as audible for `first_audio`. */
const FIRST_AUDIO_LEVEL = 0.25;

export interface AttemptConfig {
  attempt: number;
  callsUrl: string;
  settings: Settings;
  options: ConnectionOptions;
  muted: boolean;
  /** False: do not ask for the microphone, connect receive-only (RealtimeWidget(microphone=False)). */
  microphone: boolean;
  /** Fetches a fresh ephemeral key from the kernel. */
  mintKey: (attempt: number, signal: AbortSignal) => Promise<string>;
}

export interface ConnectionHooks {
  phase(phase: "minting" | "connecting"): void;
  timeline(what: TimelineWhat, detail?: Record<string, unknown>): void;
  /** Every message that crossed the data channel, either way. */
  message(dir: "client" | "server", parsed: Parsed): void;
  stats(item: StatsItem): void;
  levels(t: number, levels: Levels, emit: boolean): void;
  autoplayBlocked(blocked: boolean): void;
  /** This attempt runs without a microphone (and why), or null: it has one. */
  micOff(off: MicOff | null): void;
  /** A side's audio to record, if recording is on: `source` gives the track of the moment (the sent track follows
   * `replaceTrack`; the assistant's is the audio as played). */
  recordSide?(side: AudioSide, source: () => MediaStreamTrack | null): void;
  /** The connection was open and is now gone; it has already been torn down. Called at most once. */
  lost(failure: ConnectFailure): void;
}

type State = "new" | "opening" | "open" | "closed";

interface Waiter {
  resolve: () => void;
  reject: (failure: ConnectFailure) => void;
}

/** Waits for `promise`, but fails with `failure()` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, failure: () => ConnectFailure): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failure()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}


export class Connection {
  private state: State = "new";
  private readonly abort = new AbortController();
  private pc: RTCPeerConnection | null = null;
  private dc: RTCDataChannel | null = null;
  private mic: MediaStream | null = null;
  private audio: HTMLAudioElement | null = null;
  private stats: StatsSampler | null = null;
  private levels: LevelMonitor | null = null;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  /** Fails the connect sequence from an event handler (channel closed, pc failed) while it is opening. */
  private rejectOpening: ((failure: ConnectFailure) => void) | null = null;
  private sessionWaiter: Waiter | null = null;
  private sessionUpdateId: string | null = null;
  private channelOpened: (() => void) | null = null;
  private firstAudio = false;
  private responseActive = false;
  private readonly responses = new ResponseSequencer((event) => {
    this.sendNow(event);
  });
  private talking = false;
  private muted: boolean;
  callId: string | null = null;

  constructor(
    private readonly config: AttemptConfig,
    private readonly hooks: ConnectionHooks,
  ) {
    this.muted = config.muted;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Runs the connect sequence; resolves once `session.updated` arrived. Rejects with ConnectFailure or Aborted. */
  async open(): Promise<void> {
    if (this.state !== "new") throw new Error("Connection.open() called twice");
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

  /** The connect sequence, stage by stage; each stage reports itself on the timeline, so a stuck one is visible. */
  private async run(): Promise<void> {
    this.hooks.timeline("connect_requested");
    if (this.config.callsUrl === "") {
      throw new ConnectFailure("unknown", "The kernel has not set calls_url, so there is nowhere to connect.");
    }
    const key = await this.mintKey();
    const mic = await this.openMic();
    this.levels = new LevelMonitor((t, levels, emit) => this.onLevels(t, levels, emit), now);
    if (mic !== null) this.levels.setMic(mic.stream);
    const pc = this.createPeerConnection();
    // Without a microphone the offer still asks for the assistant's audio: a recvonly audio transceiver.
    const sender = mic !== null ? pc.addTrack(mic.track, mic.stream) : null;
    if (mic === null) pc.addTransceiver("audio", { direction: "recvonly" });
    if (sender !== null) this.hooks.recordSide?.("user", () => sender.track);
    const channelOpen = this.createChannel(pc);
    await this.negotiate(pc, key);
    const bitrateApplied = sender !== null && (await this.applyMaxBitrate(sender));
    await this.waitForChannel(channelOpen);
    await this.updateSession();

    this.stats = new StatsSampler(() => pc.getStats(), (item) => this.hooks.stats(item), now);
    this.stats.start(this.config.options.stats_interval_ms);
    this.hooks.timeline("connected", { call_id: this.callId, max_bitrate_applied: bitrateApplied });
  }

  /** A fresh ephemeral key per attempt: a key is good for one call only. */
  private async mintKey(): Promise<string> {
    this.hooks.phase("minting");
    this.hooks.timeline("mint_start");
    const key = await this.config.mintKey(this.config.attempt, this.abort.signal);
    this.checkAborted();
    this.hooks.timeline("mint_end");
    this.hooks.phase("connecting");
    return key;
  }

  /** The microphone, or null when this attempt goes on without one (the timeline and the hook say why). */
  private async openMic(): Promise<{ stream: MediaStream; track: MediaStreamTrack } | null> {
    const mic = await openMicrophone(this.config, this.hooks, () => this.state === "closed");
    if (mic !== null) {
      this.mic = mic.stream;
      this.applyTrackEnabled();
    }
    return mic;
  }

  private createPeerConnection(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.config.options.ice_servers });
    this.pc = pc;
    pc.ontrack = (e) => this.onTrack(e);
    pc.oniceconnectionstatechange = () => this.hooks.timeline("ice_state", { state: pc.iceConnectionState });
    pc.onconnectionstatechange = () => this.onConnectionState(pc.connectionState);
    return pc;
  }

  /** Creates the "oai-events" channel before the offer, so that the offer negotiates it; resolves once it opens. */
  private createChannel(pc: RTCPeerConnection): Promise<void> {
    const dc = pc.createDataChannel("oai-events");
    this.dc = dc;
    const channelOpen = new Promise<void>((resolve) => {
      this.channelOpened = resolve;
    });
    dc.onopen = () => this.channelOpened?.();
    dc.onmessage = (e: MessageEvent<unknown>) => this.onMessage(e.data);
    dc.onclose = () => this.fail(new ConnectFailure("channel_closed", "The data channel closed."));
    dc.onerror = (e) => {
      const rtc = typeof RTCErrorEvent !== "undefined" && e instanceof RTCErrorEvent ? e.error : null;
      const detail = rtc === null ? "error" : `${rtc.errorDetail} ${rtc.message}`;
      this.fail(new ConnectFailure("channel_closed", `Data channel error: ${detail}`));
    };
    return channelOpen;
  }

  /** The SDP offer/answer exchange with the calls endpoint. */
  private async negotiate(pc: RTCPeerConnection, key: string): Promise<void> {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.checkAborted();
    const offerSdp = offer.sdp ?? "";
    this.hooks.timeline("offer_created", { sdp_bytes: offerSdp.length });

    // No waiting for ICE gathering: the offer goes out at once (the answer side learns us via prflx candidates).
    const answer = await postOffer(this.config.callsUrl, offerSdp, key, this.abort.signal);
    this.checkAborted();
    this.callId = answer.callId;
    this.hooks.timeline("answer_received", { call_id: answer.callId, status: answer.status });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    this.checkAborted();
  }

  private async waitForChannel(channelOpen: Promise<void>): Promise<void> {
    await within(
      channelOpen,
      CHANNEL_OPEN_TIMEOUT_MS,
      () => new ConnectFailure("ice_failed", `No connection within ${CHANNEL_OPEN_TIMEOUT_MS / 1000} s.`),
    );
    this.checkAborted();
    this.hooks.timeline("dc_open");
  }

  /**
   * Sends the settings and waits for `session.updated`. A refusal of this very update (an `error` naming its
   * event_id) fails the connection; silence does not: after SESSION_UPDATE_TIMEOUT_MS the connection goes on, as
   * the Agents SDK's WebRTC transport does, and the timeline says the settings were not confirmed. An `error`
   * without an event_id is recorded like every event and shown, but does not decide the connection.
   */
  private async updateSession(): Promise<void> {
    const sessionUpdated = new Promise<boolean>((resolve, reject) => {
      this.sessionWaiter = { resolve: () => resolve(true), reject };
    });
    const sent = this.send(sessionUpdate(this.config.settings));
    this.sessionUpdateId = sent?.event_id ?? null;
    this.hooks.timeline("session_update_sent", { event_id: this.sessionUpdateId });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SESSION_UPDATE_TIMEOUT_MS);
    });
    try {
      const confirmed = await Promise.race([sessionUpdated, gaveUp]);
      this.checkAborted();
      if (confirmed) this.hooks.timeline("session_updated");
      else this.hooks.timeline("session_update_unconfirmed", { waited_ms: SESSION_UPDATE_TIMEOUT_MS });
    } finally {
      clearTimeout(timer);
      this.sessionWaiter = null;
    }
  }

  private async applyMaxBitrate(sender: RTCRtpSender): Promise<boolean> {
    const kbps = this.config.options.max_bitrate_kbps;
    if (kbps === null) return false;
    try {
      const params = sender.getParameters();
      const first = params.encodings[0];
      if (first === undefined) return false;
      first.maxBitrate = Math.round(kbps * 1000);
      await sender.setParameters(params);
      return true;
    } catch {
      return false;
    }
  }

  private onTrack(e: RTCTrackEvent): void {
    if (this.state === "closed" || this.audio !== null) return;
    const stream = e.streams[0] ?? new MediaStream([e.track]);
    const audio = document.createElement("audio");
    audio.autoplay = true;
    audio.srcObject = stream;
    this.audio = audio;
    this.levels?.setRemote(stream);
    this.hooks.recordSide?.("assistant", () => e.track);
    e.track.addEventListener("unmute", () => {
      if (this.levels?.running !== true) this.markFirstAudio("unmute");
    });
    audio.play().catch((error: unknown) => {
      if (error instanceof DOMException && error.name === "NotAllowedError" && this.state !== "closed") {
        this.hooks.timeline("autoplay_blocked");
        this.hooks.autoplayBlocked(true);
      }
    });
  }

  private markFirstAudio(source: string): void {
    if (this.firstAudio) return;
    this.firstAudio = true;
    this.hooks.timeline("first_audio", { source });
  }

  private onLevels(t: number, levels: Levels, emit: boolean): void {
    if (this.state === "closed") return;
    if (levels.output >= FIRST_AUDIO_LEVEL) this.markFirstAudio("level");
    this.hooks.levels(t, levels, emit);
  }

  private onConnectionState(state: RTCPeerConnectionState): void {
    if (this.state === "closed") return;
    this.hooks.timeline("connection_state", { state });
    if (state === "connected") {
      this.clearGrace();
    } else if (state === "disconnected") {
      // "disconnected" can recover within seconds; only a long one counts as lost.
      if (this.graceTimer === null) {
        this.graceTimer = setTimeout(() => {
          this.graceTimer = null;
          this.fail(new ConnectFailure("ice_failed", "The connection stayed disconnected."));
        }, this.config.options.disconnect_grace_ms);
      }
    } else if (state === "failed") {
      this.fail(new ConnectFailure("ice_failed", "The peer connection failed."));
    }
  }

  private clearGrace(): void {
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  private onMessage(data: unknown): void {
    if (this.state === "closed") return;
    const parsed = parseMessage(data);
    this.hooks.message("server", parsed);
    if (!parsed.ok) return;
    const event = parsed.event;
    this.responses.onServerEvent(event);
    switch (event.type) {
      case "session.updated":
        this.sessionWaiter?.resolve();
        break;
      case "response.created":
        this.responseActive = true;
        break;
      case "response.done":
        this.responseActive = false;
        break;
      case "error": {
        const error = event["error"] as { event_id?: unknown; message?: unknown } | undefined;
        if (this.sessionWaiter !== null && this.sessionUpdateId !== null && error?.event_id === this.sessionUpdateId) {
          const message = typeof error.message === "string" ? error.message : "session.update was rejected.";
          this.sessionWaiter.reject(new ConnectFailure("session_update_rejected", message));
        }
        break;
      }
    }
  }

  /** Sends a client event (adding an event_id) and reports it; null when the channel is not open. A
   * `response.create` waits while another response is in progress (see ResponseSequencer); it is reported when
   * it actually goes out. */
  send(event: RealtimeEvent): RealtimeEvent | null {
    if (!this.channelIsOpen()) return null;
    const withId = withEventId(event);
    if (withId.type === "response.create") this.responses.request(withId);
    else this.sendNow(withId);
    return withId;
  }

  private sendNow(event: RealtimeEvent): void {
    const dc = this.dc;
    if (dc === null || !this.channelIsOpen()) return;
    dc.send(JSON.stringify(event));
    this.hooks.message("client", { ok: true, event });
  }

  private channelIsOpen(): boolean {
    return this.dc !== null && this.dc.readyState === "open" && this.state !== "closed";
  }

  /** Stops the assistant: cancel the response if one is running, then drop the audio already buffered. */
  interrupt(): void {
    if (this.responseActive) {
      this.send({ type: "response.cancel" });
      this.responseActive = false;
    }
    this.send({ type: "output_audio_buffer.clear" });
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

  /** Holding push-to-talk opens the mic even when muted; with turn detection off the mic is open only while held. */
  private applyTrackEnabled(): void {
    const pttOnly = this.config.settings.turn_detection === "none";
    const enabled = this.talking || (!this.muted && !pttOnly);
    for (const track of this.mic?.getAudioTracks() ?? []) track.enabled = enabled;
  }

  async enableAudio(): Promise<void> {
    await this.levels?.resume();
    if (this.audio === null) return;
    await this.audio.play();
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

  /**
   * Tears down in a fixed order: stats, data channel, mic tracks, peer connection, audio element.
   * No hangup request: the ephemeral key is used once, and the real API's hangup wants the standard key; closing
   * the pc ends the call (DTLS close), and the kernel can hang up by call_id (timeline `answer_received`).
   */
  close(): void {
    if (this.state === "closed") return;
    const wasOpening = this.state === "opening";
    this.state = "closed";
    this.abort.abort();
    this.clearGrace();
    if (wasOpening) this.rejectOpening?.(new ConnectFailure("unknown", "closed"));
    this.rejectOpening = null;
    this.sessionWaiter = null;
    this.responses.reset();

    this.stats?.stop();
    this.stats = null;
    if (this.dc !== null) {
      this.dc.onopen = this.dc.onmessage = this.dc.onclose = this.dc.onerror = null;
      this.dc.close();
      this.dc = null;
    }
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    this.mic = null;
    if (this.pc !== null) {
      this.pc.ontrack = this.pc.oniceconnectionstatechange = this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
    }
    if (this.audio !== null) {
      this.audio.pause();
      this.audio.srcObject = null;
      this.audio = null;
    }
    this.levels?.close();
    this.levels = null;
  }
}
