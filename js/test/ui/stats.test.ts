import { describe, expect, it } from "vitest";
import type { StatsItem } from "../../src/types";
import { formatKbps, formatMs, formatPercent, formatStats, lossPercent } from "../../src/ui/stats";

function sample(fields: Partial<StatsItem> = {}): StatsItem {
  return {
    k: "stats",
    t: 0,
    rtt_ms: null,
    jitter_ms: null,
    packets_received: null,
    packets_lost: null,
    bytes_received: null,
    bytes_sent: null,
    bitrate_in_kbps: null,
    bitrate_out_kbps: null,
    audio_level_in: null,
    audio_level_out: null,
    codec: null,
    ...fields,
  };
}

const byKey = (cells: ReturnType<typeof formatStats>) => Object.fromEntries(cells.map((c) => [c.key, c]));

describe("number formatting", () => {
  it("milliseconds", () => {
    expect(formatMs(3.14159)).toBe("3.1 ms");
    expect(formatMs(41.6)).toBe("42 ms");
    expect(formatMs(12_345)).toBe("12.3 s");
    expect(formatMs(null)).toBe("—");
    expect(formatMs(Number.NaN)).toBe("—");
  });

  it("bitrates", () => {
    expect(formatKbps(31.6)).toBe("32 kbps");
    expect(formatKbps(0.4)).toBe("0.4 kbps");
    expect(formatKbps(1500)).toBe("1.5 Mbps");
    expect(formatKbps(undefined)).toBe("—");
  });

  it("percentages", () => {
    expect(formatPercent(0)).toBe("0.0 %");
    expect(formatPercent(2.345)).toBe("2.3 %");
    expect(formatPercent(12.6)).toBe("13 %");
    expect(formatPercent(null)).toBe("—");
  });
});

describe("packet loss", () => {
  it("is measured over the last interval when there is a previous sample", () => {
    const prev = sample({ packets_received: 1000, packets_lost: 50 });
    const cur = sample({ packets_received: 1098, packets_lost: 52 });
    expect(lossPercent(cur, prev)).toBeCloseTo(2, 5);
  });

  it("falls back to the whole call for the first sample or after counters reset", () => {
    const cur = sample({ packets_received: 990, packets_lost: 10 });
    expect(lossPercent(cur, null)).toBeCloseTo(1, 5);
    const beforeReconnect = sample({ packets_received: 5000, packets_lost: 400 });
    expect(lossPercent(cur, beforeReconnect)).toBeCloseTo(1, 5);
  });

  it("is unknown without counters or packets", () => {
    expect(lossPercent(sample(), null)).toBeNull();
    expect(lossPercent(sample({ packets_received: 0, packets_lost: 0 }), null)).toBeNull();
  });
});

describe("the strip", () => {
  it("shows dashes before the first sample", () => {
    const cells = formatStats(null);
    expect(cells.map((c) => c.key)).toEqual(["rtt", "jitter", "loss", "in", "out", "latency"]);
    expect(cells.every((c) => c.value === "—" && c.level === "none")).toBe(true);
  });

  it("formats a sample and grades the network", () => {
    const cells = byKey(
      formatStats(
        sample({ rtt_ms: 38.2, jitter_ms: 2.44, packets_received: 1000, packets_lost: 0, bitrate_in_kbps: 31.5, bitrate_out_kbps: 28.2 }),
        null,
        812,
      ),
    );
    expect(cells["rtt"]).toMatchObject({ value: "38 ms", level: "ok" });
    expect(cells["jitter"]).toMatchObject({ value: "2.4 ms", level: "ok" });
    expect(cells["loss"]).toMatchObject({ value: "0.0 %", level: "ok" });
    expect(cells["in"]?.value).toBe("32 kbps");
    expect(cells["out"]?.value).toBe("28 kbps");
    expect(cells["latency"]).toMatchObject({ value: "812 ms", level: "ok" });
  });

  it("flags a poor connection", () => {
    const cells = byKey(formatStats(sample({ rtt_ms: 420, jitter_ms: 35, packets_received: 90, packets_lost: 10 }), null, 2500));
    expect(cells["rtt"]?.level).toBe("bad");
    expect(cells["jitter"]?.level).toBe("warn");
    expect(cells["loss"]).toMatchObject({ value: "10 %", level: "bad" });
    expect(cells["latency"]?.level).toBe("bad");
  });
});
