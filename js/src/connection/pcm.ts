// The API's `audio/pcm` (mono PCM16, little-endian, 24 kHz) as the WebSocket transport sends and receives it:
// conversion from and to Web Audio's float samples, base64 both ways, and the ledger of what has been played.

/** The only rate `audio/pcm` allows (reference/protocol-facts.md §6). */
export const PCM_RATE = 24_000;

/** Float samples in -1..1 as PCM16 little-endian bytes (clipped, not wrapped). */
export function floatToPcm16(samples: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    out.setInt16(i * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
  }
  return new Uint8Array(out.buffer);
}

/** PCM16 little-endian bytes as float samples; an odd trailing byte is ignored. */
export function pcm16ToFloat(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(Math.floor(bytes.byteLength / 2));
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 0x8000;
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000; // String.fromCharCode takes arguments on the stack
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** One assistant item's audio in the play queue, in samples since the queue was created. */
interface Segment {
  itemId: string;
  contentIndex: number;
  start: number;
  end: number;
}

/** Where in an item playback stopped: what `conversation.item.truncate` needs. */
export interface HeardPosition {
  itemId: string;
  contentIndex: number;
  audioEndMs: number;
}

/**
 * What was queued for playback, item by item, so that a count of samples played (from the player) says which
 * item was playing and how much of it was heard. Over WebSocket the client plays the audio, so only it knows.
 */
export class PlaybackLedger {
  private segments: Segment[] = [];
  private queued = 0;

  /** Samples queued so far (the player's clock runs on the same count). */
  get queuedSamples(): number {
    return this.queued;
  }

  add(itemId: string, contentIndex: number, samples: number): void {
    const last = this.segments.at(-1);
    if (last !== undefined && last.itemId === itemId && last.contentIndex === contentIndex) {
      last.end += samples;
    } else {
      this.segments.push({ itemId, contentIndex, start: this.queued, end: this.queued + samples });
    }
    this.queued += samples;
  }

  /**
   * The queue was flushed after `played` samples: the item cut short (null when nothing was left unplayed), and
   * the ledger continues from there.
   */
  flush(played: number): HeardPosition | null {
    const cut = this.segments.find((s) => played < s.end);
    const heard =
      cut === undefined
        ? null
        : {
            itemId: cut.itemId,
            contentIndex: cut.contentIndex,
            audioEndMs: Math.floor((Math.max(0, played - cut.start) * 1000) / PCM_RATE),
          };
    this.segments = [];
    this.queued = Math.max(played, 0);
    return heard;
  }

  /** Forget segments wholly played (keeps the ledger short over a long session). */
  trim(played: number): void {
    while (this.segments.length > 1 && (this.segments[0]?.end ?? Infinity) <= played) this.segments.shift();
  }
}
