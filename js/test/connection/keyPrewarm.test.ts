import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createController, type RealtimeController } from "../../src/connection/controller";
import { ASK_AGAIN_MS, MIN_KEY_LIFE_MS, PrewarmedKey, parseKeyMessage } from "../../src/connection/keyPrewarm";
import { SESSION_UPDATE_TIMEOUT_MS } from "../../src/connection/connection";
import { FakeDataChannel, FakeModel, FakePeerConnection, fakeExperimental, installBrowser, kernelOk } from "./fakes";

describe("PrewarmedKey", () => {
  function make() {
    const sent: unknown[] = [];
    let clock = 1000;
    const key = new PrewarmedKey("me", (m) => sent.push(m), () => clock);
    return { key, sent, advance: (ms: number) => (clock += ms) };
  }

  it("asks once until a key arrives, and gives the key out once", () => {
    const { key, sent } = make();
    key.want();
    key.want();
    expect(sent).toEqual([{ type: "rtw:key_request", client: "me" }]);
    const settings = { voice: "marin", instructions: "", turn_detection: "none" };
    expect(key.accept({ type: "rtw:key", client: "me", value: "ek_1", expires_in_ms: 60_000, settings })).toBe(true);
    key.want(); // one is held: nothing to ask
    expect(sent).toHaveLength(1);
    expect(key.take()).toEqual({ value: "ek_1", settings });
    expect(key.take()).toBeNull();
    key.want();
    expect(sent).toHaveLength(2);
  });

  it("asks again when the kernel has not answered for a while", () => {
    const { key, sent, advance } = make();
    key.want();
    advance(ASK_AGAIN_MS - 1);
    key.want();
    expect(sent).toHaveLength(1);
    advance(1);
    key.want();
    expect(sent).toHaveLength(2);
  });

  it("refuses a key about to expire", () => {
    const { key, advance } = make();
    key.accept({ type: "rtw:key", client: "me", value: "ek_1", expires_in_ms: MIN_KEY_LIFE_MS + 1000 });
    advance(1001);
    expect(key.take()).toBeNull();
  });

  it("drops a withdrawn key and ignores another page's", () => {
    const { key } = make();
    key.accept({ type: "rtw:key", client: "me", value: "ek_1", expires_in_ms: 60_000 });
    expect(key.accept({ type: "rtw:key", client: "other", value: "ek_2", expires_in_ms: 60_000 })).toBe(true);
    expect(key.accept({ type: "rtw:key", client: "me", value: null })).toBe(true);
    expect(key.take()).toBeNull();
  });

  it("parses only well-formed key messages", () => {
    expect(parseKeyMessage({ type: "rtw:ack", client: "me", seq: 1 })).toBeNull();
    expect(parseKeyMessage({ type: "rtw:key", client: "me", value: "ek_1" })).toBeNull();
    expect(parseKeyMessage({ type: "rtw:key", client: "me", value: "", expires_in_ms: 1 })).toBeNull();
    expect(parseKeyMessage({ type: "rtw:key", client: "me", value: "ek_1", expires_in_ms: 5 })).toEqual({
      client: "me",
      value: "ek_1",
      expiresInMs: 5,
      settings: null,
    });
  });
});

