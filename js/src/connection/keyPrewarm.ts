// A pre-warmed ephemeral key (docs/wire.md "Pre-warmed key"): the kernel pushes one fresh key for this front end
// as a custom message, so a click connects without a round trip to the kernel. The key lives only here, in memory:
// never a trait, the DOM or a log. It is used once; a key about to expire is refused, and the kernel withdraws
// a key (value null) whose session config is out of date.
import type { Settings } from "../types";
import type { AttemptKey } from "./attemptKey";
import { now } from "./clock";
import { keySettings } from "./traits";

/** A key with less life than this left is not worth starting a connect with. */
export const MIN_KEY_LIFE_MS = 5000;

export interface KeyMessage {
  client: string;
  /** null withdraws the key this front end holds. */
  value: string | null;
  expiresInMs: number;
  /** The settings the key's session was minted with, when the kernel says. */
  settings: Settings | null;
}

/** An `rtw:key` message, or null for anything else. */
export function parseKeyMessage(value: unknown): KeyMessage | null {
  if (typeof value !== "object" || value === null) return null;
  const d = value as Record<string, unknown>;
  if (d["type"] !== "rtw:key" || typeof d["client"] !== "string") return null;
  const key = d["value"];
  if (key === null) return { client: d["client"], value: null, expiresInMs: 0, settings: null };
  const expiresIn = d["expires_in_ms"];
  if (typeof key !== "string" || key === "" || typeof expiresIn !== "number" || !Number.isFinite(expiresIn)) {
    return null;
  }
  return { client: d["client"], value: key, expiresInMs: expiresIn, settings: keySettings(d["settings"]) };
}

/** A request the kernel has not answered by then is sent again (the kernel may have been busy, or restarted its
 * supply after a failed mint): asking twice costs nothing, waiting forever costs every later click a round trip. */
export const ASK_AGAIN_MS = 10_000;

export class PrewarmedKey {
  private key: { value: string; settings: Settings | null; deadline: number } | null = null;
  /** When the unanswered request went out (clock ms), or null when none is pending. */
  private askedAt: number | null = null;

  constructor(
    private readonly client: string,
    private readonly send: (message: unknown) => void,
    private readonly clock: () => number = now,
  ) {}

  /** Asks the kernel for a key unless one is held or already asked for (a view was displayed, a key was used). */
  want(): void {
    const pending = this.askedAt !== null && this.clock() - this.askedAt < ASK_AGAIN_MS;
    if (pending || this.fresh()) return;
    this.askedAt = this.clock();
    this.send({ type: "rtw:key_request", client: this.client });
  }

  /** Takes a key message meant for this front end; false when `message` is not one (or is another page's). */
  accept(message: unknown): boolean {
    const parsed = parseKeyMessage(message);
    if (parsed === null) return false;
    if (parsed.client !== this.client) return true; // a key for another page showing this widget: not ours
    this.askedAt = null; // a withdrawn key is replaced by the kernel once the config settles
    this.key =
      parsed.value === null
        ? null
        : { value: parsed.value, settings: parsed.settings, deadline: this.clock() + parsed.expiresInMs };
    return true;
  }

  /** The key (with the settings it was minted with), if a fresh one is held; it is given out once. */
  take(): AttemptKey | null {
    const key = this.fresh() ? this.key : null;
    this.key = null;
    return key === null ? null : { value: key.value, settings: key.settings };
  }

  /** Forgets the key and tells the kernel to stop keeping this front end supplied (the page is going away). */
  release(): void {
    this.key = null;
    this.askedAt = null;
    this.send({ type: "rtw:key_release", client: this.client });
  }

  private fresh(): boolean {
    return this.key !== null && this.key.deadline - this.clock() >= MIN_KEY_LIFE_MS;
  }
}
