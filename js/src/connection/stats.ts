// getStats sampling: a pure reducer from two successive reports to one StatsItem, and a sampler around it.
// Field names follow the W3C webrtc-stats dictionaries (RTCInboundRtpStreamStats, RTCIceCandidatePairStats, ...).
import type { StatsItem } from "../types";

/** What `RTCPeerConnection.getStats()` resolves to, reduced to what the reducer reads. */
export type StatsReportLike = ReadonlyMap<string, unknown>;

type Entry = Record<string, unknown>;

function entries(report: StatsReportLike): Entry[] {
  const out: Entry[] = [];
  report.forEach((value) => {
    if (typeof value === "object" && value !== null) out.push(value as Entry);
  });
  return out;
}

function num(entry: Entry | undefined, key: string): number | null {
  const v = entry?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function byId(report: StatsReportLike, id: unknown): Entry | undefined {
  if (typeof id !== "string") return undefined;
  const v = report.get(id);
  return typeof v === "object" && v !== null ? (v as Entry) : undefined;
}

function audioRtp(list: Entry[], type: string): Entry | undefined {
  return list.find((e) => e["type"] === type && (e["kind"] ?? e["mediaType"]) === "audio");
}

function selectedPair(report: StatsReportLike, list: Entry[]): Entry | undefined {
  for (const t of list) {
    if (t["type"] !== "transport") continue;
    const pair = byId(report, t["selectedCandidatePairId"]);
    if (pair !== undefined) return pair;
  }
  return list.find((e) => e["type"] === "candidate-pair" && e["nominated"] === true && e["state"] === "succeeded");
}

function seconds(value: number | null): number | null {
  return value === null ? null : value * 1000;
}

/** kbps from a byte counter between two samples (bits per ms = kbit/s). */
function kbps(bytes: number | null, prevBytes: number | null, ts: number | null, prevTs: number | null): number | null {
  if (bytes === null || prevBytes === null || ts === null || prevTs === null) return null;
  const dt = ts - prevTs;
  if (dt <= 0 || bytes < prevBytes) return null;
  return ((bytes - prevBytes) * 8) / dt;
}

export function reduceStats(prev: StatsReportLike | null, cur: StatsReportLike, t: number): StatsItem {
  const list = entries(cur);
  const prevList = prev === null ? [] : entries(prev);
  const inbound = audioRtp(list, "inbound-rtp");
  const outbound = audioRtp(list, "outbound-rtp");
  const prevInbound = audioRtp(prevList, "inbound-rtp");
  const prevOutbound = audioRtp(prevList, "outbound-rtp");
  const remoteInbound = audioRtp(list, "remote-inbound-rtp");
  const source =
    byId(cur, outbound?.["mediaSourceId"]) ??
    list.find((e) => e["type"] === "media-source" && e["kind"] === "audio");
  const codec = byId(cur, inbound?.["codecId"]) ?? byId(cur, outbound?.["codecId"]);
  const mime = codec?.["mimeType"];

  const rtt = seconds(num(selectedPair(cur, list), "currentRoundTripTime") ?? num(remoteInbound, "roundTripTime"));
  const bytesIn = num(inbound, "bytesReceived");
  const bytesOut = num(outbound, "bytesSent");

  return {
    k: "stats",
    t,
    rtt_ms: rtt,
    jitter_ms: seconds(num(inbound, "jitter")),
    packets_received: num(inbound, "packetsReceived"),
    packets_lost: num(inbound, "packetsLost"),
    bytes_received: bytesIn,
    bytes_sent: bytesOut,
    bitrate_in_kbps: kbps(bytesIn, num(prevInbound, "bytesReceived"), num(inbound, "timestamp"), num(prevInbound, "timestamp")),
    bitrate_out_kbps: kbps(bytesOut, num(prevOutbound, "bytesSent"), num(outbound, "timestamp"), num(prevOutbound, "timestamp")),
    audio_level_in: num(inbound, "audioLevel"),
    audio_level_out: num(source, "audioLevel"),
    codec: typeof mime === "string" ? mime : null,
  };
}

/** Samples `getStats` every `intervalMs` until stopped; a failed sample is skipped, not fatal. */
export class StatsSampler {
  private timer: ReturnType<typeof setInterval> | null = null;
  private prev: StatsReportLike | null = null;
  private busy = false;

  constructor(
    private readonly getStats: () => Promise<StatsReportLike>,
    private readonly onSample: (item: StatsItem) => void,
    private readonly clock: () => number,
  ) {}

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const report = await this.getStats();
      if (this.timer === null) return;
      this.onSample(reduceStats(this.prev, report, this.clock()));
      this.prev = report;
    } catch {
      // getStats rejects once the pc is closed; the next tick (if any) tries again.
    } finally {
      this.busy = false;
    }
  }
}
