import { describe, expect, it } from "vitest";
import type { EventItem } from "../../src/types";
import { DEFAULT_FILTER, EventLogModel, RingBuffer, formatClock, matches, summary, toRow } from "../../src/ui/eventLog";
import { clientEvent, serverEvent } from "./fakes";

describe("RingBuffer", () => {
  it("keeps the newest values up to its capacity", () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.push(1)).toBeUndefined();
    ring.push(2);
    ring.push(3);
    expect(ring.push(4)).toBe(1);
    expect(ring.size).toBe(3);
    expect(ring.newest(10)).toEqual([4, 3, 2]);
  });

  it("returns the newest matching values, up to a limit", () => {
    const ring = new RingBuffer<number>(10);
    for (let i = 1; i <= 10; i += 1) ring.push(i);
    expect(ring.newest(2, (n) => n % 2 === 1)).toEqual([9, 7]);
  });

  it("rejects a useless capacity", () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});

const items: EventItem[] = [
  clientEvent({ type: "session.update", session: {} }),
  serverEvent({ type: "session.updated", session: {} }),
  serverEvent({ type: "input_audio_buffer.speech_started", item_id: "u1" }),
  serverEvent({ type: "conversation.item.input_audio_transcription.delta", item_id: "u1", delta: "hi" }),
  serverEvent({ type: "conversation.item.added", item: {} }),
  serverEvent({ type: "response.output_audio_transcript.delta", item_id: "a1", delta: "Hello" }),
  serverEvent({ type: "output_audio_buffer.started", response_id: "r1" }),
  serverEvent({ type: "response.done", response: { id: "r1", status: "failed" } }),
  serverEvent({ type: "error", error: { type: "invalid_request_error", message: "Unknown parameter" } }),
  serverEvent({ type: "conversation.item.input_audio_transcription.failed", item_id: "u1" }),
  { k: "event", t: 0, dir: "server", event: null, raw: "not json {" },
];

function typesFor(filter: Partial<typeof DEFAULT_FILTER>): string[] {
  return items.map((item, i) => toRow(item, i + 1)).filter((row) => matches(row, { ...DEFAULT_FILTER, ...filter })).map((r) => r.type);
}

describe("filters", () => {
  it("'all' shows everything", () => {
    expect(typesFor({})).toHaveLength(items.length);
  });

  it("'errors' shows error events, failures and unparseable messages", () => {
    expect(typesFor({ chip: "errors" })).toEqual([
      "response.done",
      "error",
      "conversation.item.input_audio_transcription.failed",
      "(not JSON)",
    ]);
  });

  it("'input' shows the input buffer and its transcription", () => {
    expect(typesFor({ chip: "input" })).toEqual([
      "input_audio_buffer.speech_started",
      "conversation.item.input_audio_transcription.delta",
      "conversation.item.input_audio_transcription.failed",
    ]);
  });

  it("'response' includes the output audio buffer", () => {
    expect(typesFor({ chip: "response" })).toEqual([
      "response.output_audio_transcript.delta",
      "output_audio_buffer.started",
      "response.done",
    ]);
  });

  it("'sent' shows what the browser sent", () => {
    expect(typesFor({ chip: "sent" })).toEqual(["session.update"]);
  });

  it("text matches every word in the type, ignoring case", () => {
    expect(typesFor({ text: "SESSION" })).toEqual(["session.update", "session.updated"]);
    expect(typesFor({ text: "transcription delta" })).toEqual(["conversation.item.input_audio_transcription.delta"]);
  });

  it("hiding deltas combines with a chip", () => {
    expect(typesFor({ chip: "input", hideDeltas: true })).toEqual([
      "input_audio_buffer.speech_started",
      "conversation.item.input_audio_transcription.failed",
    ]);
  });
});

describe("rows", () => {
  it("summaries show what a person looks for first", () => {
    const rows = items.map((item, i) => toRow(item, i + 1));
    expect(summary(rows[5]!)).toBe('"Hello"');
    expect(summary(rows[7]!)).toBe("failed");
    expect(summary(rows[8]!)).toBe("Unknown parameter");
    expect(summary(rows[2]!)).toBe("u1");
    expect(summary(rows[10]!)).toBe("not json {");
  });

  it("times are local wall-clock with milliseconds", () => {
    const t = new Date(2026, 10, 25, 9, 5, 7, 42).getTime();
    expect(formatClock(t)).toBe("09:05:07.042");
  });
});

describe("EventLogModel", () => {
  it("counts every event but keeps only the newest", () => {
    const log = new EventLogModel(5);
    for (let i = 0; i < 12; i += 1) log.push(serverEvent({ type: i % 2 ? "error" : "response.done" }, i));
    expect(log.total).toBe(12);
    expect(log.kept).toBe(5);
    const visible = log.visible({ ...DEFAULT_FILTER, chip: "errors" }, 10);
    expect(visible.map((r) => r.n)).toEqual([12, 10, 8]);
  });
});
