// The audio chunks' way to the kernel (docs/wire.md, "Audio chunks"): each chunk a custom message whose samples
// travel as one binary buffer, numbered per side, resent until the kernel acknowledges it, as event batches are.
import type { AudioChunk, AudioSide } from "./chunker";

export interface AudioChunkMessage {
  type: "rtw:audio";
  client: string;
  side: AudioSide;
  seq: number;
  /** Browser time of the first sample, ms since the Unix epoch. */
  t: number;
  rate: number;
  format: "pcm16";
}

export interface AudioAckMessage {
  type: "rtw:audio_ack";
  client: string;
  side: AudioSide;
  seq: number;
}

/** A chunk sent and not yet acknowledged: what a page reload hands to the next page (see stash.ts). */
export interface PendingChunk {
  message: AudioChunkMessage;
  pcm: Uint8Array<ArrayBuffer>;
}

export type SendChunk = (message: AudioChunkMessage, pcm: ArrayBuffer) => void;

export interface AudioSenderOptions {
  /** First resend of an unacknowledged chunk; each further resend waits twice as long, up to `maxResendMs`. */
  resendMs: number;
  maxResendMs: number;
  /** Bytes of unacknowledged audio kept for resending; past it the oldest chunks are given up (and counted). */
  maxPendingBytes: number;
}

export const DEFAULT_AUDIO_SENDER_OPTIONS: AudioSenderOptions = {
  resendMs: 2000,
  maxResendMs: 30_000,
  // Five minutes of both sides at 24 kHz: a kernel busy that long with one cell still loses nothing.
  maxPendingBytes: 5 * 60 * 2 * 48_000,
};

interface Pending extends PendingChunk {
  dueAt: number;
  wait: number;
}

function keyOf(client: string, side: AudioSide, seq: number): string {
  return `${client}/${side}/${seq}`;
}

export function parseAudioAck(value: unknown): AudioAckMessage | null {
  if (typeof value !== "object" || value === null) return null;
  const d = value as Record<string, unknown>;
  const { client, side, seq } = d;
  if (d["type"] !== "rtw:audio_ack" || typeof client !== "string") return null;
  if ((side !== "user" && side !== "assistant") || typeof seq !== "number" || !Number.isInteger(seq)) return null;
  return { type: "rtw:audio_ack", client, side, seq };
}

/**
 * Numbers chunks per side from 1 and keeps each until acknowledged. Unlike event batches nothing is merged: a chunk
 * is already as large as a message should be, and the kernel places each by its own time. Chunks from an earlier
 * page (`adopt`) keep their client and numbers, so the kernel drops any it already has.
 */
export class AudioChunkSender {
  private readonly options: AudioSenderOptions;
  private readonly nextSeq: Record<AudioSide, number> = { user: 1, assistant: 1 };
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private givenUp = 0;
  private disposed = false;

  constructor(
    readonly client: string,
    private readonly send: SendChunk,
    options: Partial<AudioSenderOptions> = {},
  ) {
    this.options = { ...DEFAULT_AUDIO_SENDER_OPTIONS, ...options };
  }

  /** Chunks sent and not yet acknowledged. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Chunks given up because the kernel acknowledged nothing for longer than the pending budget holds. */
  get droppedCount(): number {
    return this.givenUp;
  }

  push(chunk: AudioChunk): void {
    if (this.disposed) return;
    const message: AudioChunkMessage = {
      type: "rtw:audio",
      client: this.client,
      side: chunk.side,
      seq: this.nextSeq[chunk.side]++,
      t: chunk.t,
      rate: chunk.rate,
      format: "pcm16",
    };
    this.track({ message, pcm: chunk.pcm });
  }

  /** Takes over chunks an earlier page sent and saw no ack for, and sends them again. */
  adopt(chunks: readonly PendingChunk[]): void {
    for (const chunk of chunks) {
      if (!this.pending.has(keyOf(chunk.message.client, chunk.message.side, chunk.message.seq))) this.track(chunk);
    }
  }

  ack(ack: AudioAckMessage): void {
    const key = keyOf(ack.client, ack.side, ack.seq);
    const p = this.pending.get(key);
    if (p === undefined) return;
    this.pending.delete(key);
    this.pendingBytes -= p.pcm.byteLength;
    this.schedule();
  }

  /** What is still unacknowledged, oldest first (for a page about to go away). */
  unacknowledged(): PendingChunk[] {
    return [...this.pending.values()].map(({ message, pcm }) => ({ message, pcm }));
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private track(chunk: PendingChunk): void {
    const wait = this.options.resendMs;
    const key = keyOf(chunk.message.client, chunk.message.side, chunk.message.seq);
    this.pending.set(key, { ...chunk, dueAt: Date.now() + wait, wait });
    this.pendingBytes += chunk.pcm.byteLength;
    while (this.pendingBytes > this.options.maxPendingBytes && this.pending.size > 1) {
      const [oldestKey, oldest] = this.pending.entries().next().value as [string, Pending];
      this.pending.delete(oldestKey);
      this.pendingBytes -= oldest.pcm.byteLength;
      this.givenUp++;
    }
    this.transmit(chunk);
    this.schedule();
  }

  private transmit(chunk: PendingChunk): void {
    try {
      // A copy: the comm may transfer (detach) the buffer it is given, and a resend needs the bytes again.
      this.send(chunk.message, chunk.pcm.slice().buffer);
    } catch (error) {
      console.warn("realtime-widget: sending an audio chunk failed; will resend", error);
    }
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.disposed) return;
    let earliest = Infinity;
    for (const p of this.pending.values()) earliest = Math.min(earliest, p.dueAt);
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => this.resendDue(), Math.max(0, earliest - Date.now()));
  }

  private resendDue(): void {
    this.timer = null;
    const t = Date.now();
    for (const p of this.pending.values()) {
      if (p.dueAt > t) continue;
      p.wait = Math.min(this.options.maxResendMs, p.wait * 2);
      p.dueAt = t + p.wait;
      this.transmit(p);
    }
    this.schedule();
  }
}
