import { describe, expect, it } from "vitest";
import { Chunker, type AudioChunk } from "../../src/recording/chunker";

const RATE = 1000; // one sample per ms keeps the arithmetic readable

function setup(chunkSamples = 10) {
  const chunks: AudioChunk[] = [];
  const chunker = new Chunker("user", RATE, chunkSamples, (c) => chunks.push(c));
  return { chunks, chunker };
}

function samples(n: number, value = 0.5): Float32Array {
  return new Float32Array(n).fill(value);
}

function valuesOf(chunk: AudioChunk): number[] {
  return Array.from(new Int16Array(chunk.pcm.buffer));
}

describe("Chunker", () => {
  it("cuts continuous blocks into full chunks, each stamped with its first sample's time", () => {
    const { chunks, chunker } = setup();
    chunker.push(100, samples(4));
    chunker.push(104, samples(4));
    chunker.push(108, samples(8));
    expect(chunks.map((c) => [c.t, c.pcm.byteLength])).toEqual([[100, 20]]);
    expect(chunker.waiting).toBe(6);
    chunker.flush();
    expect(chunks.map((c) => [c.t, c.pcm.byteLength])).toEqual([
      [100, 20],
      [110, 12],
    ]);
    expect(chunks[0]?.rate).toBe(RATE);
  });

  it("converts to PCM16, clipping rather than wrapping", () => {
    const { chunks, chunker } = setup(3);
    chunker.push(0, Float32Array.from([1.5, -1.5, 0.5]));
    expect(valuesOf(chunks[0] as AudioChunk)).toEqual([32767, -32768, Math.round(0.5 * 32767)]);
  });

  it("ends a chunk where the audio stops being continuous, so each chunk's samples are where its time says", () => {
    const { chunks, chunker } = setup();
    chunker.push(100, samples(4));
    chunker.push(104 + 5, samples(4)); // timestamp wobble: still continuous
    chunker.push(500, samples(2)); // a new track or a reconnect: a new stretch
    chunker.flush();
    expect(chunks.map((c) => [c.t, c.pcm.byteLength / 2])).toEqual([
      [100, 8],
      [500, 2],
    ]);
  });

  it("sends nothing for an empty flush or block", () => {
    const { chunks, chunker } = setup();
    chunker.push(0, new Float32Array(0));
    chunker.flush();
    expect(chunks).toEqual([]);
  });
});
