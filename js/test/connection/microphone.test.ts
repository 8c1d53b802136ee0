import { afterEach, describe, expect, it, vi } from "vitest";
import { acquireMicrophone, inVsCodeWebview, micOff, onMicrophoneLost, reasonFor } from "../../src/connection/microphone";

afterEach(() => {
  vi.unstubAllGlobals();
});

const VS_CODE_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.100.3 Chrome/132.0.6834.210 " +
  "Electron/34.5.1 Safari/537.36";

describe("why the microphone is off", () => {
  it("maps getUserMedia's errors to reasons", () => {
    expect(reasonFor(new DOMException("x", "NotAllowedError"))).toBe("denied");
    expect(reasonFor(new DOMException("x", "SecurityError"))).toBe("denied");
    expect(reasonFor(new DOMException("x", "NotFoundError"))).toBe("missing");
    expect(reasonFor(new DOMException("x", "NotReadableError"))).toBe("missing");
    expect(reasonFor(new DOMException("x", "AbortError"))).toBe("failed");
    expect(reasonFor("weird")).toBe("failed");
  });

  it("knows a refusal inside VS Code's webview is VS Code's, not the user's", () => {
    vi.stubGlobal("navigator", { userAgent: VS_CODE_AGENT });
    expect(inVsCodeWebview()).toBe(true);
    expect(reasonFor(new DOMException("Permission denied", "NotAllowedError"))).toBe("vscode_webview");
    expect(micOff("vscode_webview").message).toContain("microsoft/vscode#119127");
    vi.stubGlobal("navigator", { userAgent: "Mozilla/5.0 Chrome/140.0 Safari/537.36" });
    expect(inVsCodeWebview()).toBe(false);
    vi.stubGlobal("location", { protocol: "vscode-webview:" });
    expect(inVsCodeWebview()).toBe(true);
  });

  it("every reason says the mic is off and gives a way forward", () => {
    for (const reason of ["not_requested", "insecure_context", "unsupported", "vscode_webview", "denied", "missing", "lost", "failed"] as const) {
      const off = micOff(reason, "x".repeat(1000));
      expect(off.message).toMatch(/^The microphone is off/);
      expect(off.hint).toMatch(/^Type to talk; the assistant still answers aloud\./);
      expect(off.detail).toHaveLength(300);
    }
  });

  it("stops a stream that has no audio track and says the mic is missing", async () => {
    const stop = vi.fn();
    const stream = { getAudioTracks: () => [], getTracks: () => [{ stop }] };
    vi.stubGlobal("navigator", { mediaDevices: { getUserMedia: () => Promise.resolve(stream) } });
    const result = await acquireMicrophone(true, {});
    expect(result.on).toBe(false);
    if (!result.on) expect(result.off.reason).toBe("missing");
    expect(stop).toHaveBeenCalled();
  });
});

describe("a microphone lost mid-call", () => {
  function fakeTrack(): EventTarget & { label: string } {
    return Object.assign(new EventTarget(), { label: "Fake Mic" });
  }

  it("goes receive-only and says why, once", () => {
    const track = fakeTrack();
    const timeline = vi.fn();
    const off = vi.fn();
    onMicrophoneLost(track as unknown as MediaStreamTrack, { timeline, micOff: off }, () => false);
    track.dispatchEvent(new Event("ended"));
    track.dispatchEvent(new Event("ended"));
    expect(off).toHaveBeenCalledTimes(1);
    expect(off.mock.calls[0]?.[0]).toMatchObject({ reason: "lost", detail: "Fake Mic ended." });
    expect(timeline.mock.calls.map((c): unknown => c[0])).toEqual(["mic_error", "mic_off"]);
    expect(timeline.mock.calls[0]?.[1]).toEqual({ code: "mic_missing", message: "Fake Mic ended." });
  });

  it("says nothing once the connection is closed", () => {
    const track = fakeTrack();
    const off = vi.fn();
    onMicrophoneLost(track as unknown as MediaStreamTrack, { timeline: vi.fn(), micOff: off }, () => true);
    track.dispatchEvent(new Event("ended"));
    expect(off).not.toHaveBeenCalled();
  });
});
