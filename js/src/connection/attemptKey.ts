// The ephemeral key of one connection attempt, shared by both transports: the key in hand (pre-warmed by the
// kernel, or sent with its connect command) when there is one, else a `mint_key` round trip to the kernel. The
// timeline says which (`mint_start`/`mint_end` detail `key`), since only `mint_key` costs a kernel round trip.
import type { Settings, TimelineWhat } from "../types";
import { Aborted } from "./errors";

export type KeySource = "prewarmed" | "connect_command" | "mint_key";

/** An ephemeral key and the settings its session was minted with (the kernel's `settings` trait then), or null
 * when the kernel did not say (the session's settings are then unknown, and a `session.update` sets them). */
export interface AttemptKey {
  value: string;
  settings: Settings | null;
}

/** A key in hand before the attempt, and where it came from. */
export interface ReadyKey extends AttemptKey {
  source: Exclude<KeySource, "mint_key">;
}

export interface KeyConfig {
  attempt: number;
  /** The key in hand, given out once (a second caller in the same attempt gets null). */
  readyKey: () => ReadyKey | null;
  mintKey: (attempt: number, signal: AbortSignal) => Promise<AttemptKey>;
}

export interface KeyHooks {
  phase(phase: "minting" | "connecting"): void;
  timeline(what: TimelineWhat, detail?: Record<string, unknown>): void;
}

/** A fresh key for this attempt (a key is good for one call only). Rejects with Aborted once `signal` aborts. */
export async function keyForAttempt(config: KeyConfig, hooks: KeyHooks, signal: AbortSignal): Promise<AttemptKey> {
  const ready = config.readyKey();
  const detail = { key: ready?.source ?? "mint_key" };
  hooks.timeline("mint_start", detail);
  let value: AttemptKey;
  if (ready !== null) {
    value = { value: ready.value, settings: ready.settings };
  } else {
    hooks.phase("minting");
    value = await config.mintKey(config.attempt, signal);
    if (signal.aborted) throw new Aborted();
  }
  hooks.timeline("mint_end", detail);
  hooks.phase("connecting");
  return value;
}
