import { describe, expect, it } from "vitest";
import { LOOKAHEAD_S, Player, STRETCH_S, type AudioContextLike } from "../../src/replay/player";
import type { Clip, ReplayKernel } from "../../src/replay/wire";

interface Started {
  when: number;
  offset: number;
  length: number;
  rate: number;
}

/** A clock the test moves by hand, and a record of every buffer started on it. */
function fakeContext(): { context: AudioContextLike; started: Started[]; advance: (s: number) => void } {
  const started: Started[] = [];
  const state = { now: 100 };
  const context = {
    get currentTime() {
      return state.now;
    },
    state: "running",
    destination: {},
    resume: () => Promise.resolve(),
    close: () => Promise.resolve(),
    createBuffer: (_channels: number, length: number, rate: number) => ({
      duration: length / rate,
      length,
      sampleRate: rate,
      getChannelData: () => new Float32Array(length),
    }),
    createBufferSource: () => {
      const source = {
        buffer: null as { length: number; sampleRate: number } | null,
        onended: null,
        connect: () => undefined,
        stop: () => undefined,
        start: (when: number, offset: number) =>
          started.push({ when, offset, length: source.buffer?.length ?? 0, rate: source.buffer?.sampleRate ?? 0 }),
      };
      return source;
    },
  } as unknown as AudioContextLike;
  return { context, started, advance: (s) => (state.now += s) };
}

function fakeKernel(requests: Array<[number, number]>, rate = 100): ReplayKernel {
  return {
    audio: (start: number, duration: number): Promise<Clip[]> => {
      requests.push([start, duration]);
      return Promise.resolve([
        { side: "user", start, sampleRate: rate, samples: new Int16Array(Math.round(duration * rate)) },
        { side: "assistant", start: start + 1, sampleRate: rate, samples: new Int16Array(rate) },
      ]);
    },
  } as unknown as ReplayKernel;
}

describe("replay playback", () => {
  it("plays from the clicked second, both sides in step, and the time runs with the audio clock", async () => {
    const { context, started, advance } = fakeContext();
    const requests: Array<[number, number]> = [];
    const player = new Player(fakeKernel(requests), 60, () => undefined, () => context);
    await player.playFrom(12.5);
    expect(requests).toEqual([[12.5, STRETCH_S]]);
    expect(player.state).toBe("playing");
    expect(player.currentTime).toBe(12.5); // the first samples are scheduled a little ahead
    const [user, assistant] = started;
    expect(assistant!.when - user!.when).toBeCloseTo(1, 9); // the assistant's clip begins 1 s later
    advance(2.05);
    expect(player.currentTime).toBeCloseTo(14.5, 9);
  });

  it("fetches the next stretch before this one runs out, and stops at the end", async () => {
    const { context, advance } = fakeContext();
    const requests: Array<[number, number]> = [];
    const player = new Player(fakeKernel(requests), 10, () => undefined, () => context);
    await player.playFrom(0);
    advance(STRETCH_S - LOOKAHEAD_S - 0.5);
    player.tick();
    expect(requests).toHaveLength(1);
    advance(1);
    player.tick();
    await Promise.resolve();
    expect(requests).toEqual([
      [0, STRETCH_S],
      [STRETCH_S, STRETCH_S],
    ]);
    advance(20);
    player.tick();
    expect(player.state).toBe("paused");
    expect(player.currentTime).toBe(10);
    player.toggle(); // at the end, play starts again from the beginning
    await Promise.resolve();
    expect(requests.at(-1)).toEqual([0, STRETCH_S]);
  });

  it("pauses where it is, and seeks without playing while paused", async () => {
    const { context, advance } = fakeContext();
    const changes: string[] = [];
    const player = new Player(fakeKernel([]), 60, () => changes.push(player.state), () => context);
    await player.playFrom(5);
    advance(3.05);
    player.pause();
    expect(player.currentTime).toBeCloseTo(8, 9);
    advance(5);
    expect(player.currentTime).toBeCloseTo(8, 9);
    player.seek(-4);
    expect(player.currentTime).toBe(0);
    expect(player.state).toBe("paused");
    expect(changes).toEqual(["loading", "playing", "paused", "paused"]);
  });

  it("ignores audio that arrives after a newer click", async () => {
    const { context, started } = fakeContext();
    let release: () => void = () => undefined;
    const slow = {
      audio: (start: number): Promise<Clip[]> =>
        new Promise((resolve) => {
          release = () => resolve([{ side: "user", start, sampleRate: 100, samples: new Int16Array(100) }]);
        }),
    } as unknown as ReplayKernel;
    const player = new Player(slow, 60, () => undefined, () => context);
    const first = player.playFrom(3);
    const releaseFirst = release;
    const second = player.playFrom(30);
    release();
    await second;
    releaseFirst();
    await first;
    expect(started).toHaveLength(1);
    expect(player.currentTime).toBe(30);
  });
});
