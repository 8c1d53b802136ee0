// The microphone asked for when the Connect button goes down, one press ahead of the click that connects.
//
// A person holds a mouse button down for about a tenth of a second; getUserMedia (which opens the device and starts
// the browser's audio processing) mostly fits in that time, so by the click the track is ready and its start-up no
// longer competes with the connect itself (the offer's POST, ICE, DTLS) for the CPU. A press is already the intent
// to connect: nothing is asked for on hover or on display. A press that never becomes a click (the pointer dragged
// off the button) gives the device back after PRESS_HOLD_MS, as does a press whose constraints no longer match the
// attempt's.
import { acquireMicrophone, type MicResult } from "./microphone";

/** A microphone opened by a press and not taken by a connect within this long is stopped. */
export const PRESS_HOLD_MS = 3000;

type Acquire = (wanted: boolean, constraints: MediaTrackConstraints) => Promise<MicResult>;

interface Pending {
  result: Promise<MicResult>;
  constraints: string;
  timer: ReturnType<typeof setTimeout>;
}

/** At most one microphone opened ahead of a connect, for the constraints it was opened with. */
export class PressedMicrophone {
  private pending: Pending | null = null;

  constructor(private readonly acquire: Acquire = acquireMicrophone) {}

  /** Opens the microphone now, unless one is already on its way for these constraints. */
  press(constraints: MediaTrackConstraints): void {
    const shape = JSON.stringify(constraints);
    if (this.pending !== null && this.pending.constraints === shape) return;
    this.release();
    const result = this.acquire(true, constraints);
    const timer = setTimeout(() => this.release(), PRESS_HOLD_MS);
    this.pending = { result, constraints: shape, timer };
  }

  /** The microphone the last press asked for, once, if it was for these constraints; null otherwise (the
   * attempt opens its own). */
  take(constraints: MediaTrackConstraints): Promise<MicResult> | null {
    const pending = this.pending;
    if (pending === null) return null;
    clearTimeout(pending.timer);
    this.pending = null;
    if (pending.constraints === JSON.stringify(constraints)) return pending.result;
    stopWhenOpen(pending.result);
    return null;
  }

  /** Gives back a microphone no connect took (also once it opens, if getUserMedia has not answered yet). */
  release(): void {
    const pending = this.pending;
    if (pending === null) return;
    clearTimeout(pending.timer);
    this.pending = null;
    stopWhenOpen(pending.result);
  }
}

function stopWhenOpen(result: Promise<MicResult>): void {
  void result.then((r) => {
    if (r.on) for (const track of r.stream.getTracks()) track.stop();
  });
}
