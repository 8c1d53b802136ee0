import { afterEach, describe, expect, it, vi } from "vitest";
import { reduceStats, StatsSampler, type StatsReportLike } from "../../src/connection/stats";

// Shaped like Chromium's getStats() for an audio-only call with a data channel (webrtc-stats field names).
function report(opts: { ts: number; bytesIn: number; bytesOut: number; withTransport?: boolean }): StatsReportLike {
  const entries: Array<Record<string, unknown>> = [
    {
      id: "T01",
      type: "transport",
      timestamp: opts.ts,
      dtlsState: "connected",
      iceState: "connected",
      ...(opts.withTransport === false ? {} : { selectedCandidatePairId: "CPa_b" }),
    },
    {
      id: "CPa_b",
      type: "candidate-pair",
      timestamp: opts.ts,
      state: "succeeded",
      nominated: true,
      currentRoundTripTime: 0.004,
    },
    { id: "CPc_d", type: "candidate-pair", timestamp: opts.ts, state: "failed", nominated: false },
    {
      id: "IT01A1",
      type: "inbound-rtp",
      kind: "audio",
      mediaType: "audio",
      timestamp: opts.ts,
      codecId: "CIT01_111",
      jitter: 0.0025,
      packetsLost: 3,
      packetsReceived: 134,
      bytesReceived: opts.bytesIn,
      audioLevel: 0.21,
    },
    {
      id: "OT01A2",
      type: "outbound-rtp",
      kind: "audio",
      timestamp: opts.ts,
      codecId: "COT01_111",
      mediaSourceId: "SA3",
      bytesSent: opts.bytesOut,
      packetsSent: 120,
    },
    { id: "SA3", type: "media-source", kind: "audio", timestamp: opts.ts, audioLevel: 0.05, trackIdentifier: "mic" },
    { id: "RIA2", type: "remote-inbound-rtp", kind: "audio", timestamp: opts.ts, roundTripTime: 0.009 },
    { id: "CIT01_111", type: "codec", mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 },
    { id: "COT01_111", type: "codec", mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 },
    { id: "D1", type: "data-channel", label: "oai-events", state: "open", messagesSent: 2 },
  ];
  return new Map(entries.map((e) => [String(e["id"]), e]));
}

describe("reduceStats", () => {
  it("reads one sample into a stats item (ms, kbps), with no bitrates for the first sample", () => {
    const item = reduceStats(null, report({ ts: 1000, bytesIn: 5000, bytesOut: 4000 }), 42);
    expect(item).toEqual({
      k: "stats",
      t: 42,
      rtt_ms: 4,
      jitter_ms: 2.5,
      packets_received: 134,
      packets_lost: 3,
      bytes_received: 5000,
      bytes_sent: 4000,
      bitrate_in_kbps: null,
      bitrate_out_kbps: null,
      audio_level_in: 0.21,
      audio_level_out: 0.05,
      codec: "audio/opus",
    });
  });

  it("computes bitrates from byte deltas over the stats timestamps", () => {
    const prev = report({ ts: 1000, bytesIn: 5000, bytesOut: 4000 });
    const cur = report({ ts: 2000, bytesIn: 11000, bytesOut: 8000 });
    const item = reduceStats(prev, cur, 0);
    expect(item.bitrate_in_kbps).toBe(48); // 6000 B * 8 / 1000 ms
    expect(item.bitrate_out_kbps).toBe(32);
  });

  it("gives no bitrate when a counter went backwards (a new stream)", () => {
    const prev = report({ ts: 1000, bytesIn: 9000, bytesOut: 4000 });
    const item = reduceStats(prev, report({ ts: 2000, bytesIn: 100, bytesOut: 4000 }), 0);
    expect(item.bitrate_in_kbps).toBeNull();
    expect(item.bitrate_out_kbps).toBe(0);
  });

  it("falls back to the nominated succeeded pair when the transport names none", () => {
    expect(reduceStats(null, report({ ts: 1, bytesIn: 0, bytesOut: 0, withTransport: false }), 0).rtt_ms).toBe(4);
  });

  it("falls back to remote-inbound-rtp roundTripTime without a candidate pair RTT", () => {
    const r = new Map(report({ ts: 1, bytesIn: 0, bytesOut: 0 }));
    r.delete("CPa_b");
    r.set("T01", { id: "T01", type: "transport" });
    expect(reduceStats(null, r, 0).rtt_ms).toBe(9);
  });

  it("returns nulls for an empty report (before media flows)", () => {
    const item = reduceStats(null, new Map(), 5);
    expect(item).toMatchObject({ k: "stats", t: 5, rtt_ms: null, jitter_ms: null, codec: null, audio_level_out: null });
  });

  it("ignores video and non-object entries", () => {
    const r = new Map<string, unknown>([
      ["V", { id: "V", type: "inbound-rtp", kind: "video", packetsReceived: 99 }],
      ["X", 3],
    ]);
    expect(reduceStats(null, r, 0).packets_received).toBeNull();
  });
});

describe("StatsSampler", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("samples on an interval, passing the previous report, and skips failed samples", async () => {
    vi.useFakeTimers();
    const reports = [
      report({ ts: 1000, bytesIn: 0, bytesOut: 0 }),
      null,
      report({ ts: 2000, bytesIn: 1000, bytesOut: 0 }),
    ];
    let i = 0;
    const items: Array<number | null> = [];
    const sampler = new StatsSampler(
      () => {
        const r = reports[i++];
        return r === null || r === undefined ? Promise.reject(new Error("closed")) : Promise.resolve(r);
      },
      (item) => items.push(item.bitrate_in_kbps),
      () => 0,
    );
    sampler.start(1000);
    await vi.advanceTimersByTimeAsync(3000);
    sampler.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(items).toEqual([null, 8]);
  });
});
