import { describe, expect, it } from "vitest";
import type { RealtimeEvent, ToolStatusMessage } from "../../src/types";
import {
  EMPTY_TRANSCRIPT,
  MAX_ENTRIES,
  type Entry,
  type MessageEntry,
  type ToolEntry,
  type TranscriptInput,
  type TranscriptState,
  announcement,
  buildTranscript,
  heardLength,
  reduceTranscript,
} from "../../src/ui/transcript";
import { clientEvent, serverEvent } from "./fakes";

const s = (event: RealtimeEvent): TranscriptInput => ({ kind: "event", item: serverEvent(event) });
const c = (event: RealtimeEvent): TranscriptInput => ({ kind: "event", item: clientEvent(event) });
const tool = (m: Omit<ToolStatusMessage, "name">): TranscriptInput => ({ kind: "tool", message: { name: "tool_status", ...m } });

function entries(state: TranscriptState): Entry[] {
  return state.order.map((id) => state.entries.get(id)!);
}
function message(state: TranscriptState, id: string): MessageEntry {
  const e = state.entries.get(id);
  if (e?.kind !== "message") throw new Error(`${id} is not a message`);
  return e;
}
function toolEntry(state: TranscriptState, id: string): ToolEntry {
  const e = state.entries.get(id);
  if (e?.kind !== "tool") throw new Error(`${id} is not a tool call`);
  return e;
}

const userAudioItem = (id: string) => ({
  id,
  type: "message",
  role: "user",
  status: "completed",
  content: [{ type: "input_audio", transcript: null }],
});

/** A complete voice turn: the user speaks, the assistant answers in audio. */
const voiceTurn: TranscriptInput[] = [
  s({ type: "input_audio_buffer.speech_started", item_id: "u1", audio_start_ms: 100 }),
  s({ type: "input_audio_buffer.speech_stopped", item_id: "u1", audio_end_ms: 900 }),
  s({ type: "input_audio_buffer.committed", item_id: "u1", previous_item_id: null }),
  s({ type: "conversation.item.added", previous_item_id: null, item: userAudioItem("u1") }),
  s({ type: "response.created", response: { id: "r1", status: "in_progress" } }),
  s({ type: "response.output_item.added", response_id: "r1", item: { id: "a1", type: "message", role: "assistant", status: "in_progress", content: [] } }),
  s({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "Hello" }),
  // The user's transcription often lands after the answer has started: it must stay above it.
  s({ type: "conversation.item.input_audio_transcription.delta", item_id: "u1", delta: "Hi " }),
  s({ type: "conversation.item.input_audio_transcription.delta", item_id: "u1", delta: "there" }),
  s({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: ", how can I help?" }),
  s({ type: "conversation.item.input_audio_transcription.completed", item_id: "u1", transcript: "Hi there." }),
  s({ type: "response.output_audio_transcript.done", response_id: "r1", item_id: "a1", transcript: "Hello, how can I help?" }),
  s({ type: "response.output_item.done", response_id: "r1", item: { id: "a1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_audio", transcript: "Hello, how can I help?" }] } }),
  s({ type: "response.done", response: { id: "r1", status: "completed", output: [] } }),
];

