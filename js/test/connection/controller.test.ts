import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createController, QUIET_CONNECT_MS, type RealtimeController } from "../../src/connection/controller";
import type { Status } from "../../src/types";
import {
  FakeModel,
  FakePeerConnection,
  FakeStream,
  fakeExperimental,
  installBrowser,
  kernelOk,
  type FetchHandler,
  type InvokeHandler,
} from "./fakes";

let controllers: RealtimeController[] = [];

function start(opts: { model?: FakeModel; kernel?: InvokeHandler } = {}) {
  const model = opts.model ?? new FakeModel();
  const { experimental, calls } = fakeExperimental(opts.kernel ?? kernelOk);
  const controller = createController(model, experimental);
  controllers.push(controller);
  const statuses: Status[] = [];
  controller.on("status", (s) => statuses.push(s));
  return { model, controller, calls, statuses };
}

/** Runs fake timers in small steps until `promise` settles (the fakes open the channel on a timer). */
async function settle<T>(promise: Promise<T>): Promise<T> {
  // A property, not a local: the callbacks set it, which a local's narrowing to `false` would hide.
  const progress = { settled: false };
  const markSettled = () => {
    progress.settled = true;
  };
  promise.then(markSettled, markSettled);
  for (let i = 0; i < 200 && !progress.settled; i++) await vi.advanceTimersByTimeAsync(1);
  return promise;
}

function jsonError(status: number, message: string): FetchHandler {
  return () =>
    Promise.resolve(
      new Response(JSON.stringify({ error: { message, type: "invalid_request_error" } }), {
        status,
        headers: { "Content-Type": "application/json" },
      }),
    );
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(1);
});

