// Cuts one side's captured audio into chunks for the kernel: PCM16 at the capture rate, each with the browser time
// of its first sample. A chunk ends when it is full, or early where the audio stops being continuous (a track
// replaced, a reconnect, a worklet that was starved), so every sample of a chunk sounded where its `t` says.
import { floatToPcm16 } from "../connection/pcm";

export type AudioSide = "user" | "assistant";

export interface AudioChunk {
  side: AudioSide;
  /** Browser time of the first sample, ms since the Unix epoch. */
  t: number;
  rate: number;
  /** Little-endian mono PCM16. */
  pcm: Uint8Array<ArrayBuffer>;
}

/** Blocks whose start is further than this from where the chunk so far ends are not continuous with it. Wider
 * than the timestamps' own wobble (the output clock is read once per 40 ms block), far narrower than a gap. */
export const CONTINUITY_MS = 20;

export class Chunker {
  private blocks: Float32Array[] = [];
  private filled = 0;
  private start = 0;

  constructor(
    readonly side: AudioSide,
    readonly rate: number,
    /** Samples per chunk (at 24 kHz, 12,000 is half a second: 24 kB on the comm). */
    readonly chunkSamples: number,
    private readonly emit: (chunk: AudioChunk) => void,
  ) {}

  /** Samples waiting for the chunk to fill. */
  get waiting(): number {
    return this.filled;
  }

  /** Adds a block of samples whose first sample sounded at `t` (browser ms). */
  push(t: number, samples: Float32Array): void {
    if (samples.length === 0) return;
    if (this.filled > 0 && Math.abs(t - this.expectedNext()) > CONTINUITY_MS) this.flush();
    let offset = 0;
    while (offset < samples.length) {
      if (this.filled === 0) this.start = t + (offset * 1000) / this.rate;
      const n = Math.min(samples.length - offset, this.chunkSamples - this.filled);
      this.blocks.push(samples.subarray(offset, offset + n));
      this.filled += n;
      offset += n;
      if (this.filled === this.chunkSamples) this.flush();
    }
  }

  /** Sends what has been gathered as a (short) chunk. */
  flush(): void {
    if (this.filled === 0) return;
    const joined = new Float32Array(this.filled);
    let at = 0;
    for (const block of this.blocks) {
      joined.set(block, at);
      at += block.length;
    }
    const chunk: AudioChunk = { side: this.side, t: this.start, rate: this.rate, pcm: floatToPcm16(joined) };
    this.blocks = [];
    this.filled = 0;
    this.emit(chunk);
  }

  private expectedNext(): number {
    return this.start + (this.filled * 1000) / this.rate;
  }
}
