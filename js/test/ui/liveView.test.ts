// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RealtimeEvent } from "../../src/types";
import { mountConsole } from "../../src/ui/console";
import { MAX_DOM_ROWS } from "../../src/ui/eventLogView";
import { FakeController, FakeModel, clientEvent, mountFakeConsole, serverEvent } from "./fakes";

let el: HTMLElement;
let controller: FakeController;
let model: FakeModel;
let unmount: () => void;

const hostile = '<img src=x onerror="window.__pwned=1">';

function q(testId: string, root: ParentNode = el): HTMLElement {
  const found = root.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  if (!found) throw new Error(`no [data-testid="${testId}"]`);
  return found;
}
const server = (event: RealtimeEvent) => controller.emit("event", serverEvent(event, Date.now()));
const client = (event: RealtimeEvent) => controller.emit("event", clientEvent(event, Date.now()));
const bubbles = () => [...q("transcript").querySelectorAll<HTMLElement>(".rtw-turn")];

beforeEach(() => {
  ({ el, controller, model, unmount } = mountFakeConsole());
});

afterEach(() => {
  unmount();
  el.remove();
});

describe("transcript view", () => {
  it("streams an answer into one bubble and finalises it", () => {
    server({ type: "response.output_item.added", response_id: "r1", item: { id: "a1", type: "message", role: "assistant", content: [] } });
    server({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "Hel" });
    const bubble = bubbles()[0]!;
    expect(bubble.dataset["final"]).toBe("false");
    server({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "lo" });
    server({ type: "response.output_audio_transcript.done", response_id: "r1", item_id: "a1", transcript: "Hello!" });
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]).toBe(bubble); // updated in place
    expect(bubble.querySelector(".rtw-bubble-text")!.textContent).toBe("Hello!");
    expect(bubble.dataset["final"]).toBe("true");
  });

  it("shows the user's typed message and marks an interrupted answer", () => {
    controller.setStatus("connected");
    client({ type: "conversation.item.create", event_id: "e1", item: { type: "message", role: "user", content: [{ type: "input_text", text: "Tell me a story" }] } });
    server({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "Once" });
    server({ type: "response.done", response: { id: "r1", status: "cancelled" } });
    const [user, assistant] = bubbles();
    expect(user!.dataset["role"]).toBe("user");
    expect(user!.textContent).toContain("Tell me a story");
    expect(assistant!.dataset["interrupted"]).toBe("true");
    expect(assistant!.querySelector<HTMLElement>(".rtw-tag")!.hidden).toBe(false);
  });

  it("names the Agents SDK agent that gave an answer, once the kernel says which", () => {
    server({ type: "response.output_audio_transcript.delta", response_id: "r1", item_id: "a1", delta: "Hello" });
    const who = (): string => q("transcript").querySelector(".rtw-turn-who")!.textContent;
    expect(who()).toBe("Assistant");
    controller.responseAgents.set("r1", "Billing");
    controller.emit("agent", { name: "agent", response_id: "r1", agent: "Billing" });
    expect(who()).toBe("Billing");
    server({ type: "response.output_audio_transcript.delta", response_id: "r2", item_id: "a2", delta: "<b>x</b>" });
    expect(q("transcript").querySelectorAll(".rtw-turn-who")[1]!.textContent).toBe("Assistant");
  });

  it("shows tool calls inline with arguments and result", () => {
    server({ type: "response.function_call_arguments.done", response_id: "r1", item_id: "fc1", call_id: "c1", name: "lookup", arguments: '{"city":"Oslo"}' });
    controller.emit("tool", { name: "tool_status", call_id: "c1", state: "done", tool: "lookup", arguments: '{"city":"Oslo"}', output: "3 degrees" });
    const card = q("transcript").querySelector<HTMLElement>(".rtw-tool")!;
    expect(card.dataset["state"]).toBe("done");
    expect(card.querySelector(".rtw-tool-name")!.textContent).toBe("lookup");
    expect(card.querySelector(".rtw-tool-args")!.textContent).toBe('{\n  "city": "Oslo"\n}');
    expect(card.querySelector(".rtw-tool-result")!.textContent).toBe("3 degrees");
  });

  it("renders model and tool text literally", () => {
    server({ type: "response.output_text.delta", response_id: "r1", item_id: "a1", delta: hostile });
    server({ type: "response.function_call_arguments.done", item_id: "fc1", call_id: "c1", name: hostile, arguments: hostile });
    controller.emit("tool", { name: "tool_status", call_id: "c1", state: "error", tool: hostile, arguments: hostile, error: hostile });
    expect(q("transcript").textContent).toContain(hostile);
    expect(el.querySelector("img")).toBeNull();
  });

  it("announces finished lines only, not every delta", () => {
    const announcer = q("announcer");
    server({ type: "conversation.item.input_audio_transcription.delta", item_id: "u1", delta: "Hi" });
    expect(announcer.textContent).toBe("");
    server({ type: "conversation.item.input_audio_transcription.completed", item_id: "u1", transcript: "Hi there." });
    server({ type: "response.output_audio_transcript.done", response_id: "r1", item_id: "a1", transcript: "Hello." });
    expect([...announcer.children].map((p) => p.textContent)).toEqual(["You: Hi there.", "Assistant: Hello."]);
    expect(announcer.getAttribute("aria-live")).toBe("polite");
  });

  it("history replayed through the event stream (a page reload) is drawn but not announced", () => {
    const anHourAgo = Date.now() - 3_600_000;
    controller.emit("event", serverEvent({ type: "response.output_audio_transcript.done", item_id: "a0", transcript: "Old." }, anHourAgo));
    expect(q("transcript").textContent).toContain("Old.");
    expect(q("announcer").textContent).toBe("");
  });

  it("a view opened later redraws from the controller's history without announcing it", () => {
    server({ type: "conversation.item.input_audio_transcription.completed", item_id: "u1", transcript: "Earlier." });
    controller.recentEvents = [serverEvent({ type: "conversation.item.input_audio_transcription.completed", item_id: "u1", transcript: "Earlier." })];
    const second = document.createElement("div");
    const unmountSecond = mountConsole(second, model, controller);
    expect(q("transcript", second).textContent).toContain("Earlier.");
    expect(q("announcer", second).textContent).toBe("");
    expect(q("event-count", second).textContent).toBe("1 event total");
    // Both views follow the one controller.
    server({ type: "response.output_audio_transcript.done", response_id: "r1", item_id: "a1", transcript: "Now." });
    expect(q("transcript", second).textContent).toContain("Now.");
    expect(q("transcript").textContent).toContain("Now.");
    unmountSecond();
  });
});

