// One connection attempt: owns the mic, the RTCPeerConnection, the "oai-events" channel, the remote audio element,
// stats sampling and level metering, from the ephemeral key to `session.updated`, and tears them down in one order.
import type { ConnectionOptions, Levels, MicOff, RealtimeEvent, Settings, StatsItem, TimelineWhat } from "../types";
import { now } from "./clock";
import { Aborted, ConnectFailure } from "./errors";
import { postOffer } from "./signaling";
import { parseMessage, sessionUpdate, withEventId, type Parsed } from "./events";
import { sameSettings } from "./traits";
import { LevelMonitor } from "./levels";
import { keyForAttempt, type AttemptKey, type ReadyKey } from "./attemptKey";
import { MicMixer } from "../audio/micMixer";
import { micOff, openMicrophone, type MicResult } from "./microphone";
import { preparePeer, type PreparedPeer } from "./preparedPeer";
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
  /** The key in hand (pre-warmed, or sent with the kernel's connect), given out once: a WebSocket fallback in
   * the same attempt gets null and asks the kernel, since a key is good for one call only. */
  readyKey: () => ReadyKey | null;
  /** Fetches a fresh ephemeral key from the kernel when no key is in hand. */
  mintKey: (attempt: number, signal: AbortSignal) => Promise<AttemptKey>;
  /** The peer connection prepared before the click (preparedPeer.ts), given out once; null: make one now. */
  preparedPeer: () => Promise<PreparedPeer> | null;
  /** The microphone a press of Connect already asked for (pressedMicrophone.ts), given out once; null: ask now. */
  pressedMic?: (constraints: MediaTrackConstraints) => Promise<MicResult> | null;
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
  /** The audio this attempt sends changed (the mixer took over the sender: see `Transport.outgoingTrack`). */
  outgoing?(track: MediaStreamTrack | null): void;
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
  /** The one audio sender: the mic's track, or (receive-only) none until the mixer's track is put in. */
  private sender: RTCRtpSender | null = null;
  private outMixer: MicMixer | null = null;
  private mixerContext: AudioContext | null = null;
  private audio: HTMLAudioElement | null = null;
  private stats: StatsSampler | null = null;
  private levels: LevelMonitor | null = null;
  /** The remote stream, kept for the meters, which start after the connect. */
  private remote: MediaStream | null = null;
  private remoteUnmuted = false;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  /** Fails the connect sequence from an event handler (channel closed, pc failed) while it is opening. */
  private rejectOpening: ((failure: ConnectFailure) => void) | null = null;
  private sessionWaiter: Waiter | null = null;
  private sessionUpdateId: string | null = null;
  private channelOpened: (() => void) | null = null;
  private channelOpen: Promise<void> = Promise.resolve();
  private sessionCreatedSeen: (() => void) | null = null;
  /** Resolves when `session.created` arrives (the first event on the channel). */
  private sessionCreated: Promise<void> = Promise.resolve();
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

  /** A method, not a property read, so that TypeScript does not narrow `state` across an await. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  private checkAborted(): void {
    if (this.abort.signal.aborted || this.state === "closed") throw new Aborted();
  }

  /**
   * The connect sequence, stage by stage; each stage reports itself on the timeline, so a stuck one is visible.
   * Nothing waits for what it does not need. The peer connection, its data channel and the offer are usually
   * prepared before the click, and the key is usually in hand; otherwise they are made side by side. The
   * microphone opens alongside and nothing waits for it: its track joins the already negotiated audio sender when
   * getUserMedia answers, before or after `connected`. The level meters start only once connected.
   */
  private async run(): Promise<void> {
    this.hooks.timeline("connect_requested");
    if (this.config.callsUrl === "") {
      throw new ConnectFailure("unknown", "The kernel has not set calls_url, so there is nowhere to connect.");
    }
    // Everything that does not depend on another step starts at once: the microphone, the key and the peer.
    const mic = this.openMic();
    mic.catch(() => undefined); // a refused mic is not a failure (receive-only); closing rejects it with Aborted
    const key = keyForAttempt(this.config, this.hooks, this.abort.signal);
    key.catch(() => undefined); // awaited below
    const { pc, sender, offerSdp } = await this.takePeer();
    this.sender = sender;
    // Recorded from whatever the sender sends at the moment: the mic's track once it joins, the mixer's after a play.
    this.hooks.recordSide?.("user", () => sender.track);
    const attemptKey = await key;
    await this.negotiate(pc, offerSdp, attemptKey.value);
    const bitrateApplied = await this.applyMaxBitrate(sender);
    await this.waitForChannel();
    // A key minted with these very settings made a session that has them: no session.update round trip.
    if (!sameSettings(attemptKey.settings, this.config.settings) || !(await this.sessionCreatedInTime())) {
      await this.updateSession();
    }

    this.stats = new StatsSampler(() => pc.getStats(), (item) => this.hooks.stats(item), now);
    this.stats.start(this.config.options.stats_interval_ms);
    this.hooks.timeline("connected", { call_id: this.callId, max_bitrate_applied: bitrateApplied });
    this.startMeters();
    // The call does not wait for getUserMedia, which answers in its own time (at once where the page may already
    // use the mic, after the permission prompt otherwise): the track joins the sender the offer negotiated.
    void mic.then(
      (opened) => this.attachMic(opened, sender),
      () => undefined,
    );
  }

  /** The prepared peer connection (else a new one), now owned by this attempt, with its offer. */
  private async takePeer(): Promise<{ pc: RTCPeerConnection; sender: RTCRtpSender; offerSdp: string }> {
    const { ice_servers: iceServers } = this.config.options;
    const prepared = this.config.preparedPeer();
    let peer: PreparedPeer;
    try {
      peer = await (prepared ?? preparePeer(iceServers));
    } catch (error) {
      if (prepared === null) throw error;
      peer = await preparePeer(iceServers); // the preparation failed earlier; try once more, now
    }
    if (this.state === "closed") {
      peer.pc.close(); // abandoned while the peer was being made: nobody else will close it
      throw new Aborted();
    }
    this.adoptPeer(peer.pc);
    this.adoptChannel(peer.dc);
    const offerSdp = peer.offerSdp();
    this.hooks.timeline("offer_created", { sdp_bytes: offerSdp.length, prepared: prepared !== null });
    return { pc: peer.pc, sender: peer.sender, offerSdp };
  }

  /** The meters (a Web Audio context and analysers) are for people and for voice latency, not for connecting. */
  private startMeters(): void {
    const levels = new LevelMonitor((t, sample, emit) => this.onLevels(t, sample, emit), now);
    this.levels = levels;
    if (this.remote !== null) levels.setRemote(this.remote); // the mic's meter starts with its track (attachMic)
    void levels
      .resume()
      .catch(() => undefined)
      .then(() => this.noteUnmuteWithoutMeters());
  }

  /** The microphone's track joins the call (and the meters), once getUserMedia has answered. */
  private async attachMic(
    opened: { stream: MediaStream; track: MediaStreamTrack } | null,
    sender: RTCRtpSender,
  ): Promise<void> {
    if (opened === null || this.isClosed()) return;
    if (this.outMixer !== null) {
      // widget.play() already put its mixer on the sender: the mic joins the mix instead of replacing it.
      this.outMixer.setMic(opened.stream);
      return;
    }
    try {
      await sender.replaceTrack(opened.track);
    } catch (error) {
      if (this.isClosed()) return;
      // The call goes on receive-only, and says so, as when getUserMedia fails.
      const off = micOff("failed", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      this.hooks.timeline("mic_off", { ...off });
      this.hooks.micOff(off);
      return;
    }
    if (this.isClosed()) return;
    this.levels?.setMic(opened.stream);
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

  private adoptPeer(pc: RTCPeerConnection): void {
    this.pc = pc;
    pc.ontrack = (e) => this.onTrack(e);
    pc.oniceconnectionstatechange = () => this.hooks.timeline("ice_state", { state: pc.iceConnectionState });
    pc.onconnectionstatechange = () => this.onConnectionState(pc.connectionState);
  }

  /** Listens to the "oai-events" channel (created before the offer, so that the offer negotiated it). */
  private adoptChannel(dc: RTCDataChannel): void {
    this.dc = dc;
    this.channelOpen = new Promise<void>((resolve) => {
      this.channelOpened = resolve;
    });
    this.sessionCreated = new Promise<void>((resolve) => {
      this.sessionCreatedSeen = resolve;
    });
    dc.onopen = () => this.channelOpened?.();
    dc.onmessage = (e: MessageEvent<unknown>) => this.onMessage(e.data);
    dc.onclose = () => this.fail(new ConnectFailure("channel_closed", "The data channel closed."));
    dc.onerror = (e) => {
      const rtc = typeof RTCErrorEvent !== "undefined" && e instanceof RTCErrorEvent ? e.error : null;
      const detail = rtc === null ? "error" : `${rtc.errorDetail} ${rtc.message}`;
      this.fail(new ConnectFailure("channel_closed", `Data channel error: ${detail}`));
    };
  }

  /** The SDP offer/answer exchange with the calls endpoint. */
  private async negotiate(pc: RTCPeerConnection, offerSdp: string, key: string): Promise<void> {
    // No waiting for ICE gathering: the offer goes out at once (the answer side learns us via prflx candidates).
    const answer = await postOffer(this.config.callsUrl, offerSdp, key, this.abort.signal);
    this.checkAborted();
    this.callId = answer.callId;
    this.hooks.timeline("answer_received", { call_id: answer.callId, status: answer.status });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    this.checkAborted();
  }

  private async waitForChannel(): Promise<void> {
    await within(
      this.channelOpen,
      CHANNEL_OPEN_TIMEOUT_MS,
      () => new ConnectFailure("ice_failed", `No connection within ${CHANNEL_OPEN_TIMEOUT_MS / 1000} s.`),
    );
    this.checkAborted();
    this.hooks.timeline("dc_open");
  }

  /**
   * Waits for `session.created` when the key's session already has the settings (the kernel minted it with them:
   * docs/wire.md "Pre-warmed key"), and says so on the timeline (`session_updated`, `by: "key"`). False when it
   * has not come within SESSION_UPDATE_TIMEOUT_MS: the settings are then sent after all.
   */
  private async sessionCreatedInTime(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SESSION_UPDATE_TIMEOUT_MS);
    });
    try {
      const created = await Promise.race([this.sessionCreated.then(() => true), gaveUp]);
      this.checkAborted();
      if (created) this.hooks.timeline("session_updated", { by: "key" });
      return created;
    } finally {
      clearTimeout(timer);
    }
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
    this.remote = stream;
    this.levels?.setRemote(stream);
    this.hooks.recordSide?.("assistant", () => e.track);
    e.track.addEventListener("unmute", () => {
      this.remoteUnmuted = true;
      this.noteUnmuteWithoutMeters();
    });
    audio.play().catch((error: unknown) => {
      if (error instanceof DOMException && error.name === "NotAllowedError" && this.state !== "closed") {
        this.hooks.timeline("autoplay_blocked");
        this.hooks.autoplayBlocked(true);
      }
    });
  }

  /** Without running meters (no Web Audio, or not yet started) the first RTP packet stands in for first audio. */
  private noteUnmuteWithoutMeters(): void {
    if (this.remoteUnmuted && this.levels !== null && !this.levels.running) this.markFirstAudio("unmute");
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
      case "session.created":
        this.sessionCreatedSeen?.();
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

  /** The track the sender sends now: the mic's, the mixer's once something was played, or null (receive-only). */
  get outgoingTrack(): MediaStreamTrack | null {
    return this.sender?.track ?? null;
  }

  /**
   * The mixer of what this call sends, made on first use: from then on the sender sends the mix of the mic (if
   * any) and the speech played into it. Null when the call is not open.
   */
  async mixer(): Promise<MicMixer | null> {
    if (this.outMixer !== null) return this.outMixer;
    const sender = this.sender;
    if (!this.isOpen || sender === null) return null;
    const context = new AudioContext();
    const mixer = new MicMixer(context);
    mixer.setMic(this.mic);
    this.mixerContext = context;
    this.outMixer = mixer;
    await sender.replaceTrack(mixer.track);
    if (!this.channelIsOpen()) return null; // closed while the track was being replaced
    this.levels?.setMic(new MediaStream([mixer.track])); // voice latency then hears the played speech too
    this.hooks.outgoing?.(mixer.track);
    return mixer;
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
    this.outMixer?.close();
    this.outMixer = null;
    void this.mixerContext?.close().catch(() => undefined);
    this.mixerContext = null;
    this.sender = null;
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
    this.remote = null;
    this.levels?.close();
    this.levels = null;
  }
}
