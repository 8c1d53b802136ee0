import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MicResult } from "../../src/connection/microphone";
import { PRESS_HOLD_MS, PressedMicrophone } from "../../src/connection/pressedMicrophone";

function fakeMic(): { result: MicResult; stop: ReturnType<typeof vi.fn> } {
  const stop = vi.fn();
  const track = { stop } as unknown as MediaStreamTrack;
  const stream = { getTracks: () => [track], getAudioTracks: () => [track] } as unknown as MediaStream;
  return { result: { on: true, stream, track }, stop };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the microphone a press of Connect opens", () => {
  it("is opened once per press and given to the connect that follows, once", async () => {
    const mic = fakeMic();
    const acquire = vi.fn(() => Promise.resolve(mic.result));
    const pressed = new PressedMicrophone(acquire);
    pressed.press({ echoCancellation: true });
    pressed.press({ echoCancellation: true }); // pointerdown, then the key: still one getUserMedia
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(acquire).toHaveBeenCalledWith(true, { echoCancellation: true });
    const taken = pressed.take({ echoCancellation: true });
    expect(await taken).toBe(mic.result);
    expect(pressed.take({ echoCancellation: true })).toBeNull();
    await vi.advanceTimersByTimeAsync(PRESS_HOLD_MS * 2);
    expect(mic.stop).not.toHaveBeenCalled(); // the connect owns it now
  });

  it("gives the device back when no connect takes it in time, even if getUserMedia answers later", async () => {
    const mic = fakeMic();
    let answer: (r: MicResult) => void = () => undefined;
    const pressed = new PressedMicrophone(() => new Promise<MicResult>((resolve) => (answer = resolve)));
    pressed.press({});
    await vi.advanceTimersByTimeAsync(PRESS_HOLD_MS);
    expect(pressed.take({})).toBeNull();
    answer(mic.result); // the permission prompt answered after the press was given up
    await vi.advanceTimersByTimeAsync(0);
    expect(mic.stop).toHaveBeenCalledTimes(1);
  });

  it("is not used for other constraints (another device chosen meanwhile), and is stopped", async () => {
    const first = fakeMic();
    const pressed = new PressedMicrophone(() => Promise.resolve(first.result));
    pressed.press({ deviceId: { exact: "a" } });
    expect(pressed.take({ deviceId: { exact: "b" } })).toBeNull();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.stop).toHaveBeenCalledTimes(1);
  });

  it("a press with new constraints replaces the previous one; release stops what is held", async () => {
    const a = fakeMic();
    const b = fakeMic();
    const results = [a.result, b.result];
    const pressed = new PressedMicrophone(() => Promise.resolve(results.shift()!));
    pressed.press({ deviceId: { exact: "a" } });
    pressed.press({ deviceId: { exact: "b" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(a.stop).toHaveBeenCalledTimes(1);
    pressed.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.stop).toHaveBeenCalledTimes(1);
    expect(pressed.take({ deviceId: { exact: "b" } })).toBeNull();
  });

  it("a refused microphone is handed on as it is, for the connect to report", async () => {
    const refused: MicResult = { on: false, off: { reason: "denied", message: "m", hint: "h", detail: "" } as never };
    const pressed = new PressedMicrophone(() => Promise.resolve(refused));
    pressed.press({});
    expect(await pressed.take({})).toBe(refused);
  });
});