describe("voice turns", () => {
  it("shows the user's bubble when they start speaking, before any words", () => {
    const state = buildTranscript(voiceTurn.slice(0, 1));
    expect(entries(state)).toMatchObject([{ id: "u1", role: "user", text: "", final: false }]);
  });

  it("streams deltas, then keeps the finished text, ordered by conversation item", () => {
    const state = buildTranscript(voiceTurn);
    expect(entries(state).map((e) => e.id)).toEqual(["u1", "a1"]);
    expect(message(state, "u1")).toMatchObject({ role: "user", text: "Hi there.", final: true, via: "voice" });
    expect(message(state, "a1")).toMatchObject({
      role: "assistant",
      text: "Hello, how can I help?",
      final: true,
      interrupted: false,
      responseId: "r1",
    });
  });

  it("shows partial text while streaming", () => {
    const state = buildTranscript(voiceTurn.slice(0, 9));
    expect(message(state, "u1")).toMatchObject({ text: "Hi there", final: false });
    expect(message(state, "a1")).toMatchObject({ text: "Hello", final: false });
  });

  it("places a user item after the one the server names as previous", () => {
    const state = buildTranscript([
      s({ type: "response.output_audio_transcript.delta", response_id: "r0", item_id: "a0", delta: "Earlier answer" }),
      s({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "Later answer" }),
      // A late event about u1, which sits between a0 and a1 in the conversation.
      s({ type: "conversation.item.input_audio_transcription.delta", item_id: "u1", delta: "question" }),
      s({ type: "conversation.item.added", previous_item_id: "a0", item: userAudioItem("u1") }),
    ]);
    expect(state.order).toEqual(["a0", "u1", "a1"]);
  });

  it("text output streams the same way", () => {
    const state = buildTranscript([
      s({ type: "response.output_text.delta", response_id: "r1", item_id: "a1", delta: "4" }),
      s({ type: "response.output_text.delta", response_id: "r1", item_id: "a1", delta: "2" }),
      s({ type: "response.output_text.done", response_id: "r1", item_id: "a1", text: "42" }),
    ]);
    expect(message(state, "a1")).toMatchObject({ text: "42", final: true, role: "assistant" });
  });

  it("a failed transcription is final and flagged", () => {
    const state = buildTranscript([
      s({ type: "input_audio_buffer.speech_started", item_id: "u1" }),
      s({ type: "conversation.item.input_audio_transcription.failed", item_id: "u1", error: { message: "x" } }),
    ]);
    expect(message(state, "u1")).toMatchObject({ final: true, failed: true });
    expect(announcement(message(state, "u1"))).toBe("You: (speech not transcribed)");
  });

  it("late deltas after the final text do not append", () => {
    const state = buildTranscript([
      ...voiceTurn,
      s({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: " extra" }),
    ]);
    expect(message(state, "a1").text).toBe("Hello, how can I help?");
  });
});

describe("interruption", () => {
  const started = [
    s({ type: "response.output_item.added", response_id: "r1", item: { id: "a1", type: "message", role: "assistant", content: [] } }),
    s({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "Once upon a time" }),
  ];

  it("a cancelled response marks its messages interrupted and final", () => {
    const state = buildTranscript([
      ...started,
      s({ type: "response.done", response: { id: "r1", status: "cancelled", status_details: { type: "cancelled", reason: "turn_detected" } } }),
    ]);
    expect(message(state, "a1")).toMatchObject({ text: "Once upon a time", final: true, interrupted: true });
    expect(announcement(message(state, "a1"))).toBe("Assistant: Once upon a time (interrupted)");
  });

  it("a barge-in truncation or a cleared audio buffer marks it too", () => {
    const truncated = buildTranscript([...started, s({ type: "conversation.item.truncated", item_id: "a1", content_index: 0, audio_end_ms: 1500 })]);
    expect(message(truncated, "a1").interrupted).toBe(true);
    const cleared = buildTranscript([...started, s({ type: "output_audio_buffer.cleared", response_id: "r1" })]);
    expect(message(cleared, "a1").interrupted).toBe(true);
  });

  it("an incomplete output item is interrupted", () => {
    const state = buildTranscript([
      ...started,
      s({ type: "response.output_item.done", response_id: "r1", item: { id: "a1", type: "message", role: "assistant", status: "incomplete", content: [] } }),
    ]);
    expect(message(state, "a1")).toMatchObject({ interrupted: true, final: true, text: "Once upon a time" });
  });

  it("a completed response is not interrupted", () => {
    const state = buildTranscript([...started, s({ type: "response.done", response: { id: "r1", status: "completed" } })]);
    expect(message(state, "a1")).toMatchObject({ final: true, interrupted: false });
  });
});

describe("typed messages", () => {
  const create = c({
    type: "conversation.item.create",
    event_id: "evt_1",
    item: { type: "message", role: "user", content: [{ type: "input_text", text: "What is 2+2?" }] },
  });

  it("appear at once when sent, as final text", () => {
    const state = buildTranscript([create]);
    expect(entries(state)).toMatchObject([{ id: "local:evt_1", role: "user", text: "What is 2+2?", final: true, via: "text" }]);
  });

  it("take the server's id when it echoes the item, without a duplicate", () => {
    const state = buildTranscript([
      create,
      s({
        type: "conversation.item.added",
        previous_item_id: null,
        item: { id: "item_9", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "What is 2+2?" }] },
      }),
      s({ type: "conversation.item.done", item: { id: "item_9", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "What is 2+2?" }] } }),
    ]);
    expect(entries(state)).toMatchObject([{ id: "item_9", text: "What is 2+2?", via: "text", final: true }]);
  });

  it("typed by Python (seen only from the server) show up too", () => {
    const state = buildTranscript([
      s({ type: "conversation.item.added", item: { id: "i1", type: "message", role: "user", content: [{ type: "input_text", text: "From Python" }] } }),
    ]);
    expect(entries(state)).toMatchObject([{ id: "i1", text: "From Python", final: true, via: "text" }]);
  });

  it("system messages are not part of the conversation", () => {
    const state = buildTranscript([
      s({ type: "conversation.item.added", item: { id: "sys", type: "message", role: "system", content: [{ type: "input_text", text: "rules" }] } }),
    ]);
    expect(state.order).toEqual([]);
  });
});

