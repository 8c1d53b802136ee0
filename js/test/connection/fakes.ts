// Stand-ins for the browser's WebRTC, media and fetch, and for the anywidget model, so the controller's
// state machine can be driven step by step in node. Real browsers are covered by the end-to-end tests.
import { vi } from "vitest";
import type { RealtimeEvent } from "../../src/types";

type Listener = (msg: unknown, buffers?: unknown) => void;

export class FakeModel {
  readonly state: Record<string, unknown>;
  readonly sent: unknown[] = [];
  readonly writes: Array<[string, unknown]> = [];
  saves = 0;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(state: Record<string, unknown> = {}) {
    this.state = {
      status: "idle",
      error: {},
      muted: false,
      calls_url: "http://127.0.0.1:9/v1/realtime/calls",
      settings: { voice: "marin", instructions: "Be brief.", turn_detection: "server_vad" },
      options: { reconnect: { max_attempts: 2, base_delay_ms: 100, max_delay_ms: 1000 }, disconnect_grace_ms: 5000 },
      kernel_busy_hint: false,
      ...state,
    };
  }

  get(key: string): unknown {
    return this.state[key];
  }
  set(key: string, value: unknown): void {
    this.state[key] = value;
    this.writes.push([key, value]);
  }
  save_changes(): void {
    this.saves++;
  }
  send(content: unknown): void {
    this.sent.push(structuredClone(content));
  }
  on(event: string, callback: Listener): void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(callback);
  }
  off(event?: string | null, callback?: Listener | null): void {
    if (event != null && callback != null) this.listeners.get(event)?.delete(callback);
  }
  /** A message or trait change from the kernel. */
  emit(event: string, msg?: unknown, buffers?: unknown): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) l(msg, buffers);
  }
  kernelSets(key: string, value: unknown): void {
    this.state[key] = value;
    this.emit(`change:${key}`);
  }
  /** Every batch item the browser sent, in order. */
  items(): Array<Record<string, unknown>> {
    return this.sent.flatMap((m) => ((m as { items?: unknown[] }).items ?? []) as Array<Record<string, unknown>>);
  }
  timeline(): string[] {
    return this.items()
      .filter((i) => i["k"] === "timeline")
      .map((i) => String(i["what"]));
  }
}

export type InvokeHandler = (name: string, msg: unknown, signal: AbortSignal | undefined) => Promise<unknown>;

export function fakeExperimental(handler: InvokeHandler) {
  const calls: Array<{ name: string; msg: unknown }> = [];
  return {
    calls,
    experimental: {
      invoke: async <T>(name: string, msg?: unknown, options?: { signal?: AbortSignal }): Promise<[T, DataView[]]> => {
        calls.push({ name, msg });
        return [(await handler(name, msg, options?.signal)) as T, []];
      },
    },
  };
}

/** mint_key answers with a fresh key per attempt; history is empty; clock answers. */
export const kernelOk: InvokeHandler = (name, msg) => {
  if (name === "mint_key") {
    return Promise.resolve({ ok: true, value: `ek_test_${(msg as { attempt: number }).attempt}`, expires_at: 0 });
  }
  if (name === "history") return Promise.resolve({ items: [], last_seq: {} });
  if (name === "clock") return Promise.resolve({ t_kernel: Date.now() });
  return Promise.reject(new Error(`unexpected command ${name}`));
};

export class FakeTrack {
  enabled = true;
  stopped = false;
  readonly kind = "audio";
  readonly label = "Fake mic";
  stop(): void {
    this.stopped = true;
  }
  addEventListener(): void {}
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[] = [new FakeTrack()]) {}
  getAudioTracks(): FakeTrack[] {
    return this.tracks;
  }
  getTracks(): FakeTrack[] {
    return this.tracks;
  }
}

