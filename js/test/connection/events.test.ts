import { describe, expect, it } from "vitest";
import { isUrgent, newEventId, parseMessage, sessionUpdate, userText, withEventId } from "../../src/connection/events";

describe("session.update builder", () => {
  it("builds the GA shape: type realtime, voice under audio.output, turn detection under audio.input", () => {
    const event = sessionUpdate({ voice: "marin", instructions: "Be brief.", turn_detection: "semantic_vad" });
    expect(event).toEqual({
      type: "session.update",
      session: {
        type: "realtime",
        instructions: "Be brief.",
        audio: { input: { turn_detection: { type: "semantic_vad" } }, output: { voice: "marin" } },
      },
    });
    expect((event["session"] as Record<string, unknown>)["voice"]).toBeUndefined();
  });

  it("turns 'none' into null (no turn detection) and keeps the minted voice and instructions when empty", () => {
    const event = sessionUpdate({ voice: "", instructions: "", turn_detection: "none" });
    expect(event["session"]).toEqual({ type: "realtime", audio: { input: { turn_detection: null }, output: {} } });
  });

  it("sends the kernel's whole turn detection object when it is of the chosen type, never a bare type", () => {
    const tuned = { type: "server_vad", threshold: 0.8, silence_duration_ms: 900, create_response: true };
    const settings = { voice: "", instructions: "", turn_detection: "server_vad" as const, turn_detection_config: tuned };
    expect(sessionUpdate(settings)["session"]).toMatchObject({ audio: { input: { turn_detection: tuned } } });
    // Switched in the UI since the kernel last sent its object: the new type alone, for the server's defaults.
    const switched = sessionUpdate({ ...settings, turn_detection: "semantic_vad" })["session"];
    expect(switched).toMatchObject({ audio: { input: { turn_detection: { type: "semantic_vad" } } } });
  });

  it("sends a custom voice as the API's object, not its id", () => {
    const settings = { voice: "voice_42", voice_config: { id: "voice_42" }, instructions: "", turn_detection: "none" as const };
    expect(sessionUpdate(settings)["session"]).toMatchObject({ audio: { output: { voice: { id: "voice_42" } } } });
  });

  it("uses server_vad as given", () => {
    const session = sessionUpdate({ voice: "cedar", instructions: "", turn_detection: "server_vad" })["session"];
    expect(session).toMatchObject({ audio: { input: { turn_detection: { type: "server_vad" } } } });
  });
});

describe("event ids", () => {
  it("adds an evt_ id when missing, without touching the caller's object", () => {
    const event = { type: "response.create" };
    const sent = withEventId(event);
    expect(sent.event_id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(event).toEqual({ type: "response.create" });
  });

  it("keeps an id the caller chose", () => {
    expect(withEventId({ type: "response.create", event_id: "mine" }).event_id).toBe("mine");
  });

  it("replaces an empty id", () => {
    expect(withEventId({ type: "response.create", event_id: "" }).event_id).toMatch(/^evt_/);
  });

  it("makes unique ids", () => {
    expect(new Set(Array.from({ length: 100 }, newEventId)).size).toBe(100);
  });
});

describe("parseMessage", () => {
  it("accepts JSON objects with a string type", () => {
    expect(parseMessage('{"type":"session.created","event_id":"e1"}')).toEqual({
      ok: true,
      event: { type: "session.created", event_id: "e1" },
    });
  });

  it("returns anything else raw, cut to 2,000 characters", () => {
    expect(parseMessage("not json")).toEqual({ ok: false, raw: "not json" });
    expect(parseMessage('{"no":"type"}')).toEqual({ ok: false, raw: '{"no":"type"}' });
    expect(parseMessage("[1,2]")).toEqual({ ok: false, raw: "[1,2]" });
    const long = parseMessage("x".repeat(5000));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.raw).toHaveLength(2000);
  });
});

describe("isUrgent", () => {
  it("flags the events the kernel acts on", () => {
    expect(isUrgent({ type: "response.function_call_arguments.done" })).toBe(true);
    expect(isUrgent({ type: "response.done" })).toBe(true);
    expect(isUrgent({ type: "error" })).toBe(true);
    expect(isUrgent({ type: "response.output_audio_transcript.delta" })).toBe(false);
    expect(isUrgent(null)).toBe(false);
  });
});

describe("userText", () => {
  it("builds a user message item", () => {
    expect(userText("hi")).toEqual({
      type: "conversation.item.create",
      item: { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] },
    });
  });
});
