// A scripted Controller and model for DOM tests: records calls, lets a test emit controller events.
import type { PlayState } from "../../src/audio/casePlayer";
import type {
  Controller,
  ControllerEvents,
  EventItem,
  MicOff,
  RealtimeEvent,
  Settings,
  Status,
  StatsItem,
  ToolStatusMessage,
  WidgetError,
} from "../../src/types";
import { mountConsole } from "../../src/ui/console";
import type { WidgetModel, WidgetTraits } from "../../src/ui/model";

type Listeners = { [K in keyof ControllerEvents]: Set<ControllerEvents[K]> };

export class FakeController implements Controller {
  status: Status = "idle";
  error: WidgetError | null = null;
  connectedSince: number | null = null;
  muted = false;
  micOff: MicOff | null = null;
  talking = false;
  recording = false;
  recentEvents: EventItem[] = [];
  recentStats: StatsItem[] = [];
  toolCalls = new Map<string, ToolStatusMessage>();
  responseAgents = new Map<string, string>();
  microphones: MediaDeviceInfo[] = [];
  playState: PlayState | null = null;
  readonly calls: Array<[string, ...unknown[]]> = [];
  private readonly listeners: Listeners = {
    status: new Set(),
    error: new Set(),
    event: new Set(),
    stats: new Set(),
    levels: new Set(),
    timeline: new Set(),
    voiceLatency: new Set(),
    tool: new Set(),
    notice: new Set(),
    agent: new Set(),
    kernelWaiting: new Set(),
    autoplayBlocked: new Set(),
    micOff: new Set(),
    play: new Set(),
    recording: new Set(),
  };

  connect(): Promise<void> {
    this.calls.push(["connect"]);
    return Promise.resolve();
  }
  pressConnect(): void {
    this.calls.push(["pressConnect"]);
  }
  disconnect(): Promise<void> {
    this.calls.push(["disconnect"]);
    return Promise.resolve();
  }
  setMuted(muted: boolean): void {
    this.calls.push(["setMuted", muted]);
    this.muted = muted;
  }
  sendEvent(event: RealtimeEvent): boolean {
    this.calls.push(["sendEvent", event]);
    return this.status === "connected";
  }
  sendText(text: string): boolean {
    this.calls.push(["sendText", text]);
    return this.status === "connected";
  }
  interrupt(): void {
    this.calls.push(["interrupt"]);
  }
  pushToTalk(pressed: boolean): void {
    this.calls.push(["pushToTalk", pressed]);
    this.talking = pressed;
  }
  listMicrophones(): Promise<MediaDeviceInfo[]> {
    this.calls.push(["listMicrophones"]);
    return Promise.resolve(this.microphones);
  }
  enableAudio(): Promise<void> {
    this.calls.push(["enableAudio"]);
    return Promise.resolve();
  }
  stopPlay(): void {
    this.calls.push(["stopPlay"]);
  }
  setPlay(state: PlayState | null): void {
    this.playState = state;
    this.emit("play", state);
  }
  on<K extends keyof ControllerEvents>(name: K, listener: ControllerEvents[K]): () => void {
    const set = this.listeners[name] as Set<ControllerEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof ControllerEvents>(name: K, ...args: Parameters<ControllerEvents[K]>): void {
    for (const listener of this.listeners[name] as Set<(...a: Parameters<ControllerEvents[K]>) => void>) {
      listener(...args);
    }
  }
  setStatus(status: Status): void {
    this.status = status;
    this.connectedSince = status === "connected" ? Date.now() : null;
    this.emit("status", status);
  }
  listenerCount(): number {
    return Object.values(this.listeners).reduce((n, set: Set<unknown>) => n + set.size, 0);
  }
  callsOf(name: string): unknown[][] {
    return this.calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  }
}

const SETTINGS: Settings = { voice: "marin", instructions: "", turn_detection: "server_vad" };

/** A model with Backbone-like change events, enough for the UI. */
export class FakeModel implements WidgetModel {
  readonly state: Record<string, unknown> = {
    status: "idle",
    error: {},
    muted: false,
    settings: SETTINGS,
    options: { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, deviceId: null } },
    presentation: false,
    server_label: "Local server (offline)",
    calls_url: "",
    kernel_busy_hint: false,
  };
  saves = 0;
  private readonly handlers = new Map<string, Set<(...args: unknown[]) => void>>();

  get<K extends keyof WidgetTraits>(key: K): WidgetTraits[K] {
    return this.state[key] as WidgetTraits[K];
  }
  set<K extends keyof WidgetTraits>(key: K, value: WidgetTraits[K]): void {
    this.state[key] = value;
    for (const h of this.handlers.get(`change:${key}`) ?? []) h();
  }
  save_changes(): void {
    this.saves += 1;
  }
  on(eventName: string, callback: (...args: unknown[]) => void): void {
    let set = this.handlers.get(eventName);
    if (!set) this.handlers.set(eventName, (set = new Set()));
    set.add(callback);
  }
  off(eventName?: string | null, callback?: ((...args: unknown[]) => void) | null): void {
    if (!eventName) this.handlers.clear();
    else if (!callback) this.handlers.delete(eventName);
    else this.handlers.get(eventName)?.delete(callback);
  }
  /** A change made by the kernel. */
  kernelSets(key: keyof WidgetTraits, value: unknown): void {
    this.set(key, value as never);
  }
  handlerCount(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
}

export function serverEvent(event: RealtimeEvent, t = 0): EventItem {
  return { k: "event", t, dir: "server", event };
}

export function clientEvent(event: RealtimeEvent, t = 0): EventItem {
  return { k: "event", t, dir: "client", event };
}

export interface MountedConsole {
  el: HTMLElement;
  controller: FakeController;
  model: FakeModel;
  unmount: () => void;
}

/** The console mounted on a new element in the document, driven by a FakeController and a FakeModel. */
export function mountFakeConsole(): MountedConsole {
  const el = document.createElement("div");
  document.body.append(el);
  const controller = new FakeController();
  const model = new FakeModel();
  const unmount = mountConsole(el, model, controller);
  return { el, controller, model, unmount };
}
