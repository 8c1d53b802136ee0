// Plays the recording with Web Audio from any second: both sides mixed, fetched from the kernel a stretch at a
// time (never the whole session), the next stretch asked for before the current one runs out.
import type { Clip, ReplayKernel } from "./wire";

/** Seconds of audio per request: short enough to start at once, long enough that requests are rare. */
export const STRETCH_S = 8;
/** Ask for the next stretch when this much of the current one is left. */
export const LOOKAHEAD_S = 3;
/** Start a little ahead, so the first samples are not scheduled in the past. */
const START_DELAY_S = 0.05;

export type PlayerState = "paused" | "loading" | "playing";

/** A minimal slice of AudioContext, so the player can be driven by a fake in unit tests. */
export type AudioContextLike = Pick<
  AudioContext,
  "currentTime" | "createBuffer" | "createBufferSource" | "destination" | "resume" | "close" | "state"
>;

export class Player {
  private context: AudioContextLike | null = null;
  private state_: PlayerState = "paused";
  private position = 0; // where a paused or loading player stands
  private anchorTime = 0; // session second that sounds at anchorContextTime
  private anchorContextTime = 0;
  private loadedUntil = 0;
  private fetching = false;
  private sources: AudioBufferSourceNode[] = [];
  private generation = 0; // a seek or pause makes replies to older requests stale
  lastError = "";

  constructor(
    private readonly kernel: ReplayKernel,
    private readonly duration: number,
    private readonly onChange: () => void,
    private readonly makeContext: () => AudioContextLike = () => new AudioContext(),
  ) {}

  get state(): PlayerState {
    return this.state_;
  }

  /** The second now sounding (or where playback stands while paused or loading). */
  get currentTime(): number {
    if (this.state_ !== "playing" || this.context === null) return this.position;
    const t = this.anchorTime + (this.context.currentTime - this.anchorContextTime);
    return Math.min(Math.max(t, this.anchorTime), this.duration);
  }

  /** Plays from second `t`. Called from a click or key press, which lets the page start audio. */
  async playFrom(t: number): Promise<void> {
    this.stopSources();
    const generation = ++this.generation;
    this.position = Math.min(Math.max(t, 0), this.duration);
    this.state_ = "loading";
    this.lastError = "";
    this.onChange();
    try {
      this.context ??= this.makeContext();
      if (this.context.state === "suspended") await this.context.resume();
      const clips = await this.kernel.audio(this.position, STRETCH_S);
      if (generation !== this.generation) return;
      this.anchorTime = this.position;
      this.anchorContextTime = this.context.currentTime + START_DELAY_S;
      this.loadedUntil = this.position + STRETCH_S;
      this.schedule(clips);
      this.state_ = "playing";
    } catch (error) {
      if (generation !== this.generation) return;
      this.state_ = "paused";
      this.lastError = `Could not play: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.onChange();
  }

  pause(): void {
    if (this.state_ === "paused") return;
    this.position = this.currentTime;
    this.generation++;
    this.stopSources();
    this.state_ = "paused";
    this.onChange();
  }

  /** Moves the playhead to second `t`: playing goes on from there, paused stays paused. */
  seek(t: number): void {
    if (this.state_ === "paused") {
      this.position = Math.min(Math.max(t, 0), this.duration);
      this.onChange();
    } else {
      void this.playFrom(t);
    }
  }

  /** Space: pause if playing, else play from where it stands (from the start once it has reached the end). */
  toggle(): void {
    if (this.state_ === "paused") void this.playFrom(this.position >= this.duration ? 0 : this.position);
    else this.pause();
  }

  /** Called every frame while playing: fetches ahead and stops at the end. */
  tick(): void {
    if (this.state_ !== "playing") return;
    const now = this.currentTime;
    if (now >= this.duration) {
      this.position = this.duration;
      this.generation++;
      this.stopSources();
      this.state_ = "paused";
      this.onChange();
      return;
    }
    if (!this.fetching && this.loadedUntil < this.duration && this.loadedUntil - now < LOOKAHEAD_S) {
      void this.fetchNext();
    }
  }

  dispose(): void {
    this.generation++;
    this.stopSources();
    void this.context?.close();
    this.context = null;
  }

  private async fetchNext(): Promise<void> {
    const generation = this.generation;
    const from = this.loadedUntil;
    this.fetching = true;
    try {
      const clips = await this.kernel.audio(from, STRETCH_S);
      if (generation !== this.generation) return;
      this.loadedUntil = from + STRETCH_S;
      this.schedule(clips);
    } catch (error) {
      if (generation === this.generation) this.lastError = `Playback stopped: ${String(error)}`;
    } finally {
      this.fetching = false;
    }
  }

  private schedule(clips: Clip[]): void {
    const context = this.context;
    if (context === null) return;
    for (const clip of clips) {
      if (clip.samples.length === 0) continue;
      const buffer = context.createBuffer(1, clip.samples.length, clip.sampleRate);
      const channel = buffer.getChannelData(0);
      for (let i = 0; i < clip.samples.length; i++) channel[i] = (clip.samples[i] ?? 0) / 32768;
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(context.destination);
      let when = this.anchorContextTime + (clip.start - this.anchorTime);
      let offset = 0;
      if (when < context.currentTime) {
        offset = context.currentTime - when;
        when = context.currentTime;
      }
      if (offset >= buffer.duration) continue;
      source.start(when, offset);
      source.onended = () => {
        this.sources = this.sources.filter((s) => s !== source);
      };
      this.sources.push(source);
    }
  }

  private stopSources(): void {
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // Already stopped: nothing to do.
      }
    }
    this.sources = [];
  }
}