describe("event log view", () => {
  it("lists events newest first with direction and a running total", () => {
    client({ type: "session.update", session: {} });
    server({ type: "session.updated", session: {} });
    const rows = [...q("event-log").querySelectorAll(".rtw-log-row")];
    expect(rows.map((r) => r.querySelector(".rtw-log-type")!.textContent)).toEqual(["session.updated", "session.update"]);
    expect(rows[0]!.querySelector(".rtw-log-dir-received")).not.toBeNull();
    expect(rows[1]!.querySelector(".rtw-log-dir-sent")).not.toBeNull();
    expect(q("event-count").textContent).toBe("2 events total");
  });

  it("draws a connect's events once it is over, not while it is under way", () => {
    controller.setStatus("connecting");
    server({ type: "session.created", session: {} });
    expect(q("event-log").querySelectorAll(".rtw-log-row")).toHaveLength(0);
    expect(q("event-count").textContent).toBe("0 events total");
    controller.setStatus("connected");
    server({ type: "session.updated", session: {} });
    const types = [...q("event-log").querySelectorAll(".rtw-log-type")].map((t) => t.textContent);
    expect(types).toEqual(["session.updated", "session.created"]);
    expect(q("event-count").textContent).toBe("2 events total");
  });

  it("clicking a row shows its payload as JSON text, and again hides it", () => {
    server({ type: "error", error: { message: hostile } });
    const row = q("event-log").querySelector<HTMLButtonElement>(".rtw-log-row")!;
    row.click();
    const payload = q("event-payload");
    expect(JSON.parse(payload.textContent)).toEqual({ type: "error", error: { message: hostile } });
    expect(row.getAttribute("aria-expanded")).toBe("true");
    expect(el.querySelector("img")).toBeNull();
    row.click();
    expect(payload.hidden).toBe(true);
    expect(row.getAttribute("aria-expanded")).toBe("false");
  });

  it("filters by chip and by typed text", () => {
    server({ type: "session.updated", session: {} });
    server({ type: "error", error: { message: "bad" } });
    server({ type: "response.done", response: { id: "r", status: "completed" } });
    const types = () => [...q("event-log").querySelectorAll(".rtw-log-type")].map((t) => t.textContent);
    el.querySelector<HTMLButtonElement>('[data-chip="errors"]')!.click();
    expect(types()).toEqual(["error"]);
    expect(el.querySelector('[data-chip="errors"]')!.getAttribute("aria-pressed")).toBe("true");
    server({ type: "session.updated", session: {} }); // does not match: not added
    expect(types()).toEqual(["error"]);
    el.querySelector<HTMLButtonElement>('[data-chip="all"]')!.click();
    const search = el.querySelector<HTMLInputElement>('[data-testid="event-filter"]')!;
    search.value = "response";
    search.dispatchEvent(new Event("input"));
    expect(types()).toEqual(["response.done"]);
  });

  it(`keeps at most ${MAX_DOM_ROWS} rows in the page`, () => {
    for (let i = 0; i < MAX_DOM_ROWS + 100; i += 1) server({ type: "response.output_text.delta", item_id: `a${i}`, delta: "x" });
    expect(q("event-log").childElementCount).toBe(MAX_DOM_ROWS);
    expect(q("event-count").textContent).toBe(`${(MAX_DOM_ROWS + 100).toLocaleString("en-US")} events total`);
  });
});

describe("stats strip", () => {
  const sample = () =>
    controller.emit("stats", {
      k: "stats", t: 0, rtt_ms: 41, jitter_ms: 3.1, packets_received: 100, packets_lost: 0, bytes_received: 0, bytes_sent: 0,
      bitrate_in_kbps: 32, bitrate_out_kbps: 28, audio_level_in: 0, audio_level_out: 0, codec: "opus",
    });
  const value = (key: string) => q("stats").querySelector(`[data-stat="${key}"] .rtw-stat-value`)!.textContent;

  it("shows the latest sample", () => {
    controller.setStatus("connected");
    sample();
    expect(value("rtt")).toBe("41 ms");
    expect(value("in")).toBe("32 kbps");
    expect(q("stats").querySelector<HTMLElement>('[data-stat="rtt"]')!.dataset["level"]).toBe("ok");
  });

  it("shows dashes, not stale figures, while not connected", () => {
    controller.setStatus("connected");
    sample();
    controller.emit("voiceLatency", { k: "voice_latency", t: 0, ms: 900, user_speech_end_t: 0, assistant_audio_start_t: 0 });
    controller.setStatus("reconnecting");
    expect(value("rtt")).toBe("—");
    expect(value("latency")).toBe("—");
    expect(q("stats").dataset["live"]).toBe("false");
    controller.setStatus("connected");
    expect(value("rtt")).toBe("41 ms");
    controller.setStatus("closed");
    expect(value("in")).toBe("—");
  });
});