describe("tool calls", () => {
  const call = [
    s({ type: "response.output_item.added", response_id: "r1", item: { id: "fc1", type: "function_call", call_id: "call_1", name: "lookup", arguments: "" } }),
    s({ type: "response.function_call_arguments.delta", response_id: "r1", item_id: "fc1", call_id: "call_1", delta: '{"city":' }),
    s({ type: "response.function_call_arguments.delta", response_id: "r1", item_id: "fc1", call_id: "call_1", delta: '"Oslo"}' }),
  ];

  it("stream their arguments, then wait for Python", () => {
    const streaming = buildTranscript(call);
    expect(toolEntry(streaming, "fc1")).toMatchObject({ name: "lookup", arguments: '{"city":"Oslo"}', state: "calling", callId: "call_1" });
    const done = buildTranscript([
      ...call,
      s({ type: "response.function_call_arguments.done", response_id: "r1", item_id: "fc1", call_id: "call_1", name: "lookup", arguments: '{"city":"Oslo"}' }),
    ]);
    expect(toolEntry(done, "fc1").state).toBe("requested");
  });

  it("show the result the kernel reports", () => {
    const state = buildTranscript([
      ...call,
      tool({ call_id: "call_1", state: "running", tool: "lookup", arguments: '{"city":"Oslo"}' }),
      tool({ call_id: "call_1", state: "done", tool: "lookup", arguments: '{"city":"Oslo"}', output: '{"temp": 3}' }),
    ]);
    expect(entries(state)).toHaveLength(1);
    expect(toolEntry(state, "fc1")).toMatchObject({ state: "done", output: '{"temp": 3}' });
  });

  it("show the error the kernel reports", () => {
    const state = buildTranscript([...call, tool({ call_id: "call_1", state: "error", tool: "lookup", arguments: "{}", error: "KeyError: 'Oslo'" })]);
    expect(toolEntry(state, "fc1")).toMatchObject({ state: "error", error: "KeyError: 'Oslo'" });
    expect(announcement(toolEntry(state, "fc1"))).toBe("Tool lookup failed: KeyError: 'Oslo'");
  });

  it("take the output from the function_call_output the browser sent", () => {
    const state = buildTranscript([
      ...call,
      c({ type: "conversation.item.create", item: { type: "function_call_output", call_id: "call_1", output: "sunny" } }),
    ]);
    expect(toolEntry(state, "fc1")).toMatchObject({ state: "done", output: "sunny" });
  });

  it("a kernel report before the event is merged into the call when the event arrives", () => {
    const state = buildTranscript([tool({ call_id: "call_1", state: "running", tool: "lookup", arguments: "{}" }), ...call]);
    expect(state.order).toEqual(["fc1"]);
    expect(toolEntry(state, "fc1")).toMatchObject({ state: "running", name: "lookup" });
  });

  it("keep the arguments seen on the data channel over the kernel's copy", () => {
    const state = buildTranscript([
      ...call,
      tool({ call_id: "call_1", state: "running", tool: "lookup", arguments: "{}" }),
    ]);
    expect(toolEntry(state, "fc1").arguments).toBe('{"city":"Oslo"}');
  });

  it("a late 'running' does not undo 'done'", () => {
    const state = buildTranscript([
      ...call,
      tool({ call_id: "call_1", state: "done", tool: "lookup", arguments: "{}", output: "ok" }),
      tool({ call_id: "call_1", state: "running", tool: "lookup", arguments: "{}" }),
    ]);
    expect(toolEntry(state, "fc1").state).toBe("done");
  });

  it("sit inline between the messages of the turn", () => {
    const state = buildTranscript([
      s({ type: "conversation.item.added", item: userAudioItem("u1") }),
      ...call,
      s({ type: "response.output_audio_transcript.delta", response_id: "r2", item_id: "a2", delta: "It is 3 degrees." }),
    ]);
    expect(state.order).toEqual(["u1", "fc1", "a2"]);
  });
});

