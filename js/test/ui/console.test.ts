// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountConsole } from "../../src/ui/console";
import { SHOW_PENDING_AFTER_MS } from "../../src/ui/shownStatus";
import { FakeController, FakeModel, mountFakeConsole, serverEvent } from "./fakes";

let el: HTMLElement;
let controller: FakeController;
let model: FakeModel;
let unmount: () => void;

/** The element with this data-testid; given an element class, also checks that it is one. */
function q(testId: string): HTMLElement;
function q<T extends HTMLElement>(testId: string, type: abstract new () => T): T;
function q(testId: string, type: abstract new () => HTMLElement = HTMLElement): HTMLElement {
  const found = el.querySelector(`[data-testid="${testId}"]`);
  if (!(found instanceof type)) throw new Error(`no ${type.name} [data-testid="${testId}"]`);
  return found;
}

beforeEach(() => {
  ({ el, controller, model, unmount } = mountFakeConsole());
});

afterEach(() => {
  unmount();
  el.remove();
  vi.useRealTimers();
});

describe("connection controls", () => {
  it("the primary button connects, then disconnects, following the status", () => {
    vi.useFakeTimers();
    q("connect").click();
    expect(controller.callsOf("connect")).toHaveLength(1);

    controller.setStatus("connecting");
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS); // a connect shows once it has lasted this long
    expect(el.querySelector('[data-testid="connect"]')).toBeNull();
    expect(q("disconnect").textContent).toBe("Cancel");

    controller.setStatus("connected");
    expect(q("disconnect").textContent).toBe("Disconnect");
    q("disconnect").click();
    expect(controller.callsOf("disconnect")).toHaveLength(1);
  });

  it("pressing Connect (pointer or Space) opens the mic ahead of the click; pressing Disconnect does not", () => {
    q("connect").dispatchEvent(new PointerEvent("pointerdown", { button: 0, bubbles: true }));
    q("connect").dispatchEvent(new PointerEvent("pointerdown", { button: 2, bubbles: true }));
    q("connect").dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true }));
    q("connect").dispatchEvent(new KeyboardEvent("keydown", { key: " ", repeat: true, bubbles: true }));
    expect(controller.callsOf("pressConnect")).toHaveLength(2);
    expect(controller.callsOf("connect")).toHaveLength(0);

    controller.setStatus("connected");
    q("disconnect").dispatchEvent(new PointerEvent("pointerdown", { button: 0, bubbles: true }));
    expect(controller.callsOf("pressConnect")).toHaveLength(2);
  });

  it("the badge shows the status in words and the time connected", () => {
    unmount();
    vi.useFakeTimers();
    unmount = mountConsole(el, model, controller);
    expect(q("status").textContent).toContain("Not connected");
    controller.setStatus("connected");
    expect(q("status").dataset["status"]).toBe("connected");
    expect(q("status").textContent).toContain("Connected");
    vi.advanceTimersByTime(65_000);
    expect(q("connected-time").textContent).toBe("01:05");
    controller.setStatus("failed");
    expect(q("status").textContent).toContain("Connection failed");
    expect(q("connected-time").hidden).toBe(true);
  });

  it("marks recording: hidden when off, quiet before a call, live while the call's audio is recorded", () => {
    expect(q("recording").hidden).toBe(true);
    model.kernelSets("record_audio", true);
    expect(q("recording").hidden).toBe(false);
    expect(q("recording").dataset["live"]).toBe("false");
    expect(q("recording").textContent).toBe("Records audio");
    controller.recording = true;
    controller.emit("recording", true);
    expect(q("recording").dataset["live"]).toBe("true");
    expect(q("recording").textContent).toBe("Recording");
    controller.recording = false;
    controller.emit("recording", false);
    expect(q("recording").textContent).toBe("Records audio");
  });

  it("shows which reconnect attempt is under way", () => {
    controller.setStatus("reconnecting");
    controller.emit("timeline", { k: "timeline", t: 0, what: "reconnect_scheduled", attempt: 3, detail: { reconnect: 2, delay_ms: 1000 } });
    expect(q("status").textContent).toContain("Reconnecting… (attempt 2)");
    controller.setStatus("connected");
    expect(q("status").textContent).toContain("Connected");
  });

  it("says the connection was lost, which attempt of how many, and when the next comes", () => {
    vi.useFakeTimers();
    vi.setSystemTime(100_000);
    unmount(); // mount again so the countdown's interval runs on the fake clock
    unmount = mountConsole(el, model, controller);
    model.kernelSets("options", { ...model.get("options"), reconnect: { max_attempts: 5, base_delay_ms: 500, max_delay_ms: 8000 } });
    expect(q("reconnecting").hidden).toBe(true);
    controller.setStatus("reconnecting");
    controller.emit("timeline", { k: "timeline", t: 100_000, what: "reconnect_scheduled", attempt: 3, detail: { reconnect: 2, delay_ms: 2400 } });
    expect(q("reconnecting").hidden).toBe(false);
    expect(q("reconnecting").textContent).toContain("Connection lost");
    expect(q("reconnect-detail").textContent).toBe("Attempt 2 of 5 · next try in 3 s");
    vi.advanceTimersByTime(2500);
    expect(q("reconnect-detail").textContent).toBe("Attempt 2 of 5 · trying now");
    controller.setStatus("connected");
    expect(q("reconnecting").hidden).toBe(true);
  });

  it("mute toggles the controller and shows the pressed state", () => {
    q("mute").click();
    expect(controller.callsOf("setMuted")).toEqual([[true]]);
    expect(q("mute").getAttribute("aria-pressed")).toBe("true");
    q("mute").click();
    expect(controller.callsOf("setMuted")).toEqual([[true], [false]]);
  });

  it("interrupt is enabled only while connected and calls the controller", () => {
    expect(q("interrupt", HTMLButtonElement).disabled).toBe(true);
    controller.setStatus("connected");
    q("interrupt").click();
    expect(controller.callsOf("interrupt")).toHaveLength(1);
  });

  it("Enter in the text box sends the message and clears the box", () => {
    controller.setStatus("connected");
    const input = q("text-input", HTMLInputElement);
    input.value = "  hello there ";
    const enter = new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true });
    input.dispatchEvent(enter);
    expect(controller.callsOf("sendText")).toEqual([["hello there"]]);
    expect(input.value).toBe("");
    expect(enter.defaultPrevented).toBe(true);
  });

  it("the Send button submits too; nothing is sent while disconnected", () => {
    const input = q("text-input", HTMLInputElement);
    input.value = "hi";
    expect(q("send", HTMLButtonElement).disabled).toBe(true);
    controller.setStatus("connected");
    input.closest("form")!.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
    expect(controller.callsOf("sendText")).toEqual([["hi"]]);
  });

  it("keys typed in the console do not reach the notebook's shortcuts, except Escape", () => {
    const seen: string[] = [];
    const onKey = (e: KeyboardEvent) => seen.push(e.key);
    document.addEventListener("keydown", onKey);
    q("text-input").dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
    q("instructions").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    q("text-input").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    document.removeEventListener("keydown", onKey);
    expect(seen).toEqual(["Escape"]);
  });
});

