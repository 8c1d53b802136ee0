import { describe, expect, it } from "vitest";
import { VoiceLatencyDetector } from "../../src/connection/latency";
import type { VoiceLatencyItem } from "../../src/types";

/** Feeds levels every 10 ms: `script` is a list of [durationMs, mic, remote]. */
function run(detector: VoiceLatencyDetector, script: Array<[number, number, number]>, start = 0): VoiceLatencyItem[] {
  const out: VoiceLatencyItem[] = [];
  let t = start;
  for (const [duration, mic, remote] of script) {
    for (let elapsed = 0; elapsed < duration; elapsed += 10) {
      const item = detector.sample(t, mic, remote);
      if (item !== null) out.push(item);
      t += 10;
    }
  }
  return out;
}

const LOUD = 0.8;
const QUIET = 0.05;

describe("VoiceLatencyDetector", () => {
  it("measures from the end of the user's speech to the first rise of the assistant's audio", () => {
    const items = run(new VoiceLatencyDetector(), [
      [500, QUIET, 0],
      [1000, LOUD, 0], // user speaks 500..1500
      [700, QUIET, 0], // silence from 1500; assistant starts at 2200
      [400, QUIET, LOUD],
    ]);
    expect(items).toEqual([
      { k: "voice_latency", t: 2200, ms: 700, user_speech_end_t: 1500, assistant_audio_start_t: 2200 },
    ]);
  });

  it("reports once per turn, and again for the next turn", () => {
    const items = run(new VoiceLatencyDetector(), [
      [500, LOUD, 0],
      [600, QUIET, 0],
      [200, QUIET, LOUD],
      [100, QUIET, 0],
      [200, QUIET, LOUD], // a second rise in the same answer: not a new turn
      [300, QUIET, 0],
      [400, LOUD, 0], // second turn: speech 1900..2300
      [300, QUIET, 0],
      [100, QUIET, LOUD],
    ]);
    expect(items.map((i) => i.ms)).toEqual([600, 300]);
  });

  it("treats a short pause as part of the same speech", () => {
    const items = run(new VoiceLatencyDetector({ silenceMs: 250 }), [
      [300, LOUD, 0],
      [100, QUIET, 0], // pause shorter than silenceMs
      [300, LOUD, 0], // speech continues to 700
      [500, QUIET, 0],
      [100, QUIET, LOUD],
    ]);
    expect(items).toHaveLength(1);
    expect(items[0]?.user_speech_end_t).toBe(700);
    expect(items[0]?.ms).toBe(500);
  });

  it("ignores clicks shorter than minSpeechMs", () => {
    const items = run(new VoiceLatencyDetector({ minSpeechMs: 120 }), [
      [50, LOUD, 0],
      [500, QUIET, 0],
      [100, QUIET, LOUD],
    ]);
    expect(items).toEqual([]);
  });

  it("does not measure assistant audio that was already playing when the user stopped", () => {
    const items = run(new VoiceLatencyDetector(), [
      [500, LOUD, LOUD], // user talks over the assistant
      [400, QUIET, LOUD], // assistant still playing: no rise
      [100, QUIET, 0],
      [100, QUIET, LOUD], // the next rise is the answer to that speech
    ]);
    expect(items.map((i) => i.ms)).toEqual([500]);
  });

  it("counts an answer that starts inside a short pause", () => {
    const items = run(new VoiceLatencyDetector({ silenceMs: 250 }), [
      [300, LOUD, 0],
      [100, QUIET, 0],
      [100, QUIET, LOUD],
    ]);
    expect(items.map((i) => i.ms)).toEqual([100]);
  });
});
