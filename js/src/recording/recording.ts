// Recording for one widget in one page (RealtimeWidget(record_audio=True)): the recorder's chunks numbered and sent
// to the kernel, acks taken, and what is unacknowledged when the page goes away kept for the next page.
import type { AudioChunk, AudioSide } from "./chunker";
import { AudioRecorder, type TrackSource } from "./recorder";
import { AudioChunkSender, parseAudioAck, type SendChunk } from "./sender";
import { stashChunks, takeStashedChunks } from "./stash";

export interface RecordingPorts {
  /** The widget's `instance_id`: a reloaded page finds the chunks its predecessor left. */
  instanceId: string;
  /** This page's client id (the event batches' too). */
  client: string;
  send: SendChunk;
  /** A problem worth showing (the worklet could not load). */
  problem: (message: string) => void;
}

/** The recorder's part that needs Web Audio; a stand-in in unit tests. */
export interface Capture {
  attach(side: AudioSide, source: TrackSource): void;
  detachAll(): void;
  flush(): void;
  resume(): Promise<void>;
  close(): void;
}

export class Recording {
  readonly sender: AudioChunkSender;
  private readonly capture: Capture;
  private active = false;

  constructor(
    private readonly ports: RecordingPorts,
    makeCapture: (onChunk: (chunk: AudioChunk) => void, problem: (message: string) => void) => Capture = (
      onChunk,
      problem,
    ) => new AudioRecorder(onChunk, problem),
  ) {
    this.sender = new AudioChunkSender(ports.client, ports.send);
    this.capture = makeCapture((chunk) => this.sender.push(chunk), ports.problem);
    // What the previous page of this widget sent without an ack (a reload) goes again; the kernel drops repeats.
    this.sender.adopt(takeStashedChunks(ports.instanceId));
  }

  /** True while a connection's audio is being recorded. */
  get isActive(): boolean {
    return this.active;
  }

  /** A connection's side to record (the sent track, or the audio as played). */
  attach(side: AudioSide, source: TrackSource): void {
    this.active = true;
    this.capture.attach(side, source);
  }

  /** The connection ended: partial chunks go now. */
  stop(): void {
    this.active = false;
    this.capture.detachAll();
  }

  /** Handles an `rtw:audio_ack`; false when `message` is not one. */
  takeAck(message: unknown): boolean {
    const ack = parseAudioAck(message);
    if (ack === null) return false;
    this.sender.ack(ack);
    return true;
  }

  resume(): Promise<void> {
    return this.capture.resume();
  }

  /** The page is going away: send what is gathered, and keep what is unacknowledged for the next page. */
  pageHide(): void {
    this.capture.flush();
    stashChunks(this.ports.instanceId, this.sender.unacknowledged());
  }

  dispose(): void {
    this.stop();
    this.capture.close();
    this.sender.dispose();
  }
}
