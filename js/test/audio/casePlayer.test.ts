import { describe, expect, it } from "vitest";
import {
  CasePlayer,
  parsePlayMessage,
  pcmFromBuffers,
  type PlayCommand,
  type PlayState,
} from "../../src/audio/casePlayer";
import { MicMixer } from "../../src/audio/micMixer";
import { FakeAudioContext } from "./fakeAudio";

function setup(connected = true) {
  const context = new FakeAudioContext();
  const mixer = new MicMixer(context.asMixerContext());
  const timeline: Array<[string, Record<string, unknown>]> = [];
  const states: Array<PlayState | null> = [];
  const player = new CasePlayer({
    mixer: () => Promise.resolve(connected ? mixer : null),
    timeline: (what, detail) => timeline.push([what, detail]),
    changed: (state) => states.push(state),
    now: () => 1000,
  });
  return { context, player, timeline, states };
}

const pcm = (samples: number[]): DataView => new DataView(new Int16Array(samples).buffer);

function audio(step: number, seq: number, last: boolean): PlayCommand {
  return { name: "play_audio", play_id: "p1", step, seq, sample_rate: 24_000, last };
}

/** Lets the player's queue of audio commands run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the case player", () => {
  it("reads play commands from the kernel's envelope, and nothing else", () => {
    const command = { name: "play_step", play_id: "p1", step: 2, what: "type 'hi'" };
    expect(parsePlayMessage({ type: "rtw:cmd", command })).toEqual(command);
    expect(parsePlayMessage({ type: "rtw:cmd", command: { name: "connect" } })).toBeNull();
    expect(parsePlayMessage({ type: "rtw:cmd", command: { name: "play_audio", play_id: "p1", step: 1 } })).toBeNull();
    expect(parsePlayMessage({ type: "rtw:ack", command })).toBeNull();
  });

  it("decodes little-endian PCM16 from the message's first buffer", () => {
    expect(Array.from(pcmFromBuffers([pcm([1, -2, 300])]) ?? [])).toEqual([1, -2, 300]);
    expect(Array.from(pcmFromBuffers([new Int16Array([7]).buffer]) ?? [])).toEqual([7]);
    expect(pcmFromBuffers([])).toBeNull();
    expect(pcmFromBuffers(undefined)).toBeNull();
  });

  it("shows the case and the step, speaks each chunk in order and says when the speech has sounded", async () => {
    const { context, player, timeline, states } = setup();
    player.handle({ name: "play_start", play_id: "p1", case: "demo", steps: 2 }, []);
    player.handle({ name: "play_step", play_id: "p1", step: 1, what: "say 'hello'" }, []);
    expect(player.state).toMatchObject({ caseName: "demo", step: 1, steps: 2, what: "say 'hello'" });
    player.handle(audio(1, 0, false), [pcm([1, 2, 3])]);
    player.handle(audio(1, 1, true), [pcm([4, 5])]);
    await settle();
    expect(context.sources.map((s) => s.buffer?.length)).toEqual([3, 2]);
    expect(timeline).toEqual([]); // still sounding
    for (const source of context.sources) source.end();
    await settle();
    expect(timeline).toEqual([
      ["play_spoken", { play_id: "p1", step: 1, started_t: expect.any(Number) as number, ended_t: 1000, played: true }],
    ]);
    player.handle({ name: "play_end", play_id: "p1", outcome: "passed", message: "" }, []);
    expect(player.state).toBeNull();
    expect(states.at(-1)).toBeNull();
  });

  it("Stop silences the speech at once, tells the kernel, and drops audio that comes after", async () => {
    const { context, player, timeline } = setup();
    player.handle({ name: "play_start", play_id: "p1", case: "demo", steps: 2 }, []);
    player.handle({ name: "play_step", play_id: "p1", step: 1, what: "say 'hello'" }, []);
    player.handle(audio(1, 0, true), [pcm([1, 2, 3])]);
    await settle();
    player.stop();
    expect(context.sources[0]!.stopped).toBe(true);
    expect(player.state).toMatchObject({ stopping: true });
    expect(timeline).toEqual([["play_stopped", { play_id: "p1", step: 1, by: "user" }]]);
    player.handle(audio(2, 0, true), [pcm([1])]);
    await settle();
    expect(context.sources).toHaveLength(1);
    player.handle({ name: "play_end", play_id: "p1", outcome: "stopped", message: "" }, []);
    expect(player.state).toBeNull();
  });

  it("says when it cannot play: not connected", async () => {
    const { player, timeline } = setup(false);
    player.handle({ name: "play_start", play_id: "p1", case: "demo", steps: 1 }, []);
    player.handle(audio(1, 0, true), [pcm([1])]);
    await settle();
    expect(timeline[0]?.[0]).toBe("play_error");
    expect(timeline[0]?.[1]).toMatchObject({ play_id: "p1", step: 1, reason: "not_connected", message: "Could not play: not connected." });
  });
});
