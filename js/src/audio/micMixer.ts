// What the user sends, as one Web Audio graph: the microphone (when there is one) and the speech the kernel plays
// into the conversation (`widget.play(case)`), summed on one bus. A connection sends the bus: over WebRTC the
// sender's track becomes `track` (a MediaStreamDestination of the bus), over WebSocket the capture worklet reads
// the bus. Without a microphone the bus carries the played speech alone, so a receive-only call can still be
// spoken to. Played audio is queued gap-free, chunk after chunk, and `stop()` silences it at once.

/** The parts of an AudioContext the mixer uses (a real one fits; so does a test fake). */
export interface MixerContext {
  readonly currentTime: number;
  readonly state: AudioContextState;
  createGain(): GainNode;
  createConstantSource(): ConstantSourceNode;
  createBuffer(channels: number, length: number, sampleRate: number): AudioBuffer;
  createBufferSource(): AudioBufferSourceNode;
  createMediaStreamSource(stream: MediaStream): MediaStreamAudioSourceNode;
  createMediaStreamDestination(): MediaStreamAudioDestinationNode;
  resume(): Promise<void>;
}

/** How far ahead of "now" the first chunk of a turn is scheduled, so its start is not clipped. */
export const START_LEAD_S = 0.05;

/** Mono PCM16 as the Float32 samples Web Audio plays. */
export function pcm16ToFloat(pcm: Int16Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] ?? 0) / 32768;
  return out;
}

export class MicMixer {
  /** Everything sent passes through here: connect it to what sends (a capture worklet), or use `track`. */
  readonly bus: GainNode;
  private mic: MediaStreamAudioSourceNode | null = null;
  /** A source of silence that never ends: see the constructor. */
  private readonly keepAlive: ConstantSourceNode;
  private destination: MediaStreamAudioDestinationNode | null = null;
  private readonly sources = new Set<AudioBufferSourceNode>();
  /** Context time at which the queued speech ends (0: nothing queued yet). */
  private queuedUntil = 0;
  private drainWaiters: Array<(played: boolean) => void> = [];
  private closed = false;

  constructor(private readonly context: MixerContext) {
    this.bus = context.createGain();
    // A bus with no live input renders nothing: a MediaStreamDestination then sends no frames and a worklet gets
    // no channels, so between turns (or without a mic) the server would hear nothing at all rather than
    // silence, and its turn detection would wait for a silence that never comes. A zero offset keeps it sounding.
    this.keepAlive = context.createConstantSource();
    this.keepAlive.offset.value = 0;
    this.keepAlive.connect(this.bus);
    this.keepAlive.start();
  }

  /** The mix as a MediaStreamTrack (for an RTCRtpSender), made on first use. */
  get track(): MediaStreamTrack {
    if (this.destination === null) {
      this.destination = this.context.createMediaStreamDestination();
      this.bus.connect(this.destination);
    }
    const track = this.destination.stream.getAudioTracks()[0];
    if (track === undefined) throw new Error("the mixer's MediaStreamDestination has no audio track");
    return track;
  }

  /** The microphone that goes into the mix, or null (receive-only, or the mic was lost). Muting stays on the mic
   * track itself (`enabled`), which then feeds silence here. */
  setMic(stream: MediaStream | null): void {
    this.mic?.disconnect();
    this.mic = null;
    if (stream === null || stream.getAudioTracks().length === 0) return;
    this.mic = this.context.createMediaStreamSource(stream);
    this.mic.connect(this.bus);
  }

  /** The context's clock, in seconds (what `enqueue`'s times are on). */
  get currentTime(): number {
    return this.context.currentTime;
  }

  /** True while played speech is queued or sounding. */
  get playing(): boolean {
    return this.sources.size > 0;
  }

  /**
   * Queues mono PCM16 right after what is queued (or a moment from now, when nothing is), so the chunks of one
   * turn join without a gap. Returns when it will start and end, in context seconds.
   */
  enqueue(pcm: Int16Array, sampleRate: number): { start: number; end: number } {
    if (this.closed) throw new Error("the mixer is closed");
    if (this.context.state === "suspended") void this.context.resume().catch(() => undefined);
    const start = Math.max(this.queuedUntil, this.context.currentTime + START_LEAD_S);
    if (pcm.length === 0) return { start, end: start };
    const buffer = this.context.createBuffer(1, pcm.length, sampleRate);
    buffer.getChannelData(0).set(pcm16ToFloat(pcm));
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.bus);
    source.onended = () => this.ended(source);
    source.start(start);
    this.sources.add(source);
    this.queuedUntil = start + pcm.length / sampleRate;
    return { start, end: this.queuedUntil };
  }

  /** Resolves once everything queued has played (true), or when `stop()` cut it off (false). */
  drained(): Promise<boolean> {
    if (!this.playing) return Promise.resolve(true);
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Silences the played speech at once and drops what is queued; the microphone goes on. */
  stop(): void {
    const sources = [...this.sources];
    this.sources.clear();
    for (const source of sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // never started, or already stopped: silent either way
      }
      source.disconnect();
    }
    this.queuedUntil = 0;
    this.settle(false);
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.mic?.disconnect();
    this.mic = null;
    this.keepAlive.stop();
    this.keepAlive.disconnect();
    this.bus.disconnect();
    for (const track of this.destination?.stream.getTracks() ?? []) track.stop();
    this.destination = null;
  }

  private ended(source: AudioBufferSourceNode): void {
    source.disconnect();
    this.sources.delete(source);
    if (this.sources.size === 0) {
      this.queuedUntil = 0;
      this.settle(true);
    }
  }

  private settle(played: boolean): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve(played);
  }
}
