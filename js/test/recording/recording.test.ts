import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AudioChunk, AudioSide } from "../../src/recording/chunker";
import { Recording, type Capture } from "../../src/recording/recording";
import type { AudioChunkMessage } from "../../src/recording/sender";

class FakeCapture implements Capture {
  readonly attached: AudioSide[] = [];
  flushed = 0;
  constructor(readonly emit: (chunk: AudioChunk) => void) {}
  attach(side: AudioSide): void {
    this.attached.push(side);
  }
  detachAll(): void {
    this.attached.length = 0;
  }
  flush(): void {
    this.flushed++;
    this.emit({ side: "user", t: 99, rate: 24_000, pcm: new Uint8Array(4) });
  }
  resume(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Recording", () => {
  it("sends the capture's chunks, takes its acks, and flushes when the page goes away", () => {
    const sent: AudioChunkMessage[] = [];
    let capture: FakeCapture | null = null;
    const recording = new Recording(
      { instanceId: "w", client: "page", send: (m) => sent.push(m), problem: () => undefined },
      (onChunk) => (capture = new FakeCapture(onChunk)),
    );
    expect(recording.isActive).toBe(false);
    recording.attach("user", () => null);
    recording.attach("assistant", () => null);
    expect(recording.isActive).toBe(true);
    expect(capture!.attached).toEqual(["user", "assistant"]);

    recording.pageHide();
    expect(sent.map((m) => [m.side, m.seq, m.t])).toEqual([["user", 1, 99]]);
    expect(recording.takeAck({ type: "rtw:audio_ack", client: "page", side: "user", seq: 1 })).toBe(true);
    expect(recording.takeAck({ type: "rtw:ack", client: "page", seq: 1 })).toBe(false);
    expect(recording.sender.pendingCount).toBe(0);

    recording.stop();
    expect(recording.isActive).toBe(false);
    expect(capture!.attached).toEqual([]);
  });
});
