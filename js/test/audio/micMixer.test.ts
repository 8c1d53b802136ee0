import { describe, expect, it } from "vitest";
import { MicMixer, pcm16ToFloat, START_LEAD_S } from "../../src/audio/micMixer";
import { FakeAudioContext, fakeStream } from "./fakeAudio";

function mixer() {
  const context = new FakeAudioContext();
  return { context, mixer: new MicMixer(context.asMixerContext()) };
}

describe("the mic mixer", () => {
  it("sums the microphone and played speech on one bus, which a silent source keeps sounding", () => {
    const { context, mixer: m } = mixer();
    const keepAlive = context.constants[0]!;
    expect(keepAlive.offset.value).toBe(0);
    expect(keepAlive.startedAt).toBe(0);
    expect(keepAlive.connections.has(m.bus as never)).toBe(true);
    m.setMic(fakeStream());
    expect(context.micSources[0]!.connections.has(m.bus as never)).toBe(true);
    m.enqueue(new Int16Array(2400), 24_000);
    expect(context.sources[0]!.connections.has(m.bus as never)).toBe(true);
    expect(m.track).toBe(context.destinationTrack); // what a WebRTC sender sends
  });

  it("without a microphone the bus carries the played speech alone, and a lost mic leaves it", () => {
    const { context, mixer: m } = mixer();
    m.setMic(null);
    expect(context.micSources).toHaveLength(0);
    m.setMic(fakeStream());
    m.setMic(fakeStream(0)); // a stream whose track ended
    expect(context.micSources[0]!.disconnected).toBe(true);
    expect(context.micSources).toHaveLength(1);
  });

  it("queues the chunks of a turn back to back, a moment after now, and says when it will play", () => {
    const { context, mixer: m } = mixer();
    const first = m.enqueue(new Int16Array(24_000), 24_000);
    const second = m.enqueue(new Int16Array(12_000), 24_000);
    expect(first.start).toBeCloseTo(10 + START_LEAD_S, 9);
    expect(first.end).toBeCloseTo(first.start + 1, 9);
    expect(second.start).toBeCloseTo(first.end, 9); // no gap between chunks
    expect(context.sources.map((s) => s.startedAt)).toEqual([first.start, second.start]);
    expect(m.playing).toBe(true);
  });

  it("resolves drained once every chunk has played, and starts afresh after", async () => {
    const { context, mixer: m } = mixer();
    m.enqueue(new Int16Array(100), 24_000);
    m.enqueue(new Int16Array(100), 24_000);
    const drained = m.drained();
    context.sources[0]!.end();
    expect(m.playing).toBe(true);
    context.sources[1]!.end();
    await expect(drained).resolves.toBe(true);
    expect(m.playing).toBe(false);
    context.currentTime = 50;
    expect(m.enqueue(new Int16Array(10), 24_000).start).toBeCloseTo(50 + START_LEAD_S, 9);
  });

  it("stop silences what is playing and queued at once, and the wait says it was cut off", async () => {
    const { context, mixer: m } = mixer();
    m.setMic(fakeStream());
    m.enqueue(new Int16Array(24_000), 24_000);
    m.enqueue(new Int16Array(24_000), 24_000);
    const drained = m.drained();
    m.stop();
    expect(context.sources.every((s) => s.stopped && s.disconnected)).toBe(true);
    await expect(drained).resolves.toBe(false);
    expect(m.playing).toBe(false);
    expect(context.micSources[0]!.disconnected).toBe(false); // the microphone goes on
  });

  it("wakes a suspended context when there is something to play", () => {
    const { context, mixer: m } = mixer();
    context.state = "suspended";
    m.enqueue(new Int16Array(10), 24_000);
    expect(context.resumed).toBe(1);
  });

  it("turns PCM16 into the floats Web Audio plays", () => {
    expect(Array.from(pcm16ToFloat(new Int16Array([0, 16384, -32768])))).toEqual([0, 0.5, -1]);
  });
});