describe("state handling", () => {
  it("returns the same state for events that change nothing", () => {
    const state = buildTranscript(voiceTurn);
    expect(reduceTranscript(state, s({ type: "rate_limits.updated", rate_limits: [] }))).toBe(state);
    expect(reduceTranscript(state, { kind: "event", item: { k: "event", t: 0, dir: "server", event: null, raw: "x" } })).toBe(state);
    expect(reduceTranscript(state, s({ type: "response.done", response: { id: "r1", status: "completed" } }))).toBe(state);
  });

  it("keeps unchanged entries by reference", () => {
    const before = buildTranscript(voiceTurn.slice(0, 7));
    const after = reduceTranscript(before, voiceTurn[7]!);
    expect(after.entries.get("a1")).toBe(before.entries.get("a1"));
    expect(after.entries.get("u1")).not.toBe(before.entries.get("u1"));
  });

  it("does not mutate the previous state", () => {
    const before = buildTranscript(voiceTurn.slice(0, 7));
    const snapshot = JSON.stringify([...before.order, ...entries(before)]);
    buildTranscript(voiceTurn.slice(7), before);
    expect(JSON.stringify([...before.order, ...entries(before)])).toBe(snapshot);
  });

  it("ignores malformed events", () => {
    const state = buildTranscript([
      s({ type: "response.output_audio_transcript.delta", delta: "no item" }),
      s({ type: "conversation.item.added", item: "nope" }),
      s({ type: "response.done", response: null }),
      s({ type: "conversation.item.input_audio_transcription.delta", item_id: 5, delta: "x" }),
    ]);
    expect(state).toBe(EMPTY_TRANSCRIPT);
  });

  it("deletes items the server deleted", () => {
    const state = buildTranscript([...voiceTurn, s({ type: "conversation.item.deleted", item_id: "u1" })]);
    expect(state.order).toEqual(["a1"]);
  });

  it("drops the oldest entries past the cap", () => {
    const inputs = Array.from({ length: MAX_ENTRIES + 5 }, (_, i) =>
      s({ type: "response.output_text.delta", response_id: `r${i}`, item_id: `a${i}`, delta: "x" }),
    );
    const state = buildTranscript(inputs);
    expect(state.order).toHaveLength(MAX_ENTRIES);
    expect(state.entries.size).toBe(MAX_ENTRIES);
    expect(state.order[0]).toBe("a5");
  });
});

describe("MCP tools in the transcript", () => {
  const base = { id: "item_m", server_label: "docs", name: "search", arguments: '{"q":"pricing"}' };

  it("shows a call the API runs, from running to its output, named by server and tool", () => {
    let state = buildTranscript([
      s({ type: "response.output_item.added", response_id: "r1", output_index: 0, item: { ...base, type: "mcp_call", output: null } }),
    ]);
    expect(toolEntry(state, "item_m")).toMatchObject({ name: "docs: search", state: "running" });
    state = reduceTranscript(state, s({
      type: "response.output_item.done",
      response_id: "r1",
      output_index: 0,
      item: { ...base, type: "mcp_call", output: "3 results" },
    }));
    expect(toolEntry(state, "item_m")).toMatchObject({ state: "done", output: "3 results", arguments: '{"q":"pricing"}' });
  });

  it("shows an approval request as waiting for approval", () => {
    const state = buildTranscript([
      s({ type: "response.output_item.done", response_id: "r1", output_index: 0, item: { ...base, type: "mcp_approval_request" } }),
    ]);
    expect(toolEntry(state, "item_m").state).toBe("approval");
  });
});

describe("what was heard of a truncated reply", () => {
  it("keeps whole words that had begun by the cut, at about 14 characters a second", () => {
    expect(heardLength("one two three", 0)).toBe(0);
    expect(heardLength("one two three", 100)).toBe(3); // "one"
    expect(heardLength("one two three", 500)).toBe(7); // "one two"
    expect(heardLength("one two three", 10_000)).toBe(13);
  });

  it("records where the item was truncated", () => {
    const state = buildTranscript([
      s({ type: "response.output_audio_transcript.done", response_id: "r1", item_id: "a1", output_index: 0, content_index: 0, transcript: "one two three" }),
      s({ type: "conversation.item.truncated", item_id: "a1", content_index: 0, audio_end_ms: 500 }),
    ]);
    expect(message(state, "a1")).toMatchObject({ interrupted: true, audioEndMs: 500 });
  });
});