export class FakeDataChannel {
  readyState: RTCDataChannelState = "connecting";
  readonly sent: RealtimeEvent[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  /** Answer `session.update` with `session.updated` (as the server does). */
  autoSessionUpdated = true;

  constructor(readonly label: string) {}

  send(data: string): void {
    const event = JSON.parse(data) as RealtimeEvent;
    this.sent.push(event);
    if (event.type === "session.update" && this.autoSessionUpdated) {
      queueMicrotask(() => this.receive({ type: "session.updated", event_id: "srv_1", session: {} }));
    }
  }
  close(): void {
    this.readyState = "closed";
  }
  open(): void {
    this.readyState = "open";
    this.onopen?.();
    // The server's first event on the channel, as the Realtime API's.
    if (FakeDataChannel.greets) queueMicrotask(() => this.receive({ type: "session.created", event_id: "srv_0", session: {} }));
  }
  /** When false, the channel opens without the server's `session.created`. */
  static greets = true;
  receive(event: unknown): void {
    this.onmessage?.({ data: typeof event === "string" ? event : JSON.stringify(event) });
  }
  /** The far end closed the channel. */
  remoteClose(): void {
    this.readyState = "closed";
    this.onclose?.();
  }
  types(): string[] {
    return this.sent.map((e) => e.type);
  }
}

export class FakePeerConnection {
  static instances: FakePeerConnection[] = [];
  /** When false, the channel never opens (ICE blocked). */
  static autoOpen = true;
  /** When false, the channel never answers `session.update` (a server that does not confirm the session). */
  static autoSessionUpdated = true;
  connectionState: RTCPeerConnectionState = "new";
  iceConnectionState: RTCIceConnectionState = "new";
  closed = false;
  dc: FakeDataChannel | null = null;
  readonly tracks: FakeTrack[] = [];
  readonly transceivers: Array<{ kind: string; direction: string | undefined }> = [];
  readonly parameters = { encodings: [{}] as Array<{ maxBitrate?: number }> };
  /** True once a connection attempt took this peer (set its handlers), as opposed to one merely prepared. */
  adopted = false;
  private trackHandler: ((e: unknown) => void) | null = null;
  get ontrack(): ((e: unknown) => void) | null {
    return this.trackHandler;
  }
  set ontrack(handler: ((e: unknown) => void) | null) {
    if (handler !== null) this.adopted = true;
    this.trackHandler = handler;
  }
  onconnectionstatechange: (() => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.instances.push(this);
  }
  addTrack(track: FakeTrack) {
    this.tracks.push(track);
    return this.sender(track);
  }
  /** The connection negotiates an audio sender before the mic is ready, then gives it the track. */
  addTransceiver(kind: string, init?: { direction?: string }) {
    this.transceivers.push({ kind, direction: init?.direction });
    return { sender: this.sender(null) };
  }
  /** A sender whose track `replaceTrack` swaps (the mic's once it answers; the mixer's, for widget.play). */
  private sender(track: unknown) {
    const sender = {
      track,
      getParameters: () => this.parameters,
      setParameters: (p: typeof this.parameters) => {
        this.parameters.encodings = p.encodings;
        return Promise.resolve();
      },
      replaceTrack: (next: unknown) => {
        sender.track = next;
        if (next !== null) this.tracks.push(next as FakeTrack);
        return Promise.resolve();
      },
    };
    return sender;
  }
  createDataChannel(label: string): FakeDataChannel {
    this.dc = new FakeDataChannel(label);
    this.dc.autoSessionUpdated = FakePeerConnection.autoSessionUpdated;
    return this.dc;
  }
  createOffer() {
    return Promise.resolve({ type: "offer", sdp: "v=0\r\nfake-offer\r\n" });
  }
  async setLocalDescription(): Promise<void> {}
  setRemoteDescription(): Promise<void> {
    if (FakePeerConnection.autoOpen) {
      setTimeout(() => {
        if (this.closed) return;
        this.setState("connected");
        this.dc?.open();
      }, 0);
    }
    return Promise.resolve();
  }
  getStats() {
    return Promise.resolve(new Map());
  }
  setState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
  close(): void {
    this.closed = true;
    this.connectionState = "closed";
  }
  /** The peer connections that connection attempts used, in order (not the ones prepared for a next connect). */
  static used(): FakePeerConnection[] {
    return FakePeerConnection.instances.filter((pc) => pc.adopted);
  }
  /** The peer connection of the latest attempt. */
  static last(): FakePeerConnection {
    const pc = FakePeerConnection.used().at(-1);
    if (pc === undefined) throw new Error("no peer connection yet");
    return pc;
  }
}

export interface FetchCall {
  url: string;
  init: RequestInit;
}

export type FetchHandler = (call: FetchCall) => Promise<Response>;

export const answer201: FetchHandler = () =>
  Promise.resolve(
    new Response("v=0\r\nfake-answer\r\n", {
      status: 201,
      headers: { "Content-Type": "application/sdp", Location: "/v1/realtime/calls/rtc_abc123" },
    }),
  );

/** Installs the browser globals; returns the recorded fetch calls and the media streams handed out. */
export function installBrowser(
  options: { fetch?: FetchHandler; getUserMedia?: () => Promise<FakeStream>; noMediaDevices?: boolean } = {},
) {
  FakePeerConnection.instances = [];
  FakePeerConnection.autoOpen = true;
  FakePeerConnection.autoSessionUpdated = true;
  const fetches: FetchCall[] = [];
  const streams: FakeStream[] = [];
  const handler = options.fetch ?? answer201;
  vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    fetches.push({ url, init });
    return handler({ url, init });
  });
  vi.stubGlobal("navigator", options.noMediaDevices === true ? {} : {
    mediaDevices: {
      getUserMedia:
        options.getUserMedia ??
        (() => {
          const s = new FakeStream();
          streams.push(s);
          return Promise.resolve(s);
        }),
      enumerateDevices: () =>
        Promise.resolve([
          { kind: "audioinput", deviceId: "a", label: "Mic A" },
          { kind: "audiooutput", deviceId: "b", label: "Speakers" },
        ]),
    },
  });
  return { fetches, streams };
}