describe("a pre-warmed connect", () => {
  let controller: RealtimeController | null = null;

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    controller?.dispose();
    controller = null;
    vi.useRealTimers();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  async function settle(promise: Promise<void>): Promise<void> {
    const progress = { settled: false };
    void promise.then(() => (progress.settled = true));
    for (let i = 0; i < 200 && !progress.settled; i++) await vi.advanceTimersByTimeAsync(1);
    await promise;
  }

  it("posts the offer with the pushed key, never asks the kernel, then asks for the next key", async () => {
    const { fetches } = installBrowser();
    const model = new FakeModel();
    const { experimental, calls } = fakeExperimental(kernelOk);
    controller = createController(model, experimental);
    const statuses: string[] = [];
    controller.on("status", (s) => statuses.push(s));

    controller.prepare();
    await vi.advanceTimersByTimeAsync(1);
    const prepared = FakePeerConnection.instances.at(-1);
    expect(prepared?.transceivers).toEqual([{ kind: "audio", direction: "sendrecv" }]); // made at display, before any click
    expect(prepared?.dc?.label).toBe("oai-events");
    const request = { type: "rtw:key_request", client: controller.client };
    expect(model.sent).toContainEqual(request);
    model.emit("msg:custom", { type: "rtw:key", client: controller.client, value: "ek_warm", expires_in_ms: 60_000 });

    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(statuses).toEqual(["connecting", "connected"]); // no "minting": the key was in hand
    expect(calls.filter((c) => c.name === "mint_key")).toHaveLength(0);
    expect(fetches[0]?.init.headers).toMatchObject({ Authorization: "Bearer ek_warm" });
    // The prepared peer made the call; the mic's track joined the audio sender negotiated before it was ready.
    expect(FakePeerConnection.last()).toBe(prepared);
    expect(FakePeerConnection.last().tracks).toHaveLength(1);
    // Used once: the next connect needs another key and peer, asked for after this one connected.
    expect(FakePeerConnection.instances.at(-1)).not.toBe(prepared);
    expect(model.sent.filter((m) => JSON.stringify(m) === JSON.stringify(request))).toHaveLength(2);
  });

  it("skips the session.update when the key's session was minted with these settings, and sends it otherwise", async () => {
    installBrowser();
    const settings = { voice: "marin", instructions: "Be brief.", turn_detection: "server_vad" };
    const model = new FakeModel({ settings });
    const timeline: unknown[] = [];
    controller = createController(model, fakeExperimental(kernelOk).experimental);
    controller.on("timeline", (item) => timeline.push([item.what, item.detail]));
    controller.prepare();
    // Same settings, keys in another order: the session already has them; connected on session.created.
    const minted = { turn_detection: "server_vad", instructions: "Be brief.", voice: "marin" };
    const key = { type: "rtw:key", client: controller.client, value: "ek_1", expires_in_ms: 60_000 };
    model.emit("msg:custom", { ...key, settings: minted });
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(FakePeerConnection.last().dc?.types()).not.toContain("session.update");
    expect(timeline).toContainEqual(["session_updated", { by: "key" }]);
    await controller.disconnect();

    // Minted before the instructions were edited: the update goes out and is waited for.
    model.emit("msg:custom", { ...key, value: "ek_2", settings: { ...minted, instructions: "Old." } });
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(FakePeerConnection.last().dc?.types()).toContain("session.update");
  });

  it("sends the settings after all when session.created does not come", async () => {
    installBrowser();
    FakeDataChannel.greets = false;
    try {
      const settings = { voice: "", instructions: "", turn_detection: "server_vad" };
      const model = new FakeModel({ settings });
      controller = createController(model, fakeExperimental(kernelOk).experimental);
      controller.prepare();
      model.emit("msg:custom", { type: "rtw:key", client: controller.client, value: "ek_1", expires_in_ms: 60_000, settings });
      const connected = controller.connect();
      await vi.advanceTimersByTimeAsync(SESSION_UPDATE_TIMEOUT_MS + 10);
      await settle(connected);
      expect(controller.status).toBe("connected");
      expect(FakePeerConnection.last().dc?.types()).toContain("session.update");
    } finally {
      FakeDataChannel.greets = true;
    }
  });

  it("asks the kernel when the pushed key was withdrawn (the config changed)", async () => {
    installBrowser();
    const model = new FakeModel();
    const { experimental, calls } = fakeExperimental(kernelOk);
    controller = createController(model, experimental);
    controller.prepare();
    model.emit("msg:custom", { type: "rtw:key", client: controller.client, value: "ek_old", expires_in_ms: 60_000 });
    model.emit("msg:custom", { type: "rtw:key", client: controller.client, value: null });
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(calls.filter((c) => c.name === "mint_key")).toHaveLength(1);
  });

  it("prepares a peer with a trackless sender for microphone=False (for widget.play), and none for the WebSocket transport", async () => {
    installBrowser();
    const model = new FakeModel({ microphone: false });
    controller = createController(model, fakeExperimental(kernelOk).experimental);
    controller.prepare();
    await vi.advanceTimersByTimeAsync(1);
    const prepared = FakePeerConnection.instances.at(-1);
    expect(prepared?.transceivers).toEqual([{ kind: "audio", direction: "sendrecv" }]);
    expect(prepared?.tracks).toHaveLength(0);
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(FakePeerConnection.last()).toBe(prepared);
    await controller.disconnect();

    const before = FakePeerConnection.instances.length;
    const other = new FakeModel({ options: { ...(model.get("options") as object), transport: "websocket" } });
    const websocketOnly = createController(other, fakeExperimental(kernelOk).experimental);
    websocketOnly.prepare();
    await vi.advanceTimersByTimeAsync(1);
    expect(FakePeerConnection.instances).toHaveLength(before);
    expect(other.sent).toContainEqual({ type: "rtw:key_request", client: websocketOnly.client }); // still a key
    websocketOnly.dispose();
  });

  it("tells the kernel to stop supplying keys when the widget goes away", () => {
    installBrowser();
    const model = new FakeModel();
    const gone = createController(model, fakeExperimental(kernelOk).experimental);
    gone.prepare();
    gone.dispose();
    expect(model.sent).toContainEqual({ type: "rtw:key_release", client: gone.client });
    // A key pushed after that is not kept for a connect.
    model.emit("msg:custom", { type: "rtw:key", client: gone.client, value: "ek_late", expires_in_ms: 60_000 });
    expect(gone["prewarmed"].take()).toBeNull();
  });
});