describe("push-to-talk", () => {
  it("is offered only when turn detection is none", () => {
    expect(q("ptt").hidden).toBe(true);
    q("use-ptt").click();
    expect(model.state["settings"]).toMatchObject({ turn_detection: "none" });
    expect(q("ptt").hidden).toBe(false);
  });

  it("holding the button or Space talks; releasing stops", () => {
    model.kernelSets("settings", { voice: "marin", instructions: "", turn_detection: "none" });
    controller.setStatus("connected");
    const ptt = q("ptt");
    ptt.dispatchEvent(new PointerEvent("pointerdown", { button: 0, pointerId: 1, bubbles: true }));
    expect(ptt.getAttribute("aria-pressed")).toBe("true");
    expect(ptt.textContent).toContain("Release to send");
    ptt.dispatchEvent(new PointerEvent("pointerup", { button: 0, pointerId: 1, bubbles: true }));
    expect(ptt.getAttribute("aria-pressed")).toBe("false");
    expect(controller.callsOf("pushToTalk")).toEqual([[true], [false]]);

    const root = q("console");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true }));
    root.dispatchEvent(new KeyboardEvent("keydown", { key: " ", repeat: true, bubbles: true }));
    root.dispatchEvent(new KeyboardEvent("keyup", { key: " ", bubbles: true }));
    expect(controller.callsOf("pushToTalk")).toEqual([[true], [false], [true], [false]]);
  });

  it("Space typed into the text box is just a space", () => {
    model.kernelSets("settings", { voice: "marin", instructions: "", turn_detection: "none" });
    controller.setStatus("connected");
    q("text-input").dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true }));
    expect(controller.callsOf("pushToTalk")).toEqual([]);
  });
});

