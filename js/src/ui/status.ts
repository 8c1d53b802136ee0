// What each connection status means to the person looking at the widget. Pure.
import type { Status } from "../types";

const LABELS: Record<Status, string> = {
  idle: "Not connected",
  minting: "Getting a key…",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
  failed: "Connection failed",
};

export function statusLabel(status: Status): string {
  return LABELS[status];
}

/** Statuses in which a connection attempt is under way or up: the primary button disconnects/cancels. */
export function isActive(status: Status): boolean {
  return status === "minting" || status === "connecting" || status === "connected" || status === "reconnecting";
}

export function isPending(status: Status): boolean {
  return status === "minting" || status === "connecting" || status === "reconnecting";
}

export interface PrimaryAction {
  action: "connect" | "disconnect";
  label: string;
}

export function primaryAction(status: Status): PrimaryAction {
  if (status === "connected") return { action: "disconnect", label: "Disconnect" };
  if (isPending(status)) return { action: "disconnect", label: "Cancel" };
  if (status === "failed") return { action: "connect", label: "Try again" };
  return { action: "connect", label: "Connect" };
}

/** 65 s → "01:05"; an hour or more → "1:00:05". Negative or missing time counts as zero. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mmss = `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}
