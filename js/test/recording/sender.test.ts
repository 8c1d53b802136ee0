import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AudioChunk, AudioSide } from "../../src/recording/chunker";
import { AudioChunkSender, parseAudioAck, type AudioChunkMessage } from "../../src/recording/sender";
import { stashChunks, takeStashedChunks, type Storage } from "../../src/recording/stash";

function chunk(side: AudioSide, t: number, bytes = 8): AudioChunk {
  return { side, t, rate: 24_000, pcm: new Uint8Array(bytes).fill(t % 256) };
}

function setup(options: ConstructorParameters<typeof AudioChunkSender>[2] = {}) {
  const sent: { message: AudioChunkMessage; pcm: Uint8Array }[] = [];
  const sender = new AudioChunkSender("page-1", (message, pcm) => sent.push({ message: { ...message }, pcm: new Uint8Array(pcm) }), options);
  return { sent, sender };
}

function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("AudioChunkSender", () => {
  it("numbers each side's chunks from 1 and sends the samples as a binary buffer", () => {
    const { sent, sender } = setup();
    sender.push(chunk("user", 10));
    sender.push(chunk("assistant", 11));
    sender.push(chunk("user", 12));
    expect(sent.map((s) => [s.message.side, s.message.seq, s.message.t])).toEqual([
      ["user", 1, 10],
      ["assistant", 1, 11],
      ["user", 2, 12],
    ]);
    expect(sent[0]?.message).toMatchObject({ type: "rtw:audio", client: "page-1", rate: 24_000, format: "pcm16" });
    expect(Array.from(sent[0]?.pcm ?? [])).toEqual(new Array<number>(8).fill(10));
  });

  it("resends what is unacknowledged, backing off, and stops once acknowledged", () => {
    const { sent, sender } = setup({ resendMs: 100, maxResendMs: 1000 });
    sender.push(chunk("user", 1));
    sender.push(chunk("user", 2));
    sender.ack({ type: "rtw:audio_ack", client: "page-1", side: "user", seq: 1 });
    vi.advanceTimersByTime(100);
    expect(sent.map((s) => s.message.seq)).toEqual([1, 2, 2]);
    vi.advanceTimersByTime(150);
    expect(sent.map((s) => s.message.seq)).toEqual([1, 2, 2]); // the next resend waits 200 ms
    vi.advanceTimersByTime(50);
    expect(sent.map((s) => s.message.seq)).toEqual([1, 2, 2, 2]);
    sender.ack({ type: "rtw:audio_ack", client: "page-1", side: "user", seq: 2 });
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(4);
    expect(sender.pendingCount).toBe(0);
  });

  it("ignores acks for other sides, other pages and unknown numbers", () => {
    const { sender } = setup();
    sender.push(chunk("user", 1));
    sender.ack({ type: "rtw:audio_ack", client: "page-1", side: "assistant", seq: 1 });
    sender.ack({ type: "rtw:audio_ack", client: "page-2", side: "user", seq: 1 });
    sender.ack({ type: "rtw:audio_ack", client: "page-1", side: "user", seq: 9 });
    expect(sender.pendingCount).toBe(1);
  });

  it("gives up the oldest chunks past its budget of unacknowledged bytes, and counts them", () => {
    const { sender } = setup({ maxPendingBytes: 20 });
    for (let t = 0; t < 4; t++) sender.push(chunk("user", t, 8));
    expect(sender.pendingCount).toBe(2);
    expect(sender.droppedCount).toBe(2);
    expect(sender.unacknowledged().map((c) => c.message.seq)).toEqual([3, 4]);
  });

  it("keeps going when a send throws (the comm closing): the chunk is resent", () => {
    let fail = true;
    const sent: number[] = [];
    const sender = new AudioChunkSender("p", (m) => {
      if (fail) throw new Error("Cannot send");
      sent.push(m.seq);
    }, { resendMs: 10 });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    sender.push(chunk("user", 1));
    fail = false;
    vi.advanceTimersByTime(10);
    expect(sent).toEqual([1]);
  });

  it("parses acks strictly", () => {
    expect(parseAudioAck({ type: "rtw:audio_ack", client: "c", side: "user", seq: 3 })).toEqual({
      type: "rtw:audio_ack",
      client: "c",
      side: "user",
      seq: 3,
    });
    expect(parseAudioAck({ type: "rtw:audio_ack", client: "c", side: "both", seq: 3 })).toBeNull();
    expect(parseAudioAck({ type: "rtw:ack", client: "c", seq: 3 })).toBeNull();
    expect(parseAudioAck({ type: "rtw:audio_ack", client: "c", side: "user", seq: 1.5 })).toBeNull();
  });
});

describe("a page reload", () => {
  it("hands the unacknowledged chunks to the next page, which resends them under their own numbers", () => {
    const storage = memoryStorage();
    const before = setup();
    before.sender.push(chunk("user", 1));
    before.sender.push(chunk("assistant", 2));
    before.sender.ack({ type: "rtw:audio_ack", client: "page-1", side: "user", seq: 1 });
    expect(stashChunks("widget-a", before.sender.unacknowledged(), storage)).toBe(1);

    const sent: AudioChunkMessage[] = [];
    const after = new AudioChunkSender("page-2", (m) => sent.push({ ...m }));
    after.adopt(takeStashedChunks("widget-a", storage));
    expect(sent).toEqual([expect.objectContaining({ client: "page-1", side: "assistant", seq: 1, t: 2 })]);
    after.ack({ type: "rtw:audio_ack", client: "page-1", side: "assistant", seq: 1 });
    expect(after.pendingCount).toBe(0);
    expect(storage.data.size).toBe(0); // taken once
    expect(takeStashedChunks("widget-a", storage)).toEqual([]);
  });

  it("keeps another widget's chunks apart and survives storage that refuses or holds junk", () => {
    const storage = memoryStorage();
    storage.setItem("realtime-widget:audio:widget-b", "not json");
    expect(takeStashedChunks("widget-b", storage)).toEqual([]);
    const refusing: Storage = {
      getItem: () => null,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => undefined,
    };
    const { sender } = setup();
    sender.push(chunk("user", 1));
    expect(stashChunks("widget-a", sender.unacknowledged(), refusing)).toBe(0);
  });
});
