// The browser's side of `widget.play(case)`: the kernel drives the case (docs/wire.md, "Playing a case"); this
// speaks each turn's audio into the call through the connection's mixer, says when the speech has finished
// sounding (timeline `play_spoken`, with the times it began and ended), shows which step is playing, and stops
// the audio at once when the person presses Stop (timeline `play_stopped`; the kernel then ends the play).
import type { MicMixer } from "./micMixer";

/** What the console shows while a case plays. */
export interface PlayState {
  playId: string;
  caseName: string;
  /** 1-based; 0 before the first step. */
  step: number;
  steps: number;
  /** The step in words ("say 'What were the sales?'"). */
  what: string;
  /** Stop was pressed; the kernel has not ended the play yet. */
  stopping: boolean;
}

export type PlayCommand =
  | { name: "play_start"; play_id: string; case: string; steps: number }
  | { name: "play_step"; play_id: string; step: number; what: string }
  | { name: "play_audio"; play_id: string; step: number; seq: number; sample_rate: number; last: boolean }
  | { name: "play_end"; play_id: string; outcome: string; message: string };

export interface PlayerHooks {
  /** The connection's mixer (made on first use), or null when not connected. */
  mixer(): Promise<MicMixer | null>;
  /** A timeline item for the kernel (and the record), sent at once. */
  timeline(what: "play_spoken" | "play_stopped" | "play_error", detail: Record<string, unknown>): void;
  /** The state changed (null: nothing is playing). */
  changed(state: PlayState | null): void;
  /** Epoch ms (the record's clock). */
  now(): number;
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const text = (d: Record<string, unknown>, key: string): string | null =>
  typeof d[key] === "string" ? d[key] : null;
const count = (d: Record<string, unknown>, key: string): number | null =>
  typeof d[key] === "number" && Number.isFinite(d[key]) && d[key] >= 0 ? d[key] : null;

/** A play command from a `msg:custom` message (`{type: "rtw:cmd", command: {name: "play_...", ...}}`), or null. */
export function parsePlayMessage(value: unknown): PlayCommand | null {
  if (!isDict(value) || value["type"] !== "rtw:cmd") return null;
  const body = value["command"];
  return parsePlayCommand(isDict(body) ? body : value);
}

/** A play command from the kernel's command body, or null for anything else. */
export function parsePlayCommand(d: Record<string, unknown>): PlayCommand | null {
  const playId = text(d, "play_id");
  if (playId === null) return null;
  switch (d["name"]) {
    case "play_start": {
      const name = text(d, "case");
      const steps = count(d, "steps");
      return name !== null && steps !== null ? { name: "play_start", play_id: playId, case: name, steps } : null;
    }
    case "play_step": {
      const step = count(d, "step");
      return step !== null ? { name: "play_step", play_id: playId, step, what: text(d, "what") ?? "" } : null;
    }
    case "play_audio": {
      const step = count(d, "step");
      const seq = count(d, "seq");
      const rate = count(d, "sample_rate");
      if (step === null || seq === null || rate === null || rate < 3000 || typeof d["last"] !== "boolean") return null;
      return { name: "play_audio", play_id: playId, step, seq, sample_rate: rate, last: d["last"] };
    }
    case "play_end":
      return {
        name: "play_end",
        play_id: playId,
        outcome: text(d, "outcome") ?? "",
        message: text(d, "message") ?? "",
      };
    default:
      return null;
  }
}

/** The first binary buffer of a custom message as little-endian PCM16 (anywidget gives DataViews). */
export function pcmFromBuffers(buffers: unknown): Int16Array | null {
  if (!Array.isArray(buffers) || buffers.length === 0) return null;
  const first: unknown = buffers[0];
  let bytes: Uint8Array;
  if (first instanceof ArrayBuffer) bytes = new Uint8Array(first);
  else if (ArrayBuffer.isView(first)) bytes = new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
  else return null;
  const samples = new Int16Array(Math.floor(bytes.byteLength / 2));
  const view = new DataView(bytes.buffer, bytes.byteOffset, samples.length * 2);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  return samples;
}

export class CasePlayer {
  private current: PlayState | null = null;
  /** Plays the person stopped (or the kernel ended): their late audio is dropped. */
  private readonly over = new Set<string>();
  private mixer: MicMixer | null = null;
  /** When the current step's speech began sounding (epoch ms), by step. */
  private readonly began = new Map<number, number>();
  /** Audio commands are handled one at a time, in the order they came, so chunks queue in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly hooks: PlayerHooks) {}

  get state(): PlayState | null {
    return this.current;
  }

  /** Handles a play command (with its buffers, for `play_audio`). */
  handle(command: PlayCommand, buffers: unknown): void {
    switch (command.name) {
      case "play_start":
        this.over.delete(command.play_id);
        this.began.clear();
        this.set({
          playId: command.play_id,
          caseName: command.case,
          step: 0,
          steps: command.steps,
          what: "",
          stopping: false,
        });
        break;
      case "play_step":
        if (this.current?.playId !== command.play_id || this.current.stopping) return;
        this.set({ ...this.current, step: command.step, what: command.what });
        break;
      case "play_audio": {
        const pcm = pcmFromBuffers(buffers);
        this.queue = this.queue.then(() => this.speak(command, pcm));
        break;
      }
      case "play_end":
        this.over.add(command.play_id);
        if (this.current?.playId === command.play_id) {
          this.mixer?.stop();
          this.set(null);
        }
        break;
    }
  }

  /** The Stop button: silence at once, tell the kernel; the console shows "stopping" until the kernel ends it. */
  stop(): void {
    const state = this.current;
    if (state === null || state.stopping) return;
    this.over.add(state.playId);
    this.mixer?.stop();
    this.hooks.timeline("play_stopped", { play_id: state.playId, step: state.step, by: "user" });
    this.set({ ...state, stopping: true });
  }

  /** The connection ended: nothing more can be spoken (the kernel sees the status and ends the play). */
  connectionEnded(): void {
    this.mixer?.stop();
    this.mixer = null;
  }

  private async speak(command: Extract<PlayCommand, { name: "play_audio" }>, pcm: Int16Array | null): Promise<void> {
    if (this.over.has(command.play_id)) return;
    const step = command.step;
    const mixer = await this.hooks.mixer();
    if (mixer === null || pcm === null) {
      const why = mixer === null ? "not connected" : "the audio message had no PCM buffer";
      // `reason` lets the kernel tell a dropped call (its status write may still be on its way) from a bad message.
      const reason = mixer === null ? "not_connected" : "no_pcm";
      this.hooks.timeline("play_error", { play_id: command.play_id, step, reason, message: `Could not play: ${why}.` });
      return;
    }
    this.mixer = mixer;
    const { start } = mixer.enqueue(pcm, command.sample_rate);
    if (!this.began.has(step)) {
      const lead = Math.max(0, start - mixer.currentTime) * 1000;
      this.began.set(step, this.hooks.now() + lead);
    }
    if (!command.last) return;
    // Not awaited here: the next step's audio (a barge-in) may come while this one still sounds.
    void mixer.drained().then((played) => {
      if (this.over.has(command.play_id) && !played) return; // stopped: play_stopped said so
      this.hooks.timeline("play_spoken", {
        play_id: command.play_id,
        step,
        started_t: this.began.get(step) ?? null,
        ended_t: this.hooks.now(),
        played,
      });
    });
  }

  private set(state: PlayState | null): void {
    this.current = state;
    this.hooks.changed(state);
  }
}
