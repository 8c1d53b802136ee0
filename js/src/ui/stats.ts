// Formats getStats samples for the compact stats strip. Pure.
import type { StatsItem } from "../types";

export type StatKey = "rtt" | "jitter" | "loss" | "in" | "out" | "latency";
export type Level = "ok" | "warn" | "bad" | "none";

export interface StatCell {
  key: StatKey;
  label: string;
  value: string;
  level: Level;
  /** The longer explanation shown on hover and read by screen readers. */
  title: string;
}

// Where a call starts to sound worse; rough, but the usual figures for interactive voice.
const RTT_MS = { warn: 150, bad: 300 };
const JITTER_MS = { warn: 30, bad: 50 };
const LOSS_PCT = { warn: 1, bad: 5 };
const LATENCY_MS = { warn: 1200, bad: 2000 };

const DASH = "—";

function finite(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function level(value: number | null, limits: { warn: number; bad: number }): Level {
  if (value === null) return "none";
  if (value >= limits.bad) return "bad";
  if (value >= limits.warn) return "warn";
  return "ok";
}

export function formatMs(ms: number | null | undefined): string {
  if (!finite(ms)) return DASH;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatKbps(kbps: number | null | undefined): string {
  if (!finite(kbps)) return DASH;
  if (kbps >= 1000) return `${(kbps / 1000).toFixed(1)} Mbps`;
  return `${kbps < 10 ? kbps.toFixed(1) : Math.round(kbps)} kbps`;
}

export function formatPercent(pct: number | null): string {
  if (!finite(pct)) return DASH;
  return `${pct < 10 ? pct.toFixed(1) : Math.round(pct)} %`;
}

/**
 * Packet loss in percent: over the last interval when the previous sample allows it (so an early burst does not
 * colour the whole call), otherwise over the whole call.
 */
export function lossPercent(current: StatsItem, previous: StatsItem | null): number | null {
  const received = current.packets_received;
  const lost = current.packets_lost;
  if (!finite(received) || !finite(lost)) return null;
  if (previous && finite(previous.packets_received) && finite(previous.packets_lost)) {
    const dReceived = received - previous.packets_received;
    const dLost = lost - previous.packets_lost;
    // Counters that went backwards mean a new connection: fall through to the cumulative figure.
    if (dReceived >= 0 && dLost >= 0 && dReceived + dLost > 0) return (100 * dLost) / (dReceived + dLost);
  }
  const total = received + Math.max(0, lost);
  return total > 0 ? (100 * Math.max(0, lost)) / total : null;
}

export function formatStats(
  current: StatsItem | null,
  previous: StatsItem | null = null,
  voiceLatencyMs: number | null = null,
): StatCell[] {
  const rtt = finite(current?.rtt_ms) ? current.rtt_ms : null;
  const jitter = finite(current?.jitter_ms) ? current.jitter_ms : null;
  const loss = current ? lossPercent(current, previous) : null;
  const latency = finite(voiceLatencyMs) ? voiceLatencyMs : null;
  return [
    { key: "rtt", label: "RTT", value: formatMs(rtt), level: level(rtt, RTT_MS), title: "Round-trip time to the server" },
    { key: "jitter", label: "Jitter", value: formatMs(jitter), level: level(jitter, JITTER_MS), title: "Variation in arrival time of incoming audio" },
    { key: "loss", label: "Loss", value: formatPercent(loss), level: level(loss, LOSS_PCT), title: "Incoming audio packets lost" },
    { key: "in", label: "In", value: formatKbps(current?.bitrate_in_kbps), level: "none", title: "Bitrate of the assistant's audio arriving" },
    { key: "out", label: "Out", value: formatKbps(current?.bitrate_out_kbps), level: "none", title: "Bitrate of your microphone audio leaving" },
    {
      key: "latency",
      label: "Latency",
      value: formatMs(latency),
      level: level(latency, LATENCY_MS),
      title: "Last voice-to-voice latency: from the end of your speech to the assistant's first sound, as heard here",
    },
  ];
}