afterEach(() => {
  for (const c of controllers) c.dispose();
  controllers = [];
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("connecting", () => {
  it("mints a key, posts the offer with it, waits for session.updated, then says connected", async () => {
    const { fetches } = installBrowser();
    const { model, controller, calls, statuses } = start();
    await settle(controller.connect());

    expect(statuses).toEqual(["minting", "connecting", "connected"]);
    expect(model.state["status"]).toBe("connected");
    expect(controller.connectedSince).not.toBeNull();
    expect(calls.filter((c) => c.name === "mint_key").map((c) => c.msg)).toEqual([{ attempt: 1 }]);

    expect(fetches).toHaveLength(1);
    const post = fetches[0]!;
    expect(post.url).toBe("http://127.0.0.1:9/v1/realtime/calls");
    expect(post.init.method).toBe("POST");
    expect(post.init.body).toBe("v=0\r\nfake-offer\r\n");
    expect(post.init.headers).toEqual({ "Content-Type": "application/sdp", Authorization: "Bearer ek_test_1" });

    const pc = FakePeerConnection.last();
    expect(pc.dc?.label).toBe("oai-events");
    expect(pc.dc?.types()).toEqual(["session.update"]);
    expect(pc.dc?.sent[0]).toMatchObject({
      session: { type: "realtime", instructions: "Be brief.", audio: { output: { voice: "marin" } } },
    });
    expect(pc.config).toEqual({ iceServers: [] });

    controller["batch"].flush();
    expect(model.timeline()).toEqual(
      expect.arrayContaining([
        "connect_requested",
        "mint_start",
        "mint_end",
        "mic_start",
        "mic_ready",
        "offer_created",
        "answer_received",
        "connection_state",
        "dc_open",
        "session_update_sent",
        "session_updated",
        "connected",
      ]),
    );
    const answer = model.items().find((i) => i["what"] === "answer_received");
    expect(answer?.["detail"]).toMatchObject({ call_id: "rtc_abc123" });
  });

  it("never puts the ephemeral key in a trait, a batch or an error", async () => {
    installBrowser({ fetch: jsonError(401, "Incorrect API key provided: ek_test_1") });
    const { model, controller } = start();
    await settle(controller.connect());
    controller["batch"].flush();
    expect(JSON.stringify(model.sent)).not.toContain("ek_test");
    expect(JSON.stringify(model.writes)).not.toContain("ek_test");
    expect(JSON.stringify(controller.error)).not.toContain("ek_test");
  });

  it.each([
    [401, "key_rejected"],
    [403, "no_access"],
    [429, "rate_limited"],
    [400, "sdp_rejected"],
    [502, "server_error"],
  ])("maps HTTP %i from the calls endpoint to %s, with the server's message, and does not retry", async (status, code) => {
    const { fetches } = installBrowser({ fetch: jsonError(status, "Because reasons.") });
    const { model, controller, statuses } = start();
    await settle(controller.connect());
    expect(statuses.at(-1)).toBe("failed");
    expect(controller.error?.code).toBe(code);
    expect(controller.error?.message).toContain("Because reasons.");
    expect(model.state["error"]).toEqual(controller.error);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetches).toHaveLength(1);
    expect(FakePeerConnection.last().closed).toBe(true);
  });

  it("reports an unreachable server as network, naming the origin", async () => {
    installBrowser({
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
    });
    const { controller } = start();
    await settle(controller.connect());
    expect(controller.status).toBe("failed");
    expect(controller.error?.code).toBe("network");
    expect(controller.error?.message).toContain("http://127.0.0.1:9");
    expect(controller.error?.hint).toContain("127.0.0.1");
  });

  it.each([
    ["NotAllowedError", "mic_denied", "denied"],
    ["NotFoundError", "mic_missing", "missing"],
    ["OverconstrainedError", "mic_missing", "missing"],
    ["NotReadableError", "mic_missing", "missing"],
    ["AbortError", "unknown", "failed"],
  ])("connects receive-only when getUserMedia fails with %s (mic_error %s, mic off: %s)", async (name, code, reason) => {
    installBrowser({
      getUserMedia: () => Promise.reject(new DOMException("no", name)),
    });
    const { model, controller } = start();
    const offs: unknown[] = [];
    controller.on("micOff", (off) => offs.push(off));
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(controller.error).toBeNull();
    expect(controller.micOff).toMatchObject({ reason, detail: `${name}: no` });
    expect(controller.micOff?.message).toMatch(/^The microphone is off/);
    expect(offs).toEqual([controller.micOff]);
    controller["batch"].flush();
    const timeline = model.items().filter((i) => i["k"] === "timeline");
    expect(timeline.find((i) => i["what"] === "mic_error")?.["detail"]).toMatchObject({ code });
    expect(timeline.find((i) => i["what"] === "mic_off")?.["detail"]).toMatchObject({ reason });
    // The offer went out beside the mic's request, with an audio sender that is left without a track: it sends
    // nothing until widget.play() mixes in, and the assistant's audio still arrives.
    const pc = FakePeerConnection.last();
    expect(pc.tracks).toHaveLength(0);
    expect(pc.transceivers).toEqual([{ kind: "audio", direction: "sendrecv" }]);
    // Typed turns work.
    expect(controller.sendText("hello")).toBe(true);
  });

  it("does not ask for the microphone when the widget says microphone=False", async () => {
    const getUserMedia = vi.fn(() => Promise.resolve(new FakeStream()));
    installBrowser({ getUserMedia });
    const { model, controller } = start({ model: new FakeModel({ microphone: false }) });
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(getUserMedia).not.toHaveBeenCalled();
    expect(controller.micOff?.reason).toBe("not_requested");
    expect(controller.micOff?.hint).toContain("widget.microphone = True");
    controller["batch"].flush();
    expect(model.timeline()).toContain("mic_off");
    expect(model.timeline()).not.toContain("mic_error");
    // Known before the offer: it asks for the assistant's audio, with a sender that sends nothing until
    // widget.play() puts its mixer's track in.
    expect(FakePeerConnection.last().transceivers).toEqual([{ kind: "audio", direction: "sendrecv" }]);
    expect(FakePeerConnection.last().tracks).toHaveLength(0);
  });

  it("says the page is not a secure context instead of asking, and connects", async () => {
    installBrowser();
    vi.stubGlobal("isSecureContext", false);
    const { controller } = start();
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(controller.micOff?.reason).toBe("insecure_context");
    expect(controller.micOff?.hint).toContain("localhost");
  });

  it("connects receive-only where the page has no getUserMedia at all (VS Code's webview)", async () => {
    installBrowser({ noMediaDevices: true });
    const { controller } = start();
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(controller.micOff?.reason).toBe("unsupported");
  });

  it("clears the mic-off state when a later connection gets the microphone", async () => {
    let refuse = true;
    installBrowser({
      getUserMedia: () => (refuse ? Promise.reject(new DOMException("no", "NotAllowedError")) : Promise.resolve(new FakeStream())),
    });
    const { controller } = start();
    await settle(controller.connect());
    expect(controller.micOff?.reason).toBe("denied");
    await controller.disconnect();
    refuse = false;
    await settle(controller.connect());
    expect(controller.micOff).toBeNull();
    expect(FakePeerConnection.last().tracks).toHaveLength(1);
    // The peer connection is prepared alongside the key and the mic; a failed or abandoned attempt closes it.
    await controller.disconnect();
    expect(FakePeerConnection.used().every((pc) => pc.closed)).toBe(true);
  });

  it("passes the audio constraints and device to getUserMedia", async () => {
    const getUserMedia = vi.fn(async () => new (await import("./fakes")).FakeStream());
    installBrowser({ getUserMedia });
    const model = new FakeModel({
      options: { audio: { echoCancellation: false, noiseSuppression: true, autoGainControl: false, deviceId: "dev1" } },
    });
    await settle(start({ model }).controller.connect());
    expect(getUserMedia).toHaveBeenCalledWith({
      audio: { echoCancellation: false, noiseSuppression: true, autoGainControl: false, deviceId: { exact: "dev1" } },
    });
  });

  it("uses the kernel's error when it cannot mint a key", async () => {
    installBrowser();
    const { controller } = start({
      kernel: async (name, msg) =>
        name === "mint_key"
          ? { ok: false, error: { code: "bad_key", message: "OPENAI_API_KEY is not valid.", hint: "" } }
          : kernelOk(name, msg, undefined),
    });
    await settle(controller.connect());
    expect(controller.error?.code).toBe("bad_key");
    // As the kernel wrote it, not appended to the browser's own text for the code; its empty hint is filled in.
    expect(controller.error?.message).toBe("OPENAI_API_KEY is not valid.");
    expect(controller.error?.hint).not.toBe("");
  });

  it("shows the kernel's mint error message and hint unchanged", async () => {
    installBrowser();
    const error = { code: "network", message: "Could not reach http://127.0.0.1:9/v1: refused.", hint: "Start it." };
    const { controller } = start({
      kernel: async (name, msg) => (name === "mint_key" ? { ok: false, error } : kernelOk(name, msg, undefined)),
    });
    await settle(controller.connect());
    expect(controller.error).toEqual(error);
  });

  it("goes on without session.updated after 5 s, as the Agents SDK does, and says so in the timeline", async () => {
    installBrowser();
    const { controller, model } = start();
    FakePeerConnection.autoSessionUpdated = false;
    const done = controller.connect();
    await vi.advanceTimersByTimeAsync(4990);
    expect(controller.status).toBe("connecting");
    await vi.advanceTimersByTimeAsync(20);
    await done;
    expect(controller.status).toBe("connected");
    controller["batch"].flush();
    expect(model.timeline()).toContain("session_update_unconfirmed");
    expect(model.timeline()).not.toContain("session_updated");
  });

  it("fails with ice_failed when the channel never opens", async () => {
    installBrowser();
    FakePeerConnection.autoOpen = false;
    // Over WebRTC only: `auto` would go on to the WebSocket (transport.test.ts).
    const { controller } = start({ model: new FakeModel({ options: { transport: "webrtc" } }) });
    const done = controller.connect();
    await vi.advanceTimersByTimeAsync(15_000);
    await done;
    expect(controller.error?.code).toBe("ice_failed");
  });

  it("applies max_bitrate_kbps to the mic sender", async () => {
    installBrowser();
    await settle(start({ model: new FakeModel({ options: { max_bitrate_kbps: 24 } }) }).controller.connect());
    expect(FakePeerConnection.last().parameters.encodings[0]?.maxBitrate).toBe(24_000);
  });

  it("fails clearly when calls_url is empty, before minting a key", async () => {
    installBrowser();
    const { controller, calls } = start({ model: new FakeModel({ calls_url: "" }) });
    await settle(controller.connect());
    expect(controller.status).toBe("failed");
    expect(controller.error?.message).toContain("calls_url");
    expect(calls.some((c) => c.name === "mint_key")).toBe(false);
  });
});

describe("disconnecting", () => {
  it("tears down and says closed; a second connect works", async () => {
    const { streams } = installBrowser();
    const { controller, statuses } = start();
    await settle(controller.connect());
    const pc = FakePeerConnection.last();
    await controller.disconnect();
    expect(statuses.at(-1)).toBe("closed");
    expect(pc.closed).toBe(true);
    expect(pc.dc?.readyState).toBe("closed");
    expect(streams[0]?.tracks[0]?.stopped).toBe(true);
    expect(controller.connectedSince).toBeNull();
    await settle(controller.connect());
    expect(controller.status).toBe("connected");
    expect(FakePeerConnection.used()).toHaveLength(2);
  });

  it("abandons an attempt that is still minting", async () => {
    installBrowser();
    let release: (v: unknown) => void = () => undefined;
    const { controller } = start({
      kernel: (name, msg, signal) =>
        name === "mint_key"
          ? new Promise((resolve, reject) => {
              release = resolve;
              signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
            })
          : kernelOk(name, msg, signal),
    });
    const done = controller.connect();
    await vi.advanceTimersByTimeAsync(10);
    expect(controller.status).toBe("minting");
    await controller.disconnect();
    release({ ok: true, value: "ek_late", expires_at: 0 });
    await done;
    expect(controller.status).toBe("closed");
    // The peer connection is prepared alongside the key and the mic; a failed or abandoned attempt closes it.
    expect(FakePeerConnection.used().every((pc) => pc.closed)).toBe(true);
  });
});

describe("telling the kernel", () => {
  it("does not wake the kernel during a quick connect, and reports a slow one", async () => {
    installBrowser();
    const quick = start();
    const set = vi.spyOn(quick.model, "set");
    await settle(quick.controller.connect());
    expect(quick.statuses).toEqual(["minting", "connecting", "connected"]);
    const written = set.mock.calls.filter(([name]) => name === "status").map(([, value]) => value);
    expect(written).toEqual(["connected"]); // the view showed each step; the kernel heard the outcome
    await quick.controller.disconnect();

    FakePeerConnection.autoOpen = false; // the channel never opens: a connect that takes its time
    try {
      const slow = start();
      void slow.controller.connect();
      await vi.advanceTimersByTimeAsync(QUIET_CONNECT_MS - 10);
      expect(slow.controller.status).toBe("connecting");
      expect(slow.model.get("status")).not.toBe("connecting");
      await vi.advanceTimersByTimeAsync(20);
      expect(slow.model.get("status")).toBe("connecting");
      await slow.controller.disconnect();
    } finally {
      FakePeerConnection.autoOpen = true;
    }
  });
});

describe("the mic prompt left open", () => {
  it("connects without waiting for it, and the track joins the call when the user allows it", async () => {
    let grant: () => void = () => undefined;
    const stream = new FakeStream();
    installBrowser({ getUserMedia: () => new Promise((resolve) => (grant = () => resolve(stream))) });
    const { model, controller } = start();
    await settle(controller.connect());
    expect(controller.status).toBe("connected"); // typed turns and the assistant's audio already work
    const pc = FakePeerConnection.last();
    expect(pc.tracks).toHaveLength(0);
    grant();
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.tracks).toEqual([stream.tracks[0]]);
    controller["batch"].flush();
    const tl = model.timeline();
    expect(tl.indexOf("connected")).toBeLessThan(tl.indexOf("mic_ready"));
  });

  it("stops the stream that arrives after the user hung up", async () => {
    let grant: () => void = () => undefined;
    const stream = new FakeStream();
    installBrowser({ getUserMedia: () => new Promise((resolve) => (grant = () => resolve(stream))) });
    const { controller } = start();
    const done = controller.connect();
    await settle(done);
    await controller.disconnect();
    grant();
    await vi.advanceTimersByTimeAsync(1);
    expect(stream.tracks[0]?.stopped).toBe(true);
    expect(controller.status).toBe("closed");
    // The peer connection is prepared alongside the key and the mic; a failed or abandoned attempt closes it.
    expect(FakePeerConnection.used().every((pc) => pc.closed)).toBe(true);
  });
});

