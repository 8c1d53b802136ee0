import { afterEach, describe, expect, it, vi } from "vitest";
import { randomId } from "../../src/connection/ids";

afterEach(() => {
  vi.unstubAllGlobals();
});

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("randomId", () => {
  it("is a version-4 UUID where crypto.randomUUID exists", () => {
    expect(randomId()).toMatch(UUID_V4);
  });

  it("is a version-4 UUID on an insecure page, which has no crypto.randomUUID", () => {
    const real = globalThis.crypto;
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array<ArrayBuffer>) => real.getRandomValues(a) });
    const ids = new Set(Array.from({ length: 100 }, () => randomId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });
});
