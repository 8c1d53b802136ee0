// Audio levels for the meters (~20 Hz) and the voice-latency detector, from Web Audio analysers on the
// mic and the remote stream. The analysers are not connected to the speakers: the <audio> element plays the sound.
import type { Levels } from "../types";

const TICK_MS = 25;
const EMIT_EVERY = 2; // ticks per `levels` emission: 50 ms, 20 Hz

/** RMS of samples in -1..1, mapped from -60..0 dBFS onto 0..1 (closer to how loud it sounds than raw RMS). */
export function levelFromSamples(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / samples.length);
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

class Meter {
  private readonly buffer: Float32Array<ArrayBuffer>;

  constructor(
    private readonly source: MediaStreamAudioSourceNode,
    private readonly analyser: AnalyserNode,
  ) {
    this.buffer = new Float32Array(analyser.fftSize);
  }

  read(): number {
    this.analyser.getFloatTimeDomainData(this.buffer);
    return levelFromSamples(this.buffer);
  }

  disconnect(): void {
    this.source.disconnect();
  }
}

export type LevelTick = (t: number, levels: Levels, emit: boolean) => void;

/** Owns one AudioContext per connection attempt; `close()` releases it. */
export class LevelMonitor {
  private readonly context: AudioContext | null;
  private mic: Meter | null = null;
  private remote: Meter | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private ticks = 0;

  constructor(
    private readonly onTick: LevelTick,
    private readonly clock: () => number,
  ) {
    this.context = typeof AudioContext === "undefined" ? null : new AudioContext();
  }

  /** False without Web Audio, or while the context is suspended (no user gesture yet): the meters read silence. */
  get running(): boolean {
    return this.context?.state === "running";
  }

  setMic(stream: MediaStream): void {
    this.mic?.disconnect();
    this.mic = this.meter(stream);
    this.ensureRunning();
  }

  setRemote(stream: MediaStream): void {
    this.remote?.disconnect();
    this.remote = this.meter(stream);
    this.ensureRunning();
  }

  /** Retried after a user gesture when the context started suspended (autoplay policy). */
  async resume(): Promise<void> {
    if (this.context?.state === "suspended") await this.context.resume();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.mic?.disconnect();
    this.remote?.disconnect();
    this.mic = null;
    this.remote = null;
    void this.context?.close().catch(() => undefined);
  }

  private meter(stream: MediaStream): Meter | null {
    if (this.context === null || stream.getAudioTracks().length === 0) return null;
    const source = this.context.createMediaStreamSource(stream);
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    return new Meter(source, analyser);
  }

  private ensureRunning(): void {
    if (this.timer !== null || this.context === null) return;
    void this.context.resume().catch(() => undefined);
    this.timer = setInterval(() => {
      this.ticks++;
      const levels: Levels = { input: this.mic?.read() ?? 0, output: this.remote?.read() ?? 0 };
      this.onTick(this.clock(), levels, this.ticks % EMIT_EVERY === 0);
    }, TICK_MS);
  }
}
