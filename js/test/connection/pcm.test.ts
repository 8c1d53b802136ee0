import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  bytesToBase64,
  floatToPcm16,
  pcm16ToFloat,
  PlaybackLedger,
} from "../../src/connection/pcm";

describe("PCM16 conversion", () => {
  it("round-trips samples within one step and clips out-of-range ones", () => {
    const samples = new Float32Array([0, 0.5, -0.5, 1, -1, 2, -2]);
    const back = pcm16ToFloat(floatToPcm16(samples));
    expect(back.length).toBe(samples.length);
    for (const [i, expected] of [0, 0.5, -0.5, 1, -1, 1, -1].entries()) {
      expect(back[i]).toBeCloseTo(expected, 3);
    }
  });

  it("is little-endian", () => {
    const bytes = floatToPcm16(new Float32Array([1]));
    expect([...bytes]).toEqual([0xff, 0x7f]);
  });

  it("base64 round-trips large buffers", () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });
});

describe("PlaybackLedger", () => {
  it("names the item cut short and how much of it was heard", () => {
    const ledger = new PlaybackLedger();
    ledger.add("item_a", 0, 24_000); // 1 s
    ledger.add("item_b", 0, 12_000);
    ledger.add("item_b", 0, 12_000); // 1 s more of the same item
    expect(ledger.flush(24_000 + 6_000)).toEqual({ itemId: "item_b", contentIndex: 0, audioEndMs: 250 });
  });

  it("reports nothing when everything queued was played", () => {
    const ledger = new PlaybackLedger();
    ledger.add("item_a", 0, 2400);
    expect(ledger.flush(2400)).toBeNull();
  });

  it("continues counting after a flush, on the player's clock", () => {
    const ledger = new PlaybackLedger();
    ledger.add("item_a", 0, 4800);
    ledger.flush(2400);
    expect(ledger.queuedSamples).toBe(2400);
    ledger.add("item_b", 0, 4800);
    expect(ledger.flush(2400 + 2400)).toEqual({ itemId: "item_b", contentIndex: 0, audioEndMs: 100 });
  });

  it("forgets items wholly played", () => {
    const ledger = new PlaybackLedger();
    ledger.add("item_a", 0, 2400);
    ledger.add("item_b", 0, 2400);
    ledger.trim(2400);
    expect(ledger.flush(3600)).toEqual({ itemId: "item_b", contentIndex: 0, audioEndMs: 50 });
  });
});
