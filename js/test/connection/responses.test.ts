import { describe, expect, it } from "vitest";
import { ResponseSequencer } from "../../src/connection/responses";
import type { RealtimeEvent } from "../../src/types";

function setup(): { sent: RealtimeEvent[]; sequencer: ResponseSequencer } {
  const sent: RealtimeEvent[] = [];
  return { sent, sequencer: new ResponseSequencer((event) => sent.push(event)) };
}

const create = (id: string, response?: Record<string, unknown>): RealtimeEvent => ({
  type: "response.create",
  event_id: id,
  ...(response === undefined ? {} : { response }),
});
const created = (id: string, conversationId: string | null = "conv_1"): RealtimeEvent => ({
  type: "response.created",
  response: { id, conversation_id: conversationId },
});
const done = (id: string, conversationId: string | null = "conv_1"): RealtimeEvent => ({
  type: "response.done",
  response: { id, conversation_id: conversationId },
});

describe("ResponseSequencer", () => {
  it("sends a request at once when no response is in progress", () => {
    const { sent, sequencer } = setup();
    sequencer.request(create("a"));
    expect(sent.map((e) => e.event_id)).toEqual(["a"]);
  });

  it("holds a request while a VAD-started response runs, and sends it when that one is done", () => {
    const { sent, sequencer } = setup();
    sequencer.onServerEvent(created("resp_vad"));
    sequencer.request(create("tool_follow_up"));
    expect(sent).toEqual([]);
    expect(sequencer.held).toBe(1);
    sequencer.onServerEvent(done("resp_vad"));
    expect(sent.map((e) => e.event_id)).toEqual(["tool_follow_up"]);
  });

  it("sends one request per finished response, in order", () => {
    const { sent, sequencer } = setup();
    sequencer.request(create("a"));
    sequencer.request(create("b"));
    expect(sent.map((e) => e.event_id)).toEqual(["a"]);
    sequencer.onServerEvent(created("resp_a"));
    sequencer.onServerEvent(done("resp_a"));
    expect(sent.map((e) => e.event_id)).toEqual(["a", "b"]);
  });

  it("tries again after the response it collided with, when the server says one was already active", () => {
    const { sent, sequencer } = setup();
    sequencer.request(create("a"));
    sequencer.onServerEvent({
      type: "error",
      error: { code: "conversation_already_has_active_response", event_id: "a", message: "busy" },
    });
    expect(sent).toHaveLength(1);
    sequencer.onServerEvent(created("resp_vad"));
    sequencer.onServerEvent(done("resp_vad"));
    expect(sent.map((e) => e.event_id)).toEqual(["a", "a"]);
  });

  it("moves on after a request the server refused for another reason", () => {
    const { sent, sequencer } = setup();
    sequencer.request(create("bad", { output_modalities: ["nonsense"] }));
    sequencer.request(create("next"));
    sequencer.onServerEvent({ type: "error", error: { code: "invalid_value", event_id: "bad", message: "no" } });
    expect(sent.map((e) => e.event_id)).toEqual(["bad", "next"]);
  });

  it("never holds out-of-band requests, and is not held up by out-of-band responses", () => {
    const { sent, sequencer } = setup();
    sequencer.onServerEvent(created("resp_main"));
    sequencer.request(create("side", { conversation: "none" }));
    expect(sent.map((e) => e.event_id)).toEqual(["side"]);
    sequencer.onServerEvent(done("resp_main"));
    sequencer.onServerEvent(created("resp_side", null));
    sequencer.request(create("main"));
    expect(sent.map((e) => e.event_id)).toEqual(["side", "main"]);
  });

  it("drops what is waiting when the connection closes", () => {
    const { sent, sequencer } = setup();
    sequencer.onServerEvent(created("resp_vad"));
    sequencer.request(create("a"));
    sequencer.reset();
    sequencer.onServerEvent(done("resp_vad"));
    expect(sent).toEqual([]);
  });
});