describe("settings", () => {
  it("edits write the settings trait and are locked while connected", () => {
    const voice = q("voice", HTMLSelectElement);
    expect([...voice.options].map((o) => o.value)).toContain("cedar");
    voice.value = "cedar";
    voice.dispatchEvent(new Event("change"));
    expect(model.state["settings"]).toMatchObject({ voice: "cedar" });
    expect(model.saves).toBeGreaterThan(0);

    controller.setStatus("connected");
    expect(voice.disabled).toBe(true);
    expect(q("turn-detection", HTMLSelectElement).disabled).toBe(true);
    expect(q("instructions", HTMLTextAreaElement).disabled).toBe(true);
    expect(q("settings-note").hidden).toBe(false);
  });

  it("fold away while connected, showing what is in use, and unfold after", () => {
    const panel = q("settings", HTMLDetailsElement);
    expect(panel.open).toBe(true);
    vi.useFakeTimers();
    controller.setStatus("connecting");
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS);
    expect(panel.open).toBe(false);
    expect(q("settings-summary").textContent).toBe("marin · Server VAD");
    panel.open = true; // a person may still look
    controller.setStatus("connected");
    expect(panel.open).toBe(true);
    controller.setStatus("closed");
    expect(panel.open).toBe(true);
  });

  it("follows changes made in Python", () => {
    model.kernelSets("settings", { voice: "sage", instructions: "Be brief.", turn_detection: "semantic_vad" });
    expect(q("voice", HTMLSelectElement).value).toBe("sage");
    expect(q("instructions", HTMLTextAreaElement).value).toBe("Be brief.");
    expect(q("turn-detection", HTMLSelectElement).value).toBe("semantic_vad");
  });

  it("lists microphones and writes the chosen device id", async () => {
    controller.microphones = [
      { deviceId: "mic-a", kind: "audioinput", label: "Desk mic", groupId: "g" } as MediaDeviceInfo,
    ];
    controller.setStatus("connected"); // refreshes the list
    await vi.waitFor(() => expect(q("mic-select", HTMLSelectElement).options.length).toBe(2));
    expect(q("mic-select", HTMLSelectElement).disabled).toBe(true);
    controller.setStatus("closed");
    const select = q("mic-select", HTMLSelectElement);
    select.value = "mic-a";
    select.dispatchEvent(new Event("change"));
    expect(model.state["options"]).toMatchObject({ audio: { deviceId: "mic-a", echoCancellation: true } });
  });
});

