import { describe, expect, it } from "vitest";
import type { AttemptConfig, ConnectionHooks } from "../../src/connection/connection";
import { Aborted, ConnectFailure } from "../../src/connection/errors";
import { DEFAULT_OPTIONS, DEFAULT_SETTINGS } from "../../src/connection/traits";
import { AutoTransport, TransportReport, type Transport } from "../../src/connection/transport";
import type { TransportChoice } from "../../src/types";

class StubTransport implements Transport {
  isOpen = false;
  callId = null;
  muted: boolean | null = null;
  constructor(private readonly outcome: Error | null) {}
  open(): Promise<void> {
    if (this.outcome !== null) return Promise.reject(this.outcome);
    this.isOpen = true;
    return Promise.resolve();
  }
  close(): void {
    this.isOpen = false;
  }
  send(): null {
    return null;
  }
  interrupt(): void {}
  setMuted(muted: boolean): void {
    this.muted = muted;
  }
  pushToTalk(): void {}
  enableAudio(): Promise<void> {
    return Promise.resolve();
  }
  outgoingTrack = null;
  mixer(): Promise<null> {
    return Promise.resolve(null);
  }
}

function setup(transport: TransportChoice, webrtc: Error | null, hasWebRtc = true, port: number | null = 8123) {
  const timeline: { what: string; detail: Record<string, unknown> | undefined }[] = [];
  const hooks = { timeline: (what: string, detail?: Record<string, unknown>) => timeline.push({ what, detail }) };
  const config = {
    attempt: 1,
    callsUrl: "http://127.0.0.1:8123/v1/realtime/calls",
    settings: DEFAULT_SETTINGS,
    options: { ...DEFAULT_OPTIONS, transport, local_server_port: port },
    muted: false,
    microphone: true,
    readyKey: () => null,
    mintKey: () => Promise.resolve({ value: "ek_test", settings: null }),
    preparedPeer: () => null,
  } satisfies AttemptConfig;
  const made: string[] = [];
  const ws = new StubTransport(null);
  const auto = new AutoTransport(
    config,
    hooks as unknown as ConnectionHooks,
    () => {
      made.push("webrtc");
      return new StubTransport(webrtc);
    },
    () => {
      made.push("websocket");
      return ws;
    },
    () => hasWebRtc,
  );
  return { auto, made, timeline, ws };
}

describe("AutoTransport", () => {
  it("uses WebRTC by default and says so", async () => {
    const { auto, made, timeline } = setup("auto", null);
    await auto.open();
    expect(made).toEqual(["webrtc"]);
    expect(timeline[0]?.detail).toMatchObject({ transport: "webrtc" });
  });

  it("uses the WebSocket when the page has no RTCPeerConnection", async () => {
    const { auto, made, timeline } = setup("auto", null, false);
    await auto.open();
    expect(made).toEqual(["websocket"]);
    expect(String(timeline[0]?.detail?.["reason"])).toContain("RTCPeerConnection");
  });

  it.each(["ice_failed", "network"] as const)("falls back to the WebSocket when WebRTC fails with %s", async (code) => {
    const { auto, made, timeline } = setup("auto", new ConnectFailure(code, "blocked"));
    await auto.open();
    expect(made).toEqual(["webrtc", "websocket"]);
    expect(timeline.map((t) => t.detail?.["transport"])).toEqual(["webrtc", "websocket"]);
    expect(auto.isOpen).toBe(true);
  });

  it("does not fall back when another server (OpenAI) is unreachable: no proxy leads there", async () => {
    const { auto, made } = setup("auto", new ConnectFailure("network"), true, null);
    await expect(auto.open()).rejects.toMatchObject({ code: "network" });
    expect(made).toEqual(["webrtc"]);
  });

  it("does not fall back when the calls URL is not the kernel's local server (no proxy leads there)", async () => {
    const { auto, made } = setup("auto", new ConnectFailure("network"), true, 9999);
    await expect(auto.open()).rejects.toMatchObject({ code: "network" });
    expect(made).toEqual(["webrtc"]);
  });

  it("does not fall back from failures the WebSocket would meet too", async () => {
    const { auto, made } = setup("auto", new ConnectFailure("bad_key"));
    await expect(auto.open()).rejects.toMatchObject({ code: "bad_key" });
    expect(made).toEqual(["webrtc"]);
  });

  it("never falls back when WebRTC was asked for, nor after an abort", async () => {
    const asked = setup("webrtc", new ConnectFailure("ice_failed"));
    await expect(asked.auto.open()).rejects.toMatchObject({ code: "ice_failed" });
    expect(asked.made).toEqual(["webrtc"]);
    const aborted = setup("auto", new Aborted());
    await expect(aborted.auto.open()).rejects.toBeInstanceOf(Aborted);
    expect(aborted.made).toEqual(["webrtc"]);
  });

  it("passes a mute set before the fallback on to the WebSocket", async () => {
    const { auto, ws } = setup("auto", new ConnectFailure("ice_failed"));
    auto.setMuted(true);
    await auto.open();
    expect(ws.muted).toBe(true);
  });
});

describe("TransportReport", () => {
  it("says nothing for WebRTC", () => {
    const report = new TransportReport();
    report.observe("transport", { transport: "webrtc", reason: "the default (auto)" });
    expect(report.observe("connected", { call_id: "rtc_1" })).toBeNull();
  });

  it("names the WebSocket, its route and why", () => {
    const report = new TransportReport();
    report.observe("transport", { transport: "websocket", reason: "the server was not reachable" });
    const notice = report.observe("connected", { transport: "websocket", route: "jupyter-proxy" });
    expect(notice?.text).toBe(
      "Connected over WebSocket, through the Jupyter server (jupyter-server-proxy) (the server was not reachable).",
    );
  });
});
