// Unacknowledged audio chunks survive a page reload in sessionStorage (it lives as long as the tab), so the next
// page of the same widget sends them again. The event batches go out on `pagehide` and the kernel's own record
// redraws the page; audio chunks are larger and a reload can catch some in flight, hence this extra step.
import { base64ToBytes, bytesToBase64 } from "../connection/pcm";
import type { AudioChunkMessage, PendingChunk } from "./sender";

/** sessionStorage holds about 5 MB per origin; audio beyond this stays with the closing page (and is counted). */
export const STASH_LIMIT_CHARS = 2_000_000;

interface Stored {
  message: AudioChunkMessage;
  pcm: string;
}

export interface Storage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function isStored(value: unknown): value is Stored {
  if (typeof value !== "object" || value === null) return false;
  const { message, pcm } = value as Record<string, unknown>;
  return typeof pcm === "string" && typeof message === "object" && message !== null && (message as Record<string, unknown>)["type"] === "rtw:audio";
}

function storageKey(instanceId: string): string {
  return `realtime-widget:audio:${instanceId}`;
}

function defaultStorage(): Storage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null; // a sandboxed frame without storage
  }
}

/** Keeps `chunks` for the next page of this widget, newest dropped first past the limit; returns how many fit. */
export function stashChunks(instanceId: string, chunks: readonly PendingChunk[], storage = defaultStorage()): number {
  if (storage === null || chunks.length === 0) return 0;
  const kept: Stored[] = [];
  let size = 0;
  for (const chunk of chunks) {
    const pcm = bytesToBase64(chunk.pcm);
    size += pcm.length + 200;
    if (size > STASH_LIMIT_CHARS) break;
    kept.push({ message: chunk.message, pcm });
  }
  try {
    storage.setItem(storageKey(instanceId), JSON.stringify(kept));
    return kept.length;
  } catch {
    return 0; // storage full or refused: the chunks were sent once already, and may well have arrived
  }
}

/** Takes (and removes) what an earlier page of this widget stashed. */
export function takeStashedChunks(instanceId: string, storage = defaultStorage()): PendingChunk[] {
  if (storage === null) return [];
  let text: string | null;
  try {
    text = storage.getItem(storageKey(instanceId));
    storage.removeItem(storageKey(instanceId));
  } catch {
    return [];
  }
  if (text === null) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(isStored).map((s) => ({ message: s.message, pcm: base64ToBytes(s.pcm) }));
  } catch {
    return [];
  }
}
