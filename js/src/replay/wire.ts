// Requests to the ReplayView's kernel commands (realtime_widget/replay/view.py) and the parse of their replies.
// Replies carry binary buffers (peaks, PCM), so this uses anywidget's `invoke` where it works and otherwise the
// same command over custom messages, keeping the buffers that the console's command path has no use for.
import type { Experimental } from "@anywidget/types";
import { COMMAND_KIND, COMMAND_RESPONSE_KIND } from "../connection/commands";
import { randomId } from "../connection/ids";
import { int16Of } from "./peaks";

export const REQUEST_TIMEOUT_MS = 30_000;

export interface ReplayModel {
  get(key: "title"): unknown;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: string, callback: (msg: unknown, buffers?: unknown[]) => void): void;
  off(event?: string | null, callback?: ((msg: unknown, buffers?: unknown[]) => void) | null): void;
}

export type Side = "user" | "assistant";

export interface SideInfo {
  side: Side;
  sampleRate: number;
  /** Seconds from the origin to the track's first sample. */
  start: number;
  duration: number;
}

export type MarkKind = "utterance" | "turn" | "tool" | "interruption" | "error";

export interface Mark {
  kind: MarkKind;
  start: number;
  end: number;
  side?: Side;
  text: string;
  turn?: number;
  interrupted: boolean;
  latencyMs?: number;
  voiceToVoiceMs?: number;
  acousticLatencyMs?: number;
  error: string;
}

export interface Overview {
  originMs: number;
  duration: number;
  sides: SideInfo[];
  marks: Mark[];
}

export interface Clip {
  side: Side;
  start: number;
  sampleRate: number;
  samples: Int16Array;
}

type Reply = [Record<string, unknown>, unknown[]];

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function num(value: unknown, fallback = 0): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function optionalNum(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function side(value: unknown): Side | undefined {
  return value === "user" || value === "assistant" ? value : undefined;
}

const KINDS: readonly MarkKind[] = ["utterance", "turn", "tool", "interruption", "error"];

export function parseMark(value: unknown): Mark | null {
  const m = record(value);
  const kind = KINDS.find((k) => k === m["kind"]);
  if (kind === undefined || typeof m["start"] !== "number") return null;
  const start = num(m["start"]);
  const mark: Mark = {
    kind,
    start,
    end: Math.max(num(m["end"], start), start),
    text: str(m["text"]),
    interrupted: m["interrupted"] === true,
    error: str(m["error"]),
  };
  const s = side(m["side"]);
  if (s !== undefined) mark.side = s;
  const turn = optionalNum(m["turn"]);
  if (turn !== undefined) mark.turn = turn;
  const latency = optionalNum(m["latency_ms"]);
  if (latency !== undefined) mark.latencyMs = latency;
  const v2v = optionalNum(m["voice_to_voice_ms"]);
  if (v2v !== undefined) mark.voiceToVoiceMs = v2v;
  const acoustic = optionalNum(m["acoustic_latency_ms"]);
  if (acoustic !== undefined) mark.acousticLatencyMs = acoustic;
  return mark;
}

export function parseOverview(value: unknown): Overview {
  const o = record(value);
  const sides: SideInfo[] = [];
  for (const entry of Array.isArray(o["sides"]) ? o["sides"] : []) {
    const e = record(entry);
    const s = side(e["side"]);
    if (s === undefined || num(e["sample_rate"]) <= 0) continue;
    sides.push({ side: s, sampleRate: num(e["sample_rate"]), start: num(e["start"]), duration: num(e["duration"]) });
  }
  const marks = (Array.isArray(o["marks"]) ? o["marks"] : []).map(parseMark).filter((m): m is Mark => m !== null);
  return { originMs: num(o["origin_ms"]), duration: Math.max(num(o["duration"]), 0), sides, marks };
}

/** Talks to one ReplayView's kernel side. */
export class ReplayKernel {
  private useInvoke: boolean;

  constructor(
    private readonly model: ReplayModel,
    private readonly experimental: Experimental | undefined,
  ) {
    this.useInvoke = typeof experimental?.invoke === "function";
  }

  async overview(): Promise<Overview> {
    const [reply] = await this.request("overview", {});
    return parseOverview(reply);
  }

  /** Peaks of [start, end) at `columns` columns, by side. */
  async peaks(start: number, end: number, columns: number): Promise<Map<Side, Int16Array>> {
    const [reply, buffers] = await this.request("peaks", { start, end, columns });
    const out = new Map<Side, Int16Array>();
    const sides = Array.isArray(reply["sides"]) ? reply["sides"] : [];
    sides.forEach((name, i) => {
      const s = side(name);
      if (s !== undefined && buffers[i] !== undefined) out.set(s, int16Of(buffers[i]));
    });
    return out;
  }

  /** Each side's samples from `start` for `duration` seconds. */
  async audio(start: number, duration: number, signal?: AbortSignal): Promise<Clip[]> {
    const [reply, buffers] = await this.request("audio", { start, duration }, signal);
    const clips: Clip[] = [];
    const entries = Array.isArray(reply["clips"]) ? reply["clips"] : [];
    entries.forEach((entry, i) => {
      const e = record(entry);
      const s = side(e["side"]);
      if (s === undefined || buffers[i] === undefined || num(e["sample_rate"]) <= 0) return;
      clips.push({ side: s, start: num(e["start"]), sampleRate: num(e["sample_rate"]), samples: int16Of(buffers[i]) });
    });
    return clips;
  }

  private async request(name: string, msg: object, signal?: AbortSignal): Promise<Reply> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
    const invoke = this.experimental?.invoke;
    if (this.useInvoke && invoke !== undefined) {
      try {
        const [reply, buffers] = await invoke<unknown>(name, msg, { signal: combined });
        return [record(reply), buffers];
      } catch (error) {
        if (combined.aborted) throw error;
        this.useInvoke = false; // a front end without a working invoke (marimo): custom messages from now on
      }
    }
    return this.overCustomMessages(name, msg, combined);
  }

  private overCustomMessages(name: string, msg: object, signal: AbortSignal): Promise<Reply> {
    const id = randomId();
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown, buffers?: unknown[]): void => {
        const reply = record(message);
        if (reply["kind"] !== COMMAND_RESPONSE_KIND || reply["id"] !== id) return;
        this.model.off("msg:custom", onMessage);
        resolve([record(reply["response"]), buffers ?? []]);
      };
      signal.addEventListener(
        "abort",
        () => {
          this.model.off("msg:custom", onMessage);
          reject(signal.reason instanceof Error ? signal.reason : new Error(`No answer to '${name}'.`));
        },
        { once: true },
      );
      this.model.on("msg:custom", onMessage);
      this.model.send({ id, kind: COMMAND_KIND, name, msg });
    });
  }
}
