// The browser → kernel history channel: items batched into numbered custom messages, resent until acknowledged.
import type { BatchMessage, WireItem } from "../types";
import { isUrgent } from "./events";

export interface BatchSenderOptions {
  /** Flush this long after the first unsent item. */
  flushMs: number;
  /** Flush at once when this many items wait. */
  maxItems: number;
  /** First resend of an unacknowledged batch; each further resend waits twice as long, up to `maxResendMs`. */
  resendMs: number;
  maxResendMs: number;
  /** Batches in flight before new items are held back (and merged into one batch) until acks arrive. */
  maxPending: number;
}

export const DEFAULT_BATCH_OPTIONS: BatchSenderOptions = {
  flushMs: 100,
  maxItems: 200,
  resendMs: 2000,
  maxResendMs: 30_000,
  maxPending: 100,
};

interface Pending {
  message: BatchMessage;
  dueAt: number;
  wait: number;
}

export type SendBatch = (message: BatchMessage) => void;

/**
 * Why resends back off and why overflow is held rather than merged into batches already sent: a busy kernel
 * queues every message and answers them all when the cell ends, so resending at a fixed rate would only fill its
 * queue, and re-numbering a batch the kernel may already hold would make it record those items twice.
 */
export class BatchSender {
  private readonly options: BatchSenderOptions;
  private unsent: WireItem[] = [];
  private held: WireItem[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextSeq = 1;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** Timed flushes wait until then (Date.now() clock): see `quietUntil`. */
  private quietEnd = 0;
  private resendTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly client: string,
    private readonly send: SendBatch,
    options: Partial<BatchSenderOptions> = {},
  ) {
    this.options = { ...DEFAULT_BATCH_OPTIONS, ...options };
  }

  /** Batches sent and not yet acknowledged. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Items not yet in a sent batch (waiting for the flush, or held back by the pending cap). */
  get waitingCount(): number {
    return this.unsent.length + this.held.length;
  }

  push(item: WireItem): void {
    this.unsent.push(item);
    if (this.unsent.length >= this.options.maxItems || (item.k === "event" && isUrgent(item.event))) {
      this.flush();
    } else if (this.flushTimer === null) {
      const wait = Math.max(this.options.flushMs, this.quietEnd - Date.now());
      this.flushTimer = setTimeout(() => this.flush(), wait);
    }
  }

  /**
   * Holds timed flushes back until `until` (ms since the epoch), e.g. while a connect is under way: each batch
   * wakes the Jupyter server and the kernel, which on a small machine compete for the CPU with the server
   * answering the offer. Urgent items and `flush()` still go at once; nothing is dropped or reordered.
   */
  quietUntil(until: number): void {
    this.quietEnd = until;
  }

  flush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.unsent.length === 0) return;
    const items = this.unsent;
    this.unsent = [];
    if (this.pending.size >= this.options.maxPending) {
      this.held.push(...items);
      return;
    }
    this.sendNew(items);
  }

  ack(seq: number): void {
    if (!this.pending.delete(seq)) return;
    if (this.held.length > 0 && this.pending.size < this.options.maxPending) {
      const items = this.held;
      this.held = [];
      this.sendNew(items);
    }
    this.scheduleResend();
  }

  /** Stops the timers; what is unacknowledged stays (for inspection), nothing more is sent. */
  dispose(): void {
    this.flush();
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    if (this.resendTimer !== null) clearTimeout(this.resendTimer);
    this.flushTimer = null;
    this.resendTimer = null;
  }

  private sendNew(items: WireItem[]): void {
    const message: BatchMessage = { type: "rtw:batch", client: this.client, seq: this.nextSeq++, items };
    const wait = this.options.resendMs;
    this.pending.set(message.seq, { message, dueAt: Date.now() + wait, wait });
    this.transmit(message);
    this.scheduleResend();
  }

  private transmit(message: BatchMessage): void {
    try {
      this.send(message);
    } catch (error) {
      // The comm may be closing; the batch stays pending and is resent.
      console.warn("realtime-widget: sending a batch failed; will resend", error);
    }
  }

  private scheduleResend(): void {
    if (this.resendTimer !== null) {
      clearTimeout(this.resendTimer);
      this.resendTimer = null;
    }
    let earliest = Infinity;
    for (const p of this.pending.values()) earliest = Math.min(earliest, p.dueAt);
    if (earliest === Infinity) return;
    this.resendTimer = setTimeout(() => this.resendDue(), Math.max(0, earliest - Date.now()));
  }

  private resendDue(): void {
    this.resendTimer = null;
    const t = Date.now();
    for (const p of [...this.pending.values()].sort((a, b) => a.message.seq - b.message.seq)) {
      if (p.dueAt > t) continue;
      p.wait = Math.min(this.options.maxResendMs, p.wait * 2);
      p.dueAt = t + p.wait;
      this.transmit(p.message);
    }
    this.scheduleResend();
  }
}