describe("errors", () => {
  const hostile = '<img src=x onerror="window.__pwned=1">';

  it("render as text, never as markup", () => {
    controller.error = { code: "network", message: hostile, hint: hostile };
    controller.emit("error", controller.error);
    const panel = q("error");
    expect(panel.hidden).toBe(false);
    expect(q("error-message").textContent).toBe(hostile);
    expect(el.querySelector("img")).toBeNull();
  });

  it("show the error trait set by the kernel, and can be dismissed; the main button retries", () => {
    model.kernelSets("error", { code: "bad_key", message: "The API key was rejected (401).", hint: "Check OPENAI_API_KEY." });
    controller.setStatus("failed");
    expect(q("error-message").textContent).toBe("The API key was rejected (401).");
    expect(q("error-hint").textContent).toBe("Check OPENAI_API_KEY.");
    // One way to try again: the main button, not a second one in the alert.
    expect(el.querySelectorAll('[data-testid="retry"]')).toHaveLength(1);
    expect(q("error").contains(q("retry"))).toBe(false);
    expect(q("retry").textContent).toBe("Try again");
    q("retry").click();
    expect(controller.callsOf("connect")).toHaveLength(1);
    q("dismiss").click();
    expect(q("error").hidden).toBe(true);
  });

  it("a dismissed error shows again when the failure happens again", () => {
    const error = { code: "network" as const, message: "The server could not be reached.", hint: "Is it running?" };
    controller.emit("error", error);
    q("dismiss").click();
    expect(q("error").hidden).toBe(true);
    controller.emit("error", null);
    controller.emit("error", error);
    expect(q("error").hidden).toBe(false);
  });

  it("kernel notices render as text", () => {
    controller.emit("notice", { name: "notice", level: "warning", text: hostile });
    expect(q("notice").textContent).toContain(hostile);
    expect(el.querySelector("img")).toBeNull();
  });

  it("a failed response shows its message, the kernel's hint and the code; old ones from history do not", () => {
    model.kernelSets("problem_hints", { codes: { insufficient_quota: "Check billing." }, default: "See the log." });
    const failed = {
      type: "response.done",
      response: {
        id: "resp_1",
        status: "failed",
        status_details: { type: "failed", error: { type: "insufficient_quota", code: "insufficient_quota", message: hostile } },
      },
    };
    controller.emit("event", serverEvent(failed, Date.now() - 60_000));
    expect(el.querySelector('[data-testid="notice"]')).toBeNull();
    controller.emit("event", serverEvent(failed, Date.now()));
    const notice = q("notice");
    expect(notice.dataset["level"]).toBe("error");
    expect(notice.dataset["code"]).toBe("insufficient_quota");
    expect(notice.textContent).toContain(hostile);
    expect(notice.textContent).toContain("Check billing.");
    expect(el.querySelector("img")).toBeNull();
  });

  it("shows waiting-for-kernel and the enable-audio prompt", async () => {
    controller.emit("kernelWaiting", true);
    expect(q("kernel-waiting").hidden).toBe(false);
    controller.emit("kernelWaiting", false);
    expect(q("kernel-waiting").hidden).toBe(true);

    controller.emit("autoplayBlocked", true);
    q("enable-audio").click();
    expect(controller.callsOf("enableAudio")).toHaveLength(1);
    await vi.waitFor(() => expect(q("autoplay").hidden).toBe(true));
  });
});

describe("without a microphone", () => {
  function micOff(message: string) {
    const off = { reason: "denied" as const, message, hint: "Allow the microphone for this page.", detail: "NotAllowedError" };
    controller.micOff = off;
    controller.emit("micOff", off);
  }

  it("says plainly why the mic is off and how to turn it on, as text, and disables mute and push-to-talk", () => {
    model.kernelSets("settings", { ...(model.get("settings") as object), turn_detection: "none" });
    controller.setStatus("connecting");
    micOff("The microphone is off: <b>refused</b>.");
    controller.setStatus("connected");
    expect(q("mic-off").hidden).toBe(false);
    expect(q("mic-off").dataset["reason"]).toBe("denied");
    expect(q("mic-off-message").textContent).toBe("The microphone is off: <b>refused</b>.");
    expect(q("mic-off").querySelector("b")).toBeNull();
    expect(q("mic-off-hint").textContent).toBe("Allow the microphone for this page.");
    expect((q("mute") as HTMLButtonElement).disabled).toBe(true);
    expect((q("ptt") as HTMLButtonElement).disabled).toBe(true);
    // Typing still works.
    expect((q("text-input") as HTMLTextAreaElement).disabled).toBe(false);
  });

  it("hides the notice once a connection has the microphone again", () => {
    controller.setStatus("connected");
    micOff("The microphone is off.");
    expect(q("mic-off").hidden).toBe(false);
    controller.micOff = null;
    controller.emit("micOff", null);
    expect(q("mic-off").hidden).toBe(true);
    expect((q("mute") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("presentation and cleanup", () => {
  it("the presentation toggle writes the trait and restyles the view", () => {
    q("presentation").click();
    expect(model.state["presentation"]).toBe(true);
    expect(q("console").classList.contains("rtw-presentation")).toBe(true);
    model.kernelSets("presentation", false);
    expect(q("console").classList.contains("rtw-presentation")).toBe(false);
  });

  it("removing the view unsubscribes everything and clears timers", () => {
    vi.useFakeTimers();
    const second = document.createElement("div");
    const unmountSecond = mountConsole(second, model, controller);
    const before = controller.listenerCount();
    unmountSecond();
    expect(controller.listenerCount()).toBeLessThan(before);
    unmount();
    unmount = () => undefined;
    expect(controller.listenerCount()).toBe(0);
    expect(model.handlerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(el.childElementCount).toBe(0);
  });
});
