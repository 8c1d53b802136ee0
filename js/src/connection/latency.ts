// Voice-to-voice latency as the user hears it: the end of the user's speech (mic level falls and stays low)
// to the first rise of the assistant's audio. Pure: fed level samples with their times.
import type { VoiceLatencyItem } from "../types";

export interface LatencyOptions {
  /** Mic level (0..1) above which the user is speaking. */
  micThreshold: number;
  /** Remote level (0..1) above which the assistant is audible. */
  remoteThreshold: number;
  /** Mic must stay above the threshold this long to count as speech (ignores clicks). */
  minSpeechMs: number;
  /** Mic must stay below the threshold this long to end the speech (ignores pauses between words). */
  silenceMs: number;
}

export const DEFAULT_LATENCY_OPTIONS: LatencyOptions = {
  micThreshold: 0.35,
  remoteThreshold: 0.25,
  minSpeechMs: 120,
  silenceMs: 250,
};

export class VoiceLatencyDetector {
  private readonly options: LatencyOptions;
  /** When the mic last went above the threshold, while it stays there. */
  private loudSince: number | null = null;
  /** When the mic last went below the threshold after qualified speech. */
  private quietSince: number | null = null;
  private speaking = false;
  /** Speech end waiting for the assistant's audio; cleared when measured, so one item per turn. */
  private speechEnd: number | null = null;
  private remoteAudible = false;

  constructor(options: Partial<LatencyOptions> = {}) {
    this.options = { ...DEFAULT_LATENCY_OPTIONS, ...options };
  }

  /** Feeds one pair of levels at time `t` (ms); returns an item when the assistant starts after a user turn. */
  sample(t: number, mic: number, remote: number): VoiceLatencyItem | null {
    this.trackMic(t, mic);
    const audible = remote >= this.options.remoteThreshold;
    const rose = audible && !this.remoteAudible;
    this.remoteAudible = audible;
    if (!rose) return null;
    // A rise during a pause shorter than `silenceMs` counts too: the assistant answered, so the speech had ended.
    const end = this.speechEnd ?? (this.speaking ? this.quietSince : null);
    if (end === null) return null;
    this.speechEnd = null;
    this.speaking = false;
    this.quietSince = null;
    return { k: "voice_latency", t, ms: t - end, user_speech_end_t: end, assistant_audio_start_t: t };
  }

  private trackMic(t: number, mic: number): void {
    const { micThreshold, minSpeechMs, silenceMs } = this.options;
    if (mic >= micThreshold) {
      this.quietSince = null;
      this.loudSince ??= t;
      if (!this.speaking && t - this.loudSince >= minSpeechMs) {
        this.speaking = true;
        this.speechEnd = null;
      }
      return;
    }
    this.loudSince = null;
    if (!this.speaking) return;
    this.quietSince ??= t;
    if (t - this.quietSince >= silenceMs) {
      this.speaking = false;
      this.speechEnd = this.quietSince;
      this.quietSince = null;
    }
  }
}
