// Requests to the kernel over anywidget's command channel (commands.ts: `invoke`, or custom messages where a front
// end has no working `invoke`). A busy kernel answers only when its cell ends, so every request has a generous
// timeout and reports when it has waited long enough to show "waiting for the kernel".
import type { ErrorCode } from "../types";
import type { AttemptKey } from "./attemptKey";
import type { CommandInvoker } from "./commands";
import { ConnectFailure, isErrorCode } from "./errors";
import { now } from "./clock";
import { keySettings, parseClockReply, parseHistory, type History } from "./traits";

export const KERNEL_TIMEOUT_MS = 30_000;
export const BUSY_AFTER_MS = 1000;
export const MAX_CLOCK_RTT_MS = 1000;

export interface ClockSample {
  /** Kernel clock minus browser clock, ms. */
  offset_ms: number;
  rtt_ms: number;
}

export class KernelClient {
  private waiting = 0;
  private busy = false;

  constructor(
    private readonly commands: CommandInvoker,
    private readonly onBusy: (busy: boolean) => void,
  ) {}

  /** Mints an ephemeral key for one connect attempt. The caller uses it once and drops it. */
  async mintKey(attempt: number, signal?: AbortSignal): Promise<AttemptKey> {
    const reply = await this.request("mint_key", { attempt }, signal, true);
    const d = typeof reply === "object" && reply !== null ? (reply as Record<string, unknown>) : {};
    if (d["ok"] === true && typeof d["value"] === "string" && d["value"] !== "") {
      return { value: d["value"], settings: keySettings(d["settings"]) };
    }
    const error = typeof d["error"] === "object" && d["error"] !== null ? (d["error"] as Record<string, unknown>) : {};
    const code: ErrorCode = isErrorCode(error["code"]) ? error["code"] : "unknown";
    const message = typeof error["message"] === "string" ? error["message"] : "The kernel could not mint a key.";
    const hint = typeof error["hint"] === "string" ? error["hint"] : "";
    // The kernel's message is already complete (docs/wire.md error shape): show it as is, with its hint.
    throw new ConnectFailure(code, message, { message, hint });
  }

  async history(): Promise<History> {
    return parseHistory(await this.request("history", {}));
  }

  /** One round trip to estimate the kernel's clock offset (NTP-style midpoint); null when the kernel was too slow. */
  async clock(): Promise<ClockSample | null> {
    const sent = now();
    const reply = await this.request("clock", { t_browser: sent });
    const received = now();
    const tKernel = parseClockReply(reply);
    // A busy kernel answers late, and then the midpoint says nothing about the offset.
    if (tKernel === null || received - sent > MAX_CLOCK_RTT_MS) return null;
    return { offset_ms: tKernel - (sent + received) / 2, rtt_ms: received - sent };
  }

  /**
   * Only requests the user is waiting for (`reportBusy`) raise the busy hint: the background history and clock
   * requests at start-up would otherwise show "waiting for the kernel" during every Run All.
   */
  private async request(name: string, msg: object, signal?: AbortSignal, reportBusy = false): Promise<unknown> {
    const timeout = AbortSignal.timeout(KERNEL_TIMEOUT_MS);
    const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
    if (reportBusy) this.waiting++;
    const busyTimer = reportBusy ? setTimeout(() => this.setBusy(true), BUSY_AFTER_MS) : undefined;
    try {
      return await this.commands.invoke(name, msg, combined);
    } catch (error) {
      if (signal?.aborted === true) throw error;
      if (timeout.aborted) throw new ConnectFailure("kernel_timeout", `No answer to '${name}' within 30 s.`);
      throw error;
    } finally {
      if (reportBusy) {
        clearTimeout(busyTimer);
        this.waiting--;
        if (this.waiting === 0) this.setBusy(false);
      }
    }
  }

  private setBusy(busy: boolean): void {
    if (this.busy === busy) return;
    this.busy = busy;
    this.onBusy(busy);
  }
}
