// The seam between the controller and a transport: one connection attempt, over WebRTC (connection.ts) or
// WebSocket (websocketConnection.ts), with the same hooks, so the UI, the events sent to Python and the record do
// not depend on which one ran. `createTransport` picks one from `options.transport`; `auto` tries WebRTC and falls
// back to WebSocket when the page has no RTCPeerConnection or WebRTC cannot get through, and the timeline says
// which transport ran and why.
import type { MicMixer } from "../audio/micMixer";
import type { NoticeMessage, RealtimeEvent } from "../types";
import { Connection, type AttemptConfig, type ConnectionHooks } from "./connection";
import { Aborted, ConnectFailure } from "./errors";
import { proxiablePort } from "./routes";
import { WebSocketConnection } from "./websocketConnection";

/** What the controller needs from a connection attempt, whatever carries it. */
export interface Transport {
  readonly isOpen: boolean;
  readonly callId: string | null;
  /** Resolves once the session is configured; rejects with ConnectFailure or Aborted. */
  open(): Promise<void>;
  close(): void;
  /** Sends a client event; null when not open. */
  send(event: RealtimeEvent): RealtimeEvent | null;
  interrupt(): void;
  setMuted(muted: boolean): void;
  pushToTalk(pressed: boolean): void;
  enableAudio(): Promise<void>;
  /** The audio this attempt sends now, as a track (WebRTC: the sender's; WebSocket: what the capture reads): the
   * mic's, the mixer's once something was played (`mixer()`), or null. The one place to tap "what was sent". */
  readonly outgoingTrack: MediaStreamTrack | null;
  /** The mixer of the mic and played speech (widget.play), made on first use; from then on its mix is what is
   * sent. Null when not open. */
  mixer(): Promise<MicMixer | null>;
}


export function hasWebRtc(): boolean {
  return typeof globalThis.RTCPeerConnection === "function";
}

/** Chooses by `options.transport`, and in `auto` falls back from WebRTC to WebSocket. */
export class AutoTransport implements Transport {
  private current: Transport | null = null;
  private closed = false;
  /** Set while no transport is current yet (or between the two of a fallback): the next one starts with it. */
  private muted: boolean | null = null;

  constructor(
    private readonly config: AttemptConfig,
    private readonly hooks: ConnectionHooks,
    private readonly makeWebRtc: () => Transport = () => new Connection(config, hooks),
    private readonly makeWebSocket: () => Transport = () => new WebSocketConnection(config, hooks),
    private readonly webRtcAvailable: () => boolean = hasWebRtc,
  ) {}

  get isOpen(): boolean {
    return this.current?.isOpen === true;
  }
  get callId(): string | null {
    return this.current?.callId ?? null;
  }

  async open(): Promise<void> {
    const choice = this.config.options.transport;
    if (choice === "websocket") return this.run("websocket", "transport='websocket' was asked for");
    if (choice === "webrtc") return this.run("webrtc", "transport='webrtc' was asked for");
    if (!this.webRtcAvailable()) return this.run("websocket", "this page has no RTCPeerConnection");
    try {
      await this.run("webrtc", "the default (auto)");
    } catch (error) {
      if (this.closed || error instanceof Aborted) throw error;
      if (!(error instanceof ConnectFailure) || !this.canFallBack(error)) throw error;
      const why = error.code === "ice_failed" ? "WebRTC could not connect (ICE)" : "the server was not reachable";
      await this.run("websocket", `${why}: ${error.detail ?? error.code}`);
    }
  }

  /** WebRTC failures that WebSocket can get past: UDP blocked (ICE); or the kernel's local server out of the
   * browser's reach, which only WebSocket can reach through the Jupyter proxy. */
  private canFallBack(failure: ConnectFailure): boolean {
    if (failure.code === "ice_failed") return true;
    const port = proxiablePort(this.config.callsUrl, this.config.options.local_server_port);
    return failure.code === "network" && port !== null;
  }

  private async run(transport: "webrtc" | "websocket", reason: string): Promise<void> {
    if (this.closed) throw new Aborted();
    this.hooks.timeline("transport", { transport, reason });
    const current = transport === "webrtc" ? this.makeWebRtc() : this.makeWebSocket();
    this.current = current;
    if (this.muted !== null) current.setMuted(this.muted);
    await current.open();
  }

  close(): void {
    this.closed = true;
    this.current?.close();
  }
  send(event: RealtimeEvent): RealtimeEvent | null {
    return this.current?.send(event) ?? null;
  }
  interrupt(): void {
    this.current?.interrupt();
  }
  setMuted(muted: boolean): void {
    this.muted = muted;
    this.current?.setMuted(muted);
  }
  pushToTalk(pressed: boolean): void {
    this.current?.pushToTalk(pressed);
  }
  async enableAudio(): Promise<void> {
    await this.current?.enableAudio();
  }
  get outgoingTrack(): MediaStreamTrack | null {
    return this.current?.outgoingTrack ?? null;
  }
  mixer(): Promise<MicMixer | null> {
    return this.current?.mixer() ?? Promise.resolve(null);
  }
}

export function createTransport(config: AttemptConfig, hooks: ConnectionHooks): Transport {
  return new AutoTransport(config, hooks);
}

const ROUTE_WORDS: Record<string, string> = {
  direct: "directly",
  "jupyter-proxy": "through the Jupyter server (jupyter-server-proxy)",
  "colab-proxy": "through Colab's port proxy",
};

/**
 * Follows one attempt's timeline and, once it is connected over WebSocket, says so in words for the widget: the
 * person should know why it is not WebRTC and which route it took (the record has the same in the timeline).
 */
export class TransportReport {
  private reason = "";

  observe(what: string, detail: Record<string, unknown>): NoticeMessage | null {
    if (what === "transport") this.reason = typeof detail["reason"] === "string" ? detail["reason"] : "";
    if (what !== "connected" || detail["transport"] !== "websocket") return null;
    const route = typeof detail["route"] === "string" ? detail["route"] : "direct";
    const how = ROUTE_WORDS[route] ?? route;
    const reason = this.reason.replace(/[.\s]+$/, ""); // it ends the sentence; no doubled full stop
    const why = reason === "" ? "" : ` (${reason})`;
    return { name: "notice", level: "info", text: `Connected over WebSocket, ${how}${why}.` };
  }
}