describe("staying connected", () => {
  it("reconnects with a fresh key after the data channel closes", async () => {
    installBrowser();
    const { model, controller, calls, statuses } = start();
    await settle(controller.connect());
    FakePeerConnection.last().dc!.remoteClose();
    expect(controller.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(99);
    expect(FakePeerConnection.used()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(statuses).toEqual(["minting", "connecting", "connected", "reconnecting", "connected"]);
    expect(calls.filter((c) => c.name === "mint_key").map((c) => c.msg)).toEqual([{ attempt: 1 }, { attempt: 2 }]);
    expect(FakePeerConnection.used()).toHaveLength(2);
    expect(FakePeerConnection.used()[0]?.closed).toBe(true);
    controller["batch"].flush();
    const tl = model.timeline();
    expect(tl.indexOf("disconnected")).toBeLessThan(tl.indexOf("reconnect_scheduled"));
    const scheduled = model.items().find((i) => i["what"] === "reconnect_scheduled");
    expect(scheduled).toMatchObject({ attempt: 2, detail: { delay_ms: 100, code: "channel_closed" } });
  });

  it("gives up after max_attempts with the loss's code", async () => {
    let posts = 0;
    installBrowser({
      fetch: async (call) => {
        posts++;
        if (posts === 1) return (await import("./fakes")).answer201(call);
        throw new TypeError("Failed to fetch");
      },
    });
    const { controller, statuses } = start();
    await settle(controller.connect());
    FakePeerConnection.last().dc!.remoteClose();
    await vi.advanceTimersByTimeAsync(5000);
    expect(posts).toBe(3); // the first call, then max_attempts = 2 reconnects
    expect(statuses.at(-1)).toBe("failed");
    expect(controller.error?.code).toBe("channel_closed");
    expect(controller.error?.message).toContain("Gave up after 2 reconnect attempts");
  });

  it("stops reconnecting at once on a failure that retrying cannot fix", async () => {
    let posts = 0;
    installBrowser({
      fetch: async (call) => {
        posts++;
        return posts === 1 ? (await import("./fakes")).answer201(call) : jsonError(403, "Not for this project.")(call);
      },
    });
    const { controller } = start();
    await settle(controller.connect());
    FakePeerConnection.last().setState("failed");
    await vi.advanceTimersByTimeAsync(5000);
    expect(posts).toBe(2);
    expect(controller.error?.code).toBe("no_access");
  });

  it("retries a reconnect whose ephemeral key was refused, with a fresh key", async () => {
    let posts = 0;
    installBrowser({
      fetch: async (call) => {
        posts++;
        const { answer201 } = await import("./fakes");
        return posts === 2 ? jsonError(401, "The ephemeral key has expired.")(call) : answer201(call);
      },
    });
    const { controller, model } = start();
    await settle(controller.connect());
    FakePeerConnection.last().setState("failed");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(posts).toBe(3);
    expect(controller.status).toBe("connected");
    controller["batch"].flush();
    const scheduled = model.items().filter((i) => i["what"] === "reconnect_scheduled");
    expect(scheduled.at(-1)?.["detail"]).toMatchObject({ code: "key_rejected" });
  });

  it("gives 'disconnected' a grace period before it counts as lost", async () => {
    installBrowser();
    const { controller } = start();
    await settle(controller.connect());
    const pc = FakePeerConnection.last();
    pc.setState("disconnected");
    await vi.advanceTimersByTimeAsync(4000);
    pc.setState("connected");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(controller.status).toBe("connected");
    expect(FakePeerConnection.used()).toHaveLength(1);

    pc.setState("disconnected");
    await vi.advanceTimersByTimeAsync(4999);
    expect(controller.status).toBe("connected");
    await vi.advanceTimersByTimeAsync(1);
    expect(controller.status).toBe("reconnecting");
  });

  it("hangs up when the page goes away (reload, closed tab)", async () => {
    installBrowser();
    const handlers = new Map<string, () => void>();
    vi.stubGlobal("addEventListener", (name: string, fn: () => void) => handlers.set(name, fn));
    vi.stubGlobal("removeEventListener", (name: string) => handlers.delete(name));
    const { controller } = start();
    await settle(controller.connect());
    handlers.get("pagehide")?.();
    expect(controller.status).toBe("closed");
    expect(FakePeerConnection.last().closed).toBe(true);
    controller.dispose();
    expect(handlers.has("pagehide")).toBe(false);
  });

  it("does not reconnect after the user disconnects", async () => {
    installBrowser();
    const { controller } = start();
    await settle(controller.connect());
    await controller.disconnect();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(controller.status).toBe("closed");
    expect(FakePeerConnection.used()).toHaveLength(1);
  });
});

describe("talking to the model", () => {
  async function connected() {
    installBrowser();
    const started = start();
    await settle(started.controller.connect());
    const dc = FakePeerConnection.last().dc!;
    return { ...started, dc, pc: FakePeerConnection.last() };
  }

  it("reports every message both ways as event items, raw text for non-JSON", async () => {
    const { model, controller, dc } = await connected();
    dc.receive({ type: "response.output_audio_transcript.delta", delta: "Hi" });
    dc.receive("garbage{");
    expect(controller.sendEvent({ type: "response.create" })).toBe(true);
    controller["batch"].flush();
    const events = model.items().filter((i) => i["k"] === "event");
    expect(events.map((e) => [e["dir"], (e["event"] as { type?: string } | null)?.type ?? e["raw"]])).toEqual([
      ["server", "session.created"],
      ["client", "session.update"],
      ["server", "session.updated"],
      ["server", "response.output_audio_transcript.delta"],
      ["server", "garbage{"],
      ["client", "response.create"],
    ]);
    expect(controller.recentEvents).toHaveLength(6);
    expect(dc.sent.at(-1)?.event_id).toMatch(/^evt_/);
  });

  it("flushes at once after response.done", async () => {
    const { model, dc } = await connected();
    const before = model.sent.length;
    dc.receive({ type: "response.done", response: {} });
    expect(model.sent.length).toBe(before + 1);
  });

  it("sends response.cancel on interrupt only while a response is active", async () => {
    const { controller, dc } = await connected();
    controller.interrupt();
    expect(dc.types().slice(1)).toEqual(["output_audio_buffer.clear"]);
    dc.receive({ type: "response.created", response: { id: "r1" } });
    controller.interrupt();
    expect(dc.types().slice(2)).toEqual(["response.cancel", "output_audio_buffer.clear"]);
    dc.receive({ type: "response.created", response: { id: "r2" } });
    dc.receive({ type: "response.done", response: { id: "r2" } });
    controller.interrupt();
    expect(dc.types().slice(4)).toEqual(["output_audio_buffer.clear"]);
  });

  it("sends text as a user message and asks for a response", async () => {
    const { controller, dc } = await connected();
    expect(controller.sendText("hello")).toBe(true);
    expect(dc.types().slice(1)).toEqual(["conversation.item.create", "response.create"]);
    expect(controller.sendText("   ")).toBe(false);
  });

  it("mutes the mic track and the trait", async () => {
    const { model, controller, pc } = await connected();
    controller.setMuted(true);
    expect(pc.tracks[0]?.enabled).toBe(false);
    expect(model.state["muted"]).toBe(true);
    expect(controller.muted).toBe(true);
    model.kernelSets("muted", false);
    expect(pc.tracks[0]?.enabled).toBe(true);
    expect(controller.muted).toBe(false);
  });

  it("push-to-talk clears, opens the mic, then commits and asks for a response", async () => {
    installBrowser();
    const model = new FakeModel({ settings: { voice: "", instructions: "", turn_detection: "none" } });
    const { controller } = start({ model });
    await settle(controller.connect());
    const pc = FakePeerConnection.last();
    const track = pc.tracks[0]!;
    expect(track.enabled).toBe(false); // turn detection off: the mic is open only while talking
    controller.pushToTalk(true);
    expect(controller.talking).toBe(true);
    expect(track.enabled).toBe(true);
    controller.pushToTalk(false);
    expect(track.enabled).toBe(false);
    expect(controller.talking).toBe(false);
    expect(pc.dc?.types().slice(1)).toEqual(["input_audio_buffer.clear", "input_audio_buffer.commit", "response.create"]);
    expect(pc.dc?.sent[0]?.["session"]).toMatchObject({ audio: { input: { turn_detection: null } } });
  });

  it("returns false from sendEvent when not connected", () => {
    installBrowser();
    expect(start().controller.sendEvent({ type: "response.create" })).toBe(false);
  });
});

describe("the kernel side", () => {
  it("uses a key sent with the kernel's connect command once, without asking the kernel", async () => {
    const { fetches } = installBrowser();
    const { model, controller, calls } = start();
    model.emit("msg:custom", { type: "rtw:cmd", command: { name: "connect", key: "ek_from_the_kernel" } });
    await vi.advanceTimersByTimeAsync(10);
    expect(controller.status).toBe("connected");
    expect(calls.some((c) => c.name === "mint_key")).toBe(false);
    expect(JSON.stringify(fetches[0]?.init.headers)).toContain("ek_from_the_kernel");
    await controller.disconnect();
    await settle(controller.connect()); // the next attempt asks the kernel again
    expect(calls.filter((c) => c.name === "mint_key")).toHaveLength(1);
  });

  it("runs commands from the kernel in both envelope shapes and ignores anything else", async () => {
    installBrowser();
    const { model, controller } = start();
    const notices: string[] = [];
    controller.on("notice", (n) => notices.push(n.text));
    model.emit("msg:custom", { kind: "anywidget-command-response", id: "x", response: {} });
    model.emit("msg:custom", { type: "rtw:cmd", command: { name: "send", event: { type: "response.create" } } });
    expect(notices[0]).toContain("Not connected");
    model.emit("msg:custom", { type: "rtw:cmd", command: { name: "connect" } });
    await vi.advanceTimersByTimeAsync(10);
    expect(controller.status).toBe("connected");
    model.emit("msg:custom", { type: "rtw:cmd", name: "send", event: { type: "response.create", event_id: "k1" } });
    expect(FakePeerConnection.last().dc?.sent.at(-1)).toEqual({ type: "response.create", event_id: "k1" });
    model.emit("msg:custom", { type: "rtw:cmd", command: { name: "notice", level: "info", text: "hello" } });
    expect(notices.at(-1)).toBe("hello");
    model.emit("msg:custom", { type: "rtw:cmd", command: { name: "disconnect" } });
    expect(controller.status).toBe("closed");
  });

  it("shows a case the kernel plays, and sends Stop and a refused play to the kernel at once", async () => {
    installBrowser();
    const { model, controller } = start();
    const states: unknown[] = [];
    controller.on("play", (s) => states.push(s));
    const play = (command: Record<string, unknown>, buffers?: unknown) =>
      model.emit("msg:custom", { type: "rtw:cmd", command: { play_id: "p1", ...command } }, buffers);
    play({ name: "play_start", case: "demo", steps: 2 });
    play({ name: "play_step", step: 1, what: "say 'hi'" });
    expect(controller.playState).toMatchObject({ caseName: "demo", step: 1, steps: 2 });
    // Not connected: no mixer to speak into; the kernel hears of it (and ends the play) without waiting.
    play({ name: "play_audio", step: 1, seq: 0, sample_rate: 24_000, last: true }, [new DataView(new ArrayBuffer(4))]);
    await vi.advanceTimersByTimeAsync(1);
    const error = model.items().find((i) => i["what"] === "play_error");
    expect(error?.["detail"]).toMatchObject({ play_id: "p1", step: 1 });
    controller.stopPlay();
    expect(model.items().find((i) => i["what"] === "play_stopped")?.["detail"]).toMatchObject({ play_id: "p1" });
    play({ name: "play_end", outcome: "stopped", message: "" });
    expect(controller.playState).toBeNull();
    expect(states.at(-1)).toBeNull();
  });

  it("keeps tool call states by call_id", () => {
    installBrowser();
    const { model, controller } = start();
    const seen: string[] = [];
    controller.on("tool", (t) => seen.push(t.state));
    const base = { name: "tool_status", call_id: "c1", tool: "add", arguments: "{}" };
    model.emit("msg:custom", { type: "rtw:cmd", command: { ...base, state: "running" } });
    model.emit("msg:custom", { type: "rtw:cmd", command: { ...base, state: "done", output: "3" } });
    expect(seen).toEqual(["running", "done"]);
    expect(controller.toolCalls.get("c1")).toMatchObject({ state: "done", output: "3", tool: "add" });
  });

  it("acknowledges only its own batches", () => {
    installBrowser();
    const { model, controller } = start();
    controller.setMuted(true);
    controller["batch"].push({ k: "timeline", t: 1, what: "closed", attempt: 0, detail: {} });
    controller["batch"].flush();
    const batch = model.sent.at(-1) as { seq: number; client: string };
    model.emit("msg:custom", { type: "rtw:ack", client: "someone-else", seq: batch.seq });
    expect(controller["batch"].pendingCount).toBe(1);
    model.emit("msg:custom", { type: "rtw:ack", client: batch.client, seq: batch.seq });
    expect(controller["batch"].pendingCount).toBe(0);
  });

  it("restores history for a new page: emitted as events, first in recentEvents", async () => {
    installBrowser();
    const history = [
      { k: "event", t: 1, dir: "server", event: { type: "session.created" } },
      { k: "stats", t: 2, rtt_ms: 1 },
      { k: "timeline", t: 3, what: "connected", attempt: 1, detail: {} },
      { k: "bogus", t: 4 },
    ];
    const { controller } = start({
      kernel: async (name, msg, signal) => (name === "history" ? { items: history, last_seq: {} } : kernelOk(name, msg, signal)),
    });
    const events: string[] = [];
    let restored = 0;
    controller.on("event", (e) => events.push(e.event?.type ?? "raw"));
    controller.on("historyRestored", (items) => (restored = items.length));
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual(["session.created"]);
    expect(restored).toBe(3);
    expect(controller.recentEvents.map((e) => e.t)).toEqual([1]);
    expect(controller.recentStats).toHaveLength(1);
  });

  it("reports the kernel clock offset as a timeline item", async () => {
    installBrowser();
    const { model, controller } = start({
      kernel: async (name, msg, signal) =>
        name === "clock" ? { t_kernel: (msg as { t_browser: number }).t_browser + 500 } : kernelOk(name, msg, signal),
    });
    await vi.advanceTimersByTimeAsync(1);
    controller["batch"].flush();
    const item = model.items().find((i) => i["what"] === "clock_offset");
    expect((item?.["detail"] as { offset_ms: number }).offset_ms).toBeCloseTo(500, 0);
  });

  it("raises kernel_busy_hint while a command waits more than 1 s", async () => {
    installBrowser();
    let release: (v: unknown) => void = () => undefined;
    const { model, controller } = start({
      kernel: (name, msg, signal) =>
        name === "mint_key" ? new Promise((resolve) => (release = resolve)) : kernelOk(name, msg, signal),
    });
    const waiting: boolean[] = [];
    controller.on("kernelWaiting", (w) => waiting.push(w));
    const done = controller.connect();
    await vi.advanceTimersByTimeAsync(999);
    expect(model.state["kernel_busy_hint"]).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(model.state["kernel_busy_hint"]).toBe(true);
    release({ ok: true, value: "ek_x", expires_at: 0 });
    await settle(done);
    expect(model.state["kernel_busy_hint"]).toBe(false);
    expect(waiting).toEqual([true, false]);
  });

  it("does not raise kernel_busy_hint for the background history and clock requests", async () => {
    installBrowser();
    const slow: InvokeHandler = (name, msg, signal) =>
      new Promise((resolve) => setTimeout(() => resolve(kernelOk(name, msg, signal)), 5000));
    const { model, controller } = start({ kernel: slow });
    await vi.advanceTimersByTimeAsync(6000);
    expect(model.writes.some(([k]) => k === "kernel_busy_hint")).toBe(false);
    controller["batch"].flush();
    expect(model.timeline()).not.toContain("clock_offset"); // a 5 s round trip says nothing about the offset
  });

  it("does not claim a connection from an earlier page", () => {
    installBrowser();
    const { model, controller } = start({ model: new FakeModel({ status: "connected" }) });
    expect(model.state["status"]).toBe("closed");
    expect(controller.status).toBe("closed");
  });

  it("ends the call when the kernel is gone (its comm refuses every send), and says so", async () => {
    installBrowser();
    const { model, controller, statuses } = start();
    await settle(controller.connect());
    const pc = FakePeerConnection.last();
    model.send = () => {
      throw new Error("Cannot send");
    };
    model.save_changes = () => {
      throw new Error("Cannot send");
    };
    controller.sendText("Anyone there?"); // recorded, and batched to a kernel that is gone
    await vi.advanceTimersByTimeAsync(1000);
    expect(controller.status).toBe("failed");
    expect(statuses.at(-1)).toBe("failed");
    expect(controller.error?.code).toBe("kernel_lost");
    expect(controller.error?.hint).toContain("autosave");
    expect(pc.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakePeerConnection.last()).toBe(pc); // no reconnect: there is no kernel to mint a key
    await settle(controller.connect());
    expect(controller.error?.code).toBe("kernel_lost");
    expect(FakePeerConnection.last()).toBe(pc);
  });

  it("shows how an earlier page's connection ended, and connects from there", async () => {
    installBrowser();
    for (const ended of ["closed", "failed"] as const) {
      const { model, controller } = start({ model: new FakeModel({ status: ended }) });
      expect(controller.status).toBe(ended);
      expect(model.writes.some(([k]) => k === "status")).toBe(false); // nothing to tell the kernel
      await settle(controller.connect());
      expect(controller.status).toBe("connected");
    }
  });

  it("lists microphones only", async () => {
    installBrowser();
    const mics = await start().controller.listMicrophones();
    expect(mics.map((m) => m.deviceId)).toEqual(["a"]);
  });
});
