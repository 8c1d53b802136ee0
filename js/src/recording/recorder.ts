// Captures both sides for the record: the track actually sent (following a replaced track) and the audio as played,
// each through an AudioWorklet in one AudioContext at the API's rate, stamped on the page's clock.
//
// Why PCM from a worklet rather than MediaRecorder's Opus: the kernel keeps PCM16 (record/audio_writer.py), so Opus
// would have to be decoded there; MediaRecorder's blobs carry no time of their first sample, and a replaced track
// ends its recording. A worklet gives exact sample times; its cost in the browser, comm included, is about 9 % of
// one core (benchmarks/record_audio_browser.py).
import { PCM_RATE } from "../connection/pcm";
import { addWorkletModule } from "../connection/worklets";
import { Chunker, type AudioChunk, type AudioSide } from "./chunker";

export const RECORD_PROCESSOR = "rtw-pcm-record";
/** The worklet posts this many samples at a time (40 ms at 24 kHz). */
const BLOCK = 960;
/** Samples per chunk sent to the kernel: half a second. */
export const CHUNK_SAMPLES = PCM_RATE / 2;
/** How often the sources are checked for a replaced track (RTCRtpSender.replaceTrack fires no event). */
const FOLLOW_MS = 250;

// Runs in the AudioWorkletGlobalScope: posts each block with the context frame of its first sample.
const SOURCE = `
class Record extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(${BLOCK});
    this.filled = 0;
    this.first = 0;
    this.silence = new Float32Array(128);
    this.stopped = false;
    this.port.onmessage = () => { this.stopped = true; }; // any message: this tap is done
  }
  process(inputs) {
    // An input with no channels (a remote track before its first packet) is silence, and still takes its time.
    if (this.stopped) return false;
    const channel = (inputs[0] && inputs[0][0]) || this.silence;
    let offset = 0;
    while (offset < channel.length) {
      if (this.filled === 0) this.first = currentFrame + offset;
      const n = Math.min(channel.length - offset, this.block.length - this.filled);
      this.block.set(channel.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.block.length) {
        this.port.postMessage({ frame: this.first, samples: this.block }, [this.block.buffer]);
        this.block = new Float32Array(${BLOCK});
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor("${RECORD_PROCESSOR}", Record);
`;

/** Where a side's audio comes from now: the sender's current track, or null (none at the moment). */
export type TrackSource = () => MediaStreamTrack | null;

interface Tap {
  source: TrackSource;
  track: MediaStreamTrack | null;
  input: MediaStreamAudioSourceNode | null;
  node: AudioWorkletNode | null;
}

/**
 * One per controller: sides are attached per connection attempt (`attach`) and detached when it ends; chunks keep
 * their numbering across attempts. `onChunk` gets every chunk; `flush` sends the partial ones (a page going away).
 */
export class AudioRecorder {
  private context: AudioContext | null = null;
  private ready: Promise<AudioContext> | null = null;
  private readonly taps = new Map<AudioSide, Tap>();
  private readonly chunkers: Record<AudioSide, Chunker>;
  private follow: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(
    onChunk: (chunk: AudioChunk) => void,
    private readonly onProblem: (message: string) => void,
  ) {
    this.chunkers = {
      user: new Chunker("user", PCM_RATE, CHUNK_SAMPLES, onChunk),
      assistant: new Chunker("assistant", PCM_RATE, CHUNK_SAMPLES, onChunk),
    };
  }

  /** Records `side` from `source` (checked again every 250 ms for a replaced track) until `detach`. */
  attach(side: AudioSide, source: TrackSource): void {
    if (this.closed) return;
    this.detach(side);
    const tap: Tap = { source, track: null, input: null, node: null };
    this.taps.set(side, tap);
    void this.rewire(side, tap);
    this.follow ??= setInterval(() => {
      for (const [s, t] of this.taps) if (currentTrack(t) !== t.track) void this.rewire(s, t);
    }, FOLLOW_MS);
  }

