// The event log's data: a bounded ring buffer of rows and the filters the toolbar offers. Pure, no DOM.
import type { EventItem } from "../types";

export type Chip = "all" | "errors" | "session" | "input" | "response" | "conversation" | "sent";

export const CHIPS: ReadonlyArray<{ value: Chip; label: string }> = [
  { value: "all", label: "All" },
  { value: "errors", label: "Errors" },
  { value: "session", label: "Session" },
  { value: "input", label: "Input" },
  { value: "response", label: "Response" },
  { value: "conversation", label: "Conversation" },
  { value: "sent", label: "Sent" },
];

export interface LogFilter {
  chip: Chip;
  /** Case-insensitive; every space-separated word must appear in the event type. */
  text: string;
  /** Streaming deltas are most of the traffic; hiding them makes the rest readable. */
  hideDeltas: boolean;
}

export const DEFAULT_FILTER: LogFilter = { chip: "all", text: "", hideDeltas: false };

export interface LogRow {
  /** Position in the session (1-based), stable across filtering. */
  n: number;
  item: EventItem;
  type: string;
  isError: boolean;
}

/** A fixed-capacity buffer that overwrites the oldest entry. */
export class RingBuffer<T> {
  private readonly slots: Array<T | undefined>;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a value; returns the one it pushed out, if any. */
  push(value: T): T | undefined {
    if (this.count < this.capacity) {
      this.slots[(this.start + this.count) % this.capacity] = value;
      this.count += 1;
      return undefined;
    }
    const evicted = this.slots[this.start];
    this.slots[this.start] = value;
    this.start = (this.start + 1) % this.capacity;
    return evicted;
  }

  /** Newest first, stopping after `limit` values that pass `keep`. */
  newest(limit: number, keep: (value: T) => boolean = () => true): T[] {
    const out: T[] = [];
    for (let i = this.count - 1; i >= 0 && out.length < limit; i -= 1) {
      const value = this.slots[(this.start + i) % this.capacity] as T;
      if (keep(value)) out.push(value);
    }
    return out;
  }
}

export function eventType(item: EventItem): string {
  return item.event?.type ?? "(not JSON)";
}

export function isErrorItem(item: EventItem): boolean {
  const event = item.event;
  if (event === null) return true; // a message we could not parse
  if (event.type === "error" || event.type.endsWith(".failed")) return true;
  const response = event["response"];
  return event.type === "response.done" && typeof response === "object" && response !== null &&
    (response as Record<string, unknown>)["status"] === "failed";
}

export function toRow(item: EventItem, n: number): LogRow {
  return { n, item, type: eventType(item), isError: isErrorItem(item) };
}

function chipMatches(row: LogRow, chip: Chip): boolean {
  const type = row.type;
  switch (chip) {
    case "all":
      return true;
    case "errors":
      return row.isError;
    case "session":
      return type.startsWith("session.") || type === "rate_limits.updated";
    case "input":
      return type.startsWith("input_audio_buffer.") || type.startsWith("conversation.item.input_audio_transcription.");
    case "response":
      return type.startsWith("response.") || type.startsWith("output_audio_buffer.");
    case "conversation":
      return type.startsWith("conversation.");
    case "sent":
      return row.item.dir === "client";
  }
}

export function matches(row: LogRow, filter: LogFilter): boolean {
  if (!chipMatches(row, filter.chip)) return false;
  if (filter.hideDeltas && row.type.endsWith(".delta")) return false;
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  const type = row.type.toLowerCase();
  return words.every((w) => type.includes(w));
}

/** One line of context next to the type: what a person would look for first. */
export function summary(row: LogRow): string {
  const event = row.item.event;
  if (event === null) return (row.item.raw ?? "").slice(0, 120);
  const pick = (key: string): string | null => {
    const v = event[key];
    return typeof v === "string" ? v : null;
  };
  if (event.type === "error") {
    const error = event["error"];
    if (typeof error === "object" && error !== null) {
      const message = (error as Record<string, unknown>)["message"];
      if (typeof message === "string") return message;
    }
  }
  const delta = pick("delta");
  if (delta !== null) return JSON.stringify(delta);
  const text = pick("transcript") ?? pick("text");
  if (text !== null) return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  if (event.type === "response.done") {
    const response = event["response"];
    if (typeof response === "object" && response !== null) {
      const status = (response as Record<string, unknown>)["status"];
      if (typeof status === "string") return status;
    }
  }
  const name = pick("name");
  if (name !== null) return name;
  return pick("item_id") ?? pick("response_id") ?? "";
}

/** "14:03:07.250" in local time. */
export function formatClock(t: number): string {
  const d = new Date(t);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The log's memory: every event counted, the last `capacity` kept for filtering and display. */
export class EventLogModel {
  private readonly buffer: RingBuffer<LogRow>;
  total = 0;

  constructor(capacity = 2000) {
    this.buffer = new RingBuffer<LogRow>(capacity);
  }

  push(item: EventItem): LogRow {
    this.total += 1;
    const row = toRow(item, this.total);
    this.buffer.push(row);
    return row;
  }

  /** The newest rows that pass the filter, newest first. */
  visible(filter: LogFilter, limit: number): LogRow[] {
    return this.buffer.newest(limit, (row) => matches(row, filter));
  }

  get kept(): number {
    return this.buffer.size;
  }
}
