// The two AudioWorklet processors of the WebSocket transport, bundled as source text and loaded from a Blob URL
// (no separate file to serve: the widget's bundle is one ES module). A page whose Content-Security-Policy forbids
// `blob:` scripts cannot load them; that is reported as `audio_blocked`, with the reason.
import { ConnectFailure } from "./errors";

export const CAPTURE_PROCESSOR = "rtw-pcm-capture";
export const PLAYBACK_PROCESSOR = "rtw-pcm-playback";

/** Capture posts this many samples at a time (at 24 kHz: 40 ms, a few hundred bytes of base64 per event). */
export const CAPTURE_CHUNK = 960;

// Plain JavaScript that runs in the AudioWorkletGlobalScope; kept small and free of imports.
const SOURCE = `
class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunk = new Float32Array(${CAPTURE_CHUNK});
    this.filled = 0;
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    let offset = 0;
    while (offset < channel.length) {
      const n = Math.min(channel.length - offset, this.chunk.length - this.filled);
      this.chunk.set(channel.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.chunk.length) {
        this.port.postMessage(this.chunk, [this.chunk.buffer]);
        this.chunk = new Float32Array(${CAPTURE_CHUNK});
        this.filled = 0;
      }
    }
    return true;
  }
}

// A queue of chunks played back to back: no gap between deltas, silence only when the queue is empty.
class Playback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.played = 0;
    this.playing = false;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === "enqueue") this.queue.push(m.samples);
      else if (m.type === "flush") {
        this.queue = [];
        this.offset = 0;
        this.setPlaying(false);
        this.port.postMessage({ type: "flushed", played: this.played });
      }
    };
  }
  setPlaying(playing) {
    if (playing === this.playing) return;
    this.playing = playing;
    this.port.postMessage({ type: playing ? "started" : "drained", played: this.played });
  }
  process(_inputs, outputs) {
    const out = outputs[0] && outputs[0][0];
    if (!out) return true;
    let written = 0;
    while (written < out.length && this.queue.length > 0) {
      const head = this.queue[0];
      const n = Math.min(out.length - written, head.length - this.offset);
      out.set(head.subarray(this.offset, this.offset + n), written);
      written += n;
      this.offset += n;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    this.played += written;
    if (written > 0) this.setPlaying(true);
    else if (this.queue.length === 0) this.setPlaying(false);
    return true;
  }
}

registerProcessor("${CAPTURE_PROCESSOR}", Capture);
registerProcessor("${PLAYBACK_PROCESSOR}", Playback);
`;

/** Adds both processors to `context`; fails with `audio_blocked` when the page cannot load them. */
export async function loadWorklets(context: AudioContext): Promise<void> {
  await addWorkletModule(context, SOURCE);
}

/** Adds the processors of `source` (AudioWorkletGlobalScope code) to `context` from a Blob URL; fails with
 * `audio_blocked` when the page cannot load them. */
export async function addWorkletModule(context: AudioContext, source: string): Promise<void> {
  // Both are missing outside a secure context (an http:// page on another host).
  const worklet = (context as { audioWorklet?: AudioWorklet }).audioWorklet;
  if (typeof AudioWorkletNode === "undefined" || worklet === undefined) {
    throw new ConnectFailure("audio_blocked", "This browser has no AudioWorklet (a secure context is needed).");
  }
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    await worklet.addModule(url);
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ConnectFailure("audio_blocked", `The audio processor could not load (${text}).`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
