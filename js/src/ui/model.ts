// Typed, defensive access to the synced traits the UI reads and writes (docs/wire.md).
// Trait values come from the kernel, so they are checked here rather than trusted.
import type { ConnectionOptions, Settings, Status, TurnDetectionChoice, WidgetError } from "../types";
import { parseSettings } from "../connection/traits";
import type { ProblemHints } from "./problems";

export interface WidgetTraits {
  status: Status;
  error: WidgetError | Record<string, never>;
  muted: boolean;
  settings: Settings;
  options: ConnectionOptions;
  presentation: boolean;
  server_label: string;
  calls_url: string;
  kernel_busy_hint: boolean;
  /** RealtimeWidget(record_audio=True): both sides' audio is recorded (the console shows a mark). */
  record_audio: boolean;
  /** A unique id per kernel-side widget: anywidget hands initialize and render different model proxies. */
  instance_id: string;
  /** What to do next, by API error code: `{codes: {code: hint}, default: hint}` (see ./problems). */
  problem_hints: { codes?: Record<string, string>; default?: string } | Record<string, never>;
}

/** The part of an anywidget model the UI uses; a plain object with these methods works in tests. */
export interface WidgetModel {
  get<K extends keyof WidgetTraits>(key: K): WidgetTraits[K];
  set<K extends keyof WidgetTraits>(key: K, value: WidgetTraits[K]): void;
  save_changes(): void;
  on(eventName: `change:${string}`, callback: () => void): void;
  off(eventName?: string | null, callback?: (() => void) | null): void;
}

export const VOICES = ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"] as const;

export const TURN_DETECTION: ReadonlyArray<{ value: TurnDetectionChoice; label: string }> = [
  { value: "server_vad", label: "Server VAD" },
  { value: "semantic_vad", label: "Semantic VAD" },
  { value: "none", label: "Off: push-to-talk" },
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The `settings` trait, read as the connection reads it (one parser for both). */
export function readSettings(model: WidgetModel): Settings {
  return parseSettings(model.get("settings"));
}

/** Changes some settings and syncs them; other keys the kernel put in the trait are kept. */
export function writeSettings(model: WidgetModel, patch: Partial<Settings>): void {
  const raw: unknown = model.get("settings");
  const current = isRecord(raw) ? raw : {};
  model.set("settings", { ...current, ...readSettings(model), ...patch });
  model.save_changes();
}

export function readDeviceId(model: WidgetModel): string | null {
  const options: unknown = model.get("options");
  if (!isRecord(options) || !isRecord(options["audio"])) return null;
  const id = options["audio"]["deviceId"];
  return typeof id === "string" && id !== "" ? id : null;
}

export function writeDeviceId(model: WidgetModel, deviceId: string | null): void {
  const raw: unknown = model.get("options");
  const options = isRecord(raw) ? raw : {};
  const audio = isRecord(options["audio"]) ? options["audio"] : {};
  model.set("options", { ...options, audio: { ...audio, deviceId } } as unknown as ConnectionOptions);
  model.save_changes();
}

/** How many reconnect attempts the options allow, or null when the trait does not say. */
export function readMaxReconnects(model: WidgetModel): number | null {
  const options: unknown = model.get("options");
  if (!isRecord(options) || !isRecord(options["reconnect"])) return null;
  const n = options["reconnect"]["max_attempts"];
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : null;
}

/** The `problem_hints` trait: what to do next, by API error code (empty until the kernel sends it). */
export function readProblemHints(model: WidgetModel): ProblemHints {
  const raw: unknown = model.get("problem_hints");
  const codes: Record<string, string> = {};
  if (isRecord(raw) && isRecord(raw["codes"])) {
    for (const [code, hint] of Object.entries(raw["codes"])) if (typeof hint === "string") codes[code] = hint;
  }
  const fallback = isRecord(raw) && typeof raw["default"] === "string" ? raw["default"] : "";
  return { codes, fallback };
}

/** The `error` trait as a WidgetError, or null when it is empty or malformed. */
export function readErrorTrait(model: WidgetModel): WidgetError | null {
  const raw: unknown = model.get("error");
  if (!isRecord(raw) || typeof raw["message"] !== "string" || raw["message"] === "") return null;
  return {
    code: (typeof raw["code"] === "string" ? raw["code"] : "unknown") as WidgetError["code"],
    message: raw["message"],
    hint: typeof raw["hint"] === "string" ? raw["hint"] : "",
  };
}

export function readBool(model: WidgetModel, key: "presentation" | "muted" | "kernel_busy_hint" | "record_audio"): boolean {
  const value: unknown = model.get(key);
  return value === true;
}

export function readString(model: WidgetModel, key: "server_label" | "calls_url"): string {
  const value: unknown = model.get(key);
  return typeof value === "string" ? value : "";
}

/** Subscribes to one trait's changes; returns the unsubscribe. */
export function watch(model: WidgetModel, key: keyof WidgetTraits, callback: () => void): () => void {
  const eventName = `change:${key}` as const;
  model.on(eventName, callback);
  return () => model.off(eventName, callback);
}