  detach(side: AudioSide): void {
    const tap = this.taps.get(side);
    if (tap === undefined) return;
    this.taps.delete(side);
    disconnect(tap);
    this.chunkers[side].flush();
    if (this.taps.size === 0 && this.follow !== null) {
      clearInterval(this.follow);
      this.follow = null;
    }
  }

  detachAll(): void {
    for (const side of [...this.taps.keys()]) this.detach(side);
  }

  /** Sends both sides' partial chunks now. */
  flush(): void {
    this.chunkers.user.flush();
    this.chunkers.assistant.flush();
  }

  /** Resumes the context after a user gesture (a page that blocked autoplay). */
  async resume(): Promise<void> {
    if (this.context?.state === "suspended") await this.context.resume();
  }

  close(): void {
    this.detachAll();
    this.closed = true;
    void this.context?.close().catch(() => undefined);
    this.context = null;
  }

  private async rewire(side: AudioSide, tap: Tap): Promise<void> {
    const track = currentTrack(tap);
    tap.track = track;
    disconnect(tap);
    this.chunkers[side].flush(); // a new track is a new stretch of sound
    if (track === null) return;
    let context: AudioContext;
    try {
      context = await this.audioContext();
    } catch (error) {
      this.onProblem(`Audio recording could not start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (this.taps.get(side) !== tap || tap.track !== track) return; // replaced while the worklet loaded
    const input = context.createMediaStreamSource(new MediaStream([track]));
    // No outputs: Chromium pulls a worklet node without outputs by itself, so nothing is connected to the speaker.
    const node = new AudioWorkletNode(context, RECORD_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 0 });
    node.port.onmessage = (e: MessageEvent<{ frame: number; samples: Float32Array }>) => {
      this.chunkers[side].push(frameTime(context, e.data.frame), e.data.samples);
    };
    input.connect(node);
    tap.input = input;
    tap.node = node;
  }

  private audioContext(): Promise<AudioContext> {
    this.ready ??= (async () => {
      // No output device (Chromium 110+: a sink of type "none"): this context only listens, and a second stream to
      // the speaker would cost the audio service CPU for nothing. Browsers without it ignore the option.
      const options: AudioContextOptions & { sinkId?: { type: "none" } } = {
        sampleRate: PCM_RATE,
        sinkId: { type: "none" },
      };
      const context = new AudioContext(options);
      this.context = context;
      await addWorkletModule(context, SOURCE);
      await context.resume().catch(() => undefined);
      return context;
    })();
    return this.ready;
  }
}

function currentTrack(tap: Tap): MediaStreamTrack | null {
  const track = tap.source();
  return track !== null && track.readyState !== "ended" ? track : null;
}

function disconnect(tap: Tap): void {
  if (tap.node !== null) {
    tap.node.port.onmessage = null;
    tap.node.port.postMessage("stop");
    tap.node.disconnect();
  }
  tap.input?.disconnect();
  tap.node = null;
  tap.input = null;
}

/**
 * The page time (ms since the epoch) at which a context frame was processed, i.e. when its sample crossed into the
 * graph: the output timestamp maps the context's clock to `performance`'s at the speaker, and processing runs ahead
 * of the speaker by the context's base and output latency. Both sides go through the same context, so the offset
 * between them is exact; against the events, a few milliseconds of scheduling remain.
 */
export function frameTime(context: AudioContext, frame: number): number {
  const seconds = frame / context.sampleRate;
  const stamp = context.getOutputTimestamp();
  if (stamp.contextTime !== undefined && stamp.performanceTime !== undefined && stamp.performanceTime > 0) {
    const ahead = (context.baseLatency || 0) + (context.outputLatency || 0);
    return performance.timeOrigin + stamp.performanceTime + (seconds - stamp.contextTime - ahead) * 1000;
  }
  return performance.timeOrigin + performance.now() - (context.currentTime - seconds) * 1000;
}
