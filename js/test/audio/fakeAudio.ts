// A Web Audio stand-in for the mixer's tests: nodes that remember their connections, buffer sources the test ends
// by hand, and a clock the test moves.
import type { MixerContext } from "../../src/audio/micMixer";

export class FakeNode {
  readonly connections = new Set<FakeNode>();
  disconnected = false;
  connect(node: FakeNode): FakeNode {
    this.connections.add(node);
    return node;
  }
  disconnect(): void {
    this.connections.clear();
    this.disconnected = true;
  }
}

export class FakeSource extends FakeNode {
  buffer: { length: number; sampleRate: number; data: Float32Array } | null = null;
  onended: (() => void) | null = null;
  startedAt: number | null = null;
  stopped = false;
  readonly offset = { value: 1 };
  start(when = 0): void {
    this.startedAt = when;
  }
  stop(): void {
    this.stopped = true;
  }
  /** The browser reached the end of this buffer. */
  end(): void {
    this.onended?.();
  }
}

export class FakeAudioContext {
  currentTime = 10;
  state: AudioContextState = "running";
  readonly sources: FakeSource[] = [];
  readonly constants: FakeSource[] = [];
  readonly micSources: FakeNode[] = [];
  readonly destinationTrack = { kind: "audio", stop: () => undefined };
  resumed = 0;

  createGain(): FakeNode {
    return new FakeNode();
  }
  createConstantSource(): FakeSource {
    const source = new FakeSource();
    this.constants.push(source);
    return source;
  }
  createBuffer(_channels: number, length: number, sampleRate: number) {
    const data = new Float32Array(length);
    return { length, sampleRate, duration: length / sampleRate, data, getChannelData: () => data };
  }
  createBufferSource(): FakeSource {
    const source = new FakeSource();
    this.sources.push(source);
    return source;
  }
  createMediaStreamSource(): FakeNode {
    const node = new FakeNode();
    this.micSources.push(node);
    return node;
  }
  createMediaStreamDestination() {
    const node = new FakeNode();
    const track = this.destinationTrack;
    return Object.assign(node, { stream: { getAudioTracks: () => [track], getTracks: () => [track] } });
  }
  resume(): Promise<void> {
    this.resumed++;
    this.state = "running";
    return Promise.resolve();
  }
  asMixerContext(): MixerContext {
    return this as unknown as MixerContext;
  }
}

export function fakeStream(tracks = 1): MediaStream {
  const list = Array.from({ length: tracks }, () => ({ kind: "audio" }));
  return { getAudioTracks: () => list, getTracks: () => list } as unknown as MediaStream;
}
