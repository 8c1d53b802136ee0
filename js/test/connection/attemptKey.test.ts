import { describe, expect, it } from "vitest";
import { keyForAttempt, type ReadyKey } from "../../src/connection/attemptKey";
import { Aborted } from "../../src/connection/errors";

const SETTINGS = { voice: "marin", instructions: "Be brief.", turn_detection: "server_vad" as const };

function setup(ready: ReadyKey | null) {
  let held = ready;
  const minted: number[] = [];
  const timeline: Array<[string, unknown]> = [];
  const phases: string[] = [];
  const config = {
    attempt: 3,
    readyKey: () => {
      const key = held;
      held = null;
      return key;
    },
    mintKey: (attempt: number) => {
      minted.push(attempt);
      return Promise.resolve({ value: `ek_minted_${minted.length}`, settings: null });
    },
  };
  const hooks = {
    phase: (p: string) => phases.push(p),
    timeline: (what: string, detail?: unknown) => timeline.push([what, detail]),
  };
  return { config, hooks, minted, timeline, phases };
}

describe("keyForAttempt", () => {
  it("uses the key in hand without asking the kernel, and says where it came from", async () => {
    const { config, hooks, minted, timeline, phases } = setup({ value: "ek_warm", settings: null, source: "prewarmed" });
    await expect(keyForAttempt(config, hooks, new AbortController().signal)).resolves.toEqual({ value: "ek_warm", settings: null });
    expect(minted).toEqual([]);
    expect(phases).toEqual(["connecting"]); // never "minting"
    expect(timeline).toEqual([
      ["mint_start", { key: "prewarmed" }],
      ["mint_end", { key: "prewarmed" }],
    ]);
  });

  it("gives the key in hand to one transport only: a fallback in the same attempt mints its own", async () => {
    const { config, hooks, minted, timeline } = setup({ value: "ek_from_connect", settings: SETTINGS, source: "connect_command" });
    const signal = new AbortController().signal;
    expect(await keyForAttempt(config, hooks, signal)).toEqual({ value: "ek_from_connect", settings: SETTINGS });
    expect(await keyForAttempt(config, hooks, signal)).toEqual({ value: "ek_minted_1", settings: null });
    expect(minted).toEqual([3]);
    expect(timeline.at(-1)).toEqual(["mint_end", { key: "mint_key" }]);
  });

  it("stops when the attempt was abandoned while the kernel minted", async () => {
    const { config, hooks } = setup(null);
    const abort = new AbortController();
    const pending = keyForAttempt(config, hooks, abort.signal);
    abort.abort();
    await expect(pending).rejects.toBeInstanceOf(Aborted);
  });
});
