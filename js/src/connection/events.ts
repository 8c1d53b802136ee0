// Realtime client events the browser builds, and the parse step for messages that arrive on the data channel.
import type { RealtimeEvent, Settings } from "../types";
import { randomId } from "./ids";

/** An event id in the Realtime API's style ("evt_" + 32 hex characters). */
export function newEventId(): string {
  return `evt_${randomId().replaceAll("-", "")}`;
}

/** A copy of `event` with an `event_id`, keeping one the caller chose. */
export function withEventId(event: RealtimeEvent): RealtimeEvent {
  if (typeof event.event_id === "string" && event.event_id !== "") return { ...event };
  return { ...event, event_id: newEventId() };
}

/** The GA `session.update` for the UI's settings. Empty voice or instructions keep what the key was minted with.
 * Turn detection goes as the kernel's whole object when it is of the chosen type (a bare `{type}` could reset
 * tuned VAD to the API's defaults), else as `{type}` for a type just switched in the UI. */
export function sessionUpdate(settings: Settings): RealtimeEvent {
  const config = settings.turn_detection_config;
  const turnDetection =
    settings.turn_detection === "none"
      ? null
      : config !== undefined && config !== null && config["type"] === settings.turn_detection
        ? { ...config }
        : { type: settings.turn_detection };
  const output: Record<string, unknown> = {};
  const custom = settings.voice_config;
  // A custom voice is an object for the API ({id}); the UI holds its id.
  if (custom !== undefined && custom !== null && custom["id"] === settings.voice) output["voice"] = { ...custom };
  else if (settings.voice !== "") output["voice"] = settings.voice;
  const session: Record<string, unknown> = {
    type: "realtime",
    audio: { input: { turn_detection: turnDetection }, output },
  };
  if (settings.instructions !== "") session["instructions"] = settings.instructions;
  return { type: "session.update", session };
}

export function userText(text: string): RealtimeEvent {
  return {
    type: "conversation.item.create",
    item: { type: "message", role: "user", content: [{ type: "input_text", text }] },
  };
}

export type Parsed = { ok: true; event: RealtimeEvent } | { ok: false; raw: string };

const RAW_LIMIT = 2000;

/** Parses one data-channel message; anything that is not a JSON object with a string `type` comes back raw. */
export function parseMessage(data: unknown): Parsed {
  const text = typeof data === "string" ? data : String(data);
  try {
    const value: unknown = JSON.parse(text);
    if (isRealtimeEvent(value)) return { ok: true, event: value };
  } catch {
    // falls through to raw
  }
  return { ok: false, raw: text.slice(0, RAW_LIMIT) };
}

export function isRealtimeEvent(value: unknown): value is RealtimeEvent {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === "string"
  );
}

/** Events the kernel acts on: batches that contain one are flushed at once. */
export function isUrgent(event: RealtimeEvent | null): boolean {
  if (event === null) return false;
  return (
    event.type === "response.function_call_arguments.done" ||
    event.type === "response.done" ||
    event.type === "error"
  );
}
