import { describe, expect, it } from "vitest";
import { keyForAttempt, type ReadyKey } from "../../src/connection/attemptKey";
import { Aborted } from "../../src/connection/errors";

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
      return Promise.resolve(`ek_minted_${minted.length}`);
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
    const { config, hooks, minted, timeline, phases } = setup({ value: "ek_warm", source: "prewarmed" });
    await expect(keyForAttempt(config, hooks, new AbortController().signal)).resolves.toBe("ek_warm");
    expect(minted).toEqual([]);
    expect(phases).toEqual(["connecting"]); // never "minting"
    expect(timeline).toEqual([
      ["mint_start", { key: "prewarmed" }],
      ["mint_end", { key: "prewarmed" }],
    ]);
  });

  it("gives the key in hand to one transport only: a fallback in the same attempt mints its own", async () => {
    const { config, hooks, minted, timeline } = setup({ value: "ek_from_connect", source: "connect_command" });
    const signal = new AbortController().signal;
    expect(await keyForAttempt(config, hooks, signal)).toBe("ek_from_connect");
    expect(await keyForAttempt(config, hooks, signal)).toBe("ek_minted_1");
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
