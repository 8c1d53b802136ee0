import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BatchSender } from "../../src/connection/wire";
import type { BatchMessage, EventItem, TimelineItem, WireItem } from "../../src/types";

function timeline(n: number): TimelineItem {
  return { k: "timeline", t: n, what: "ice_state", attempt: 1, detail: { n } };
}

function serverEvent(type: string): EventItem {
  return { k: "event", t: 0, dir: "server", event: { type } };
}

function setup(options: ConstructorParameters<typeof BatchSender>[2] = {}) {
  const sent: BatchMessage[] = [];
  const sender = new BatchSender("client-1", (m) => sent.push(structuredClone(m)), options);
  return { sent, sender };
}

function itemsOf(messages: BatchMessage[]): WireItem[] {
  return messages.flatMap((m) => m.items);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("BatchSender", () => {
  it("flushes 100 ms after the first item, numbering batches from 1", () => {
    const { sent, sender } = setup();
    sender.push(timeline(1));
    vi.advanceTimersByTime(50);
    sender.push(timeline(2));
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(50);
    expect(sent).toEqual([{ type: "rtw:batch", client: "client-1", seq: 1, items: [timeline(1), timeline(2)] }]);
    sender.push(timeline(3));
    vi.advanceTimersByTime(100);
    expect(sent.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("holds timed flushes back while asked to be quiet, but not urgent items", () => {
    const { sent, sender } = setup();
    sender.quietUntil(Date.now() + 250);
    sender.push(timeline(1));
    vi.advanceTimersByTime(200);
    expect(sent).toHaveLength(0); // a connect under way: the kernel is not woken
    sender.push(serverEvent("error"));
    expect(itemsOf(sent)).toEqual([timeline(1), serverEvent("error")]);
    sender.push(timeline(2));
    vi.advanceTimersByTime(250);
    expect(itemsOf(sent)).toHaveLength(3);
    sender.quietUntil(0);
    sender.push(timeline(3));
    vi.advanceTimersByTime(100);
    expect(itemsOf(sent)).toHaveLength(4);
  });

  it("flushes at once at 200 items", () => {
    const { sent, sender } = setup();
    for (let i = 0; i < 199; i++) sender.push(timeline(i));
    expect(sent).toHaveLength(0);
    sender.push(timeline(199));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.items).toHaveLength(200);
  });

  it.each(["response.function_call_arguments.done", "response.done", "error"])(
    "flushes at once after %s, with what was waiting before it",
    (type) => {
      const { sent, sender } = setup();
      sender.push(timeline(1));
      sender.push(serverEvent(type));
      expect(sent).toHaveLength(1);
      expect(sent[0]?.items).toEqual([timeline(1), serverEvent(type)]);
    },
  );

  it("does not flush at once for other events", () => {
    const { sent, sender } = setup();
    sender.push(serverEvent("response.output_audio_transcript.delta"));
    expect(sent).toHaveLength(0);
  });

  it("removes acknowledged batches and resends the rest after 2 s, then backs off", () => {
    const { sent, sender } = setup();
    sender.push(timeline(1));
    sender.flush();
    sender.push(timeline(2));
    sender.flush();
    expect(sender.pendingCount).toBe(2);
    sender.ack(1);
    expect(sender.pendingCount).toBe(1);
    vi.advanceTimersByTime(1999);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 2]);
    vi.advanceTimersByTime(3999);
    expect(sent).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 2, 2]);
    sender.ack(2);
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(4);
    expect(sender.pendingCount).toBe(0);
  });

  it("resends the same batch (same seq, same items) so the kernel can drop duplicates", () => {
    const { sent, sender } = setup();
    sender.push(timeline(1));
    sender.flush();
    vi.advanceTimersByTime(2000);
    expect(sent[1]).toEqual(sent[0]);
  });

  it("ignores unknown and repeated acks", () => {
    const { sender } = setup();
    sender.push(timeline(1));
    sender.flush();
    sender.ack(7);
    expect(sender.pendingCount).toBe(1);
    sender.ack(1);
    sender.ack(1);
    expect(sender.pendingCount).toBe(0);
  });

  it("at the pending cap holds new items back, merges them into one batch, and loses none", () => {
    const { sent, sender } = setup({ maxPending: 3 });
    for (let i = 1; i <= 3; i++) {
      sender.push(timeline(i));
      sender.flush();
    }
    expect(sender.pendingCount).toBe(3);
    for (let i = 4; i <= 8; i++) {
      sender.push(timeline(i));
      sender.flush();
    }
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(sender.waitingCount).toBe(5);
    sender.ack(1);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(sent[3]?.items).toEqual([4, 5, 6, 7, 8].map(timeline));
    expect(sender.waitingCount).toBe(0);
    const delivered = itemsOf(sent).map((i) => (i as TimelineItem).detail["n"]);
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("keeps a batch pending when sending throws, and resends it", () => {
    let fail = true;
    const sent: BatchMessage[] = [];
    const sender = new BatchSender("c", (m) => {
      if (fail) throw new Error("comm closed");
      sent.push(m);
    });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    sender.push(timeline(1));
    sender.flush();
    expect(sender.pendingCount).toBe(1);
    fail = false;
    vi.advanceTimersByTime(2000);
    expect(sent.map((m) => m.seq)).toEqual([1]);
  });

  it("flushes what is waiting on dispose and stops resending", () => {
    const { sent, sender } = setup();
    sender.push(timeline(1));
    sender.dispose();
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(1);
  });
});
