// Getting the microphone, or knowing plainly why there is none. Without one the connection still goes ahead,
// receive-only (typed turns in, the assistant's voice and transcript out): a refused permission, a machine without
// an input device, a page that is not a secure context, or a front end whose webview refuses getUserMedia
// (VS Code's: microsoft/vscode#119127) should cost the user their voice, not the whole conversation.
import type { ConnectionOptions, MicOff, MicOffReason, TimelineWhat } from "../types";
import { Aborted } from "./errors";

export type MicResult = { on: true; stream: MediaStream; track: MediaStreamTrack } | { on: false; off: MicOff };

interface ReasonText {
  message: string;
  hint: string;
}

const TEXT: Record<MicOffReason, ReasonText> = {
  not_requested: {
    message: "The microphone is off: this widget was made with microphone=False.",
    hint: "Type to talk; the assistant still answers aloud. For voice, set widget.microphone = True in Python and connect again.",
  },
  insecure_context: {
    message: "The microphone is off: browsers allow it only on secure pages (https or localhost), and this one is not.",
    hint:
      "Type to talk; the assistant still answers aloud. For voice, open Jupyter over https or through " +
      "localhost (e.g. an SSH tunnel: ssh -L 8888:localhost:8888 host).",
  },
  unsupported: {
    message: "The microphone is off: this page cannot use audio input (no getUserMedia here).",
    hint:
      "Type to talk; the assistant still answers aloud. For voice, open the notebook in JupyterLab or " +
      "Jupyter Notebook in a current browser.",
  },
  vscode_webview: {
    message: "The microphone is off: VS Code's notebook view does not let pages use it (microsoft/vscode#119127).",
    hint:
      "Type to talk; the assistant still answers aloud. For voice, open this notebook in JupyterLab or " +
      "Jupyter Notebook in a browser (jupyter lab), where the browser asks for the microphone.",
  },
  denied: {
    message: "The microphone is off: access to it was refused.",
    hint:
      "Type to talk; the assistant still answers aloud. For voice, allow the microphone for this page in the " +
      "browser's site settings (the icon left of the address), then disconnect and connect again.",
  },
  missing: {
    message: "The microphone is off: no usable microphone was found.",
    hint:
      "Type to talk; the assistant still answers aloud. For voice, plug in a microphone (or free the one " +
      "another program holds), then disconnect and connect again.",
  },
  lost: {
    message: "The microphone is off: it stopped during the call (unplugged, or taken by another program).",
    hint:
      "Type to talk; the assistant still answers aloud. Everything so far is kept. For voice, plug the " +
      "microphone back in (or close the program holding it), then disconnect and connect again.",
  },
  failed: {
    message: "The microphone is off: the browser could not open it.",
    hint: "Type to talk; the assistant still answers aloud. Disconnect and connect again to retry the microphone.",
  },
};

/** Why the microphone is off, as a person reads it; `detail` is the browser's own words, if any. */
export function micOff(reason: MicOffReason, detail = ""): MicOff {
  return { reason, ...TEXT[reason], detail: detail.slice(0, 300) };
}

/**
 * True inside VS Code's webview (desktop: documents at vscode-webview:// origins; its user agent names "Code/" and
 * "Electron/"). Its Electron permission handler refuses media for webviews, so a refusal there is not the user's
 * and cannot be undone in a site-settings menu (microsoft/vscode#119127, #323602).
 */
export function inVsCodeWebview(): boolean {
  const protocol = (globalThis as { location?: { protocol?: unknown } }).location?.protocol;
  if (protocol === "vscode-webview:") return true;
  const agent = (globalThis.navigator as Navigator | undefined)?.userAgent ?? "";
  return /\bCode\/\d/.test(agent) && agent.includes("Electron/");
}

/** The reason for a getUserMedia failure (its DOMException name, per the Media Capture spec). */
export function reasonFor(error: unknown): MicOffReason {
  const name = error instanceof DOMException || error instanceof Error ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return inVsCodeWebview() ? "vscode_webview" : "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "NotReadableError") return "missing";
  return "failed";
}

/** Why the microphone cannot even be asked for on this page, or null when it can. */
export function unavailableReason(): MicOffReason | null {
  // getUserMedia is exposed only in secure contexts; outside one `navigator.mediaDevices` is undefined.
  // (Read loosely: the unit tests run in Node, which has no isSecureContext.)
  const secure: unknown = (globalThis as { isSecureContext?: unknown }).isSecureContext;
  if (secure === false) return "insecure_context";
  const devices = (globalThis.navigator as Navigator | undefined)?.mediaDevices;
  if (typeof devices?.getUserMedia !== "function") return "unsupported";
  return null;
}

/**
 * Opens the microphone with `constraints`, or says why it is off. Never throws for a refusal: the caller connects
 * receive-only instead. `wanted` false skips asking (RealtimeWidget(microphone=False)).
 */
export async function acquireMicrophone(wanted: boolean, constraints: MediaTrackConstraints): Promise<MicResult> {
  if (!wanted) return { on: false, off: micOff("not_requested") };
  const unavailable = unavailableReason();
  if (unavailable !== null) return { on: false, off: micOff(unavailable) };
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: constraints });
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { on: false, off: micOff(reasonFor(error), text) };
  }
  const track = stream.getAudioTracks()[0];
  if (track === undefined) {
    for (const t of stream.getTracks()) t.stop();
    return { on: false, off: micOff("missing", "The stream has no audio track.") };
  }
  return { on: true, stream, track };
}

/** getUserMedia's audio constraints for the widget's options (a chosen device is asked for exactly). */
export function micConstraints(options: ConnectionOptions): MediaTrackConstraints {
  const { deviceId, ...audio } = options.audio;
  return deviceId === null ? audio : { ...audio, deviceId: { exact: deviceId } };
}

/** The error code the record has always used for a getUserMedia failure (timeline `mic_error`). */
const MIC_ERROR_CODE: Partial<Record<MicOffReason, string>> = {
  denied: "mic_denied",
  vscode_webview: "mic_denied",
  missing: "mic_missing",
  lost: "mic_missing",
  failed: "unknown",
};

export interface MicrophoneHooks {
  timeline(what: TimelineWhat, detail?: Record<string, unknown>): void;
  /** This attempt runs without a microphone (and why), or null: it has one. */
  micOff(off: MicOff | null): void;
}

/**
 * The microphone for one connection attempt (either transport), or null when the attempt goes on without one; the
 * timeline (`mic_start`, then `mic_ready`, or `mic_error` and `mic_off`) and `hooks.micOff` say which and why.
 * Throws `Aborted` when the attempt was closed while the permission prompt was open.
 */
export async function openMicrophone(
  config: {
    microphone: boolean;
    options: ConnectionOptions;
    /** The microphone a press of Connect already asked for (pressedMicrophone.ts), given out once. */
    pressedMic?: (constraints: MediaTrackConstraints) => Promise<MicResult> | null;
  },
  hooks: MicrophoneHooks,
  closed: () => boolean,
): Promise<{ stream: MediaStream; track: MediaStreamTrack } | null> {
  const constraints = micConstraints(config.options);
  const pressed = config.microphone ? (config.pressedMic?.(constraints) ?? null) : null;
  hooks.timeline("mic_start", { requested: config.microphone, pressed: pressed !== null });
  const result = await (pressed ?? acquireMicrophone(config.microphone, constraints));
  if (closed()) {
    // Closed while the permission prompt was open: nobody else will stop this stream.
    if (result.on) for (const t of result.stream.getTracks()) t.stop();
    throw new Aborted();
  }
  if (!result.on) {
    const code = MIC_ERROR_CODE[result.off.reason];
    if (code !== undefined) hooks.timeline("mic_error", { code, message: result.off.detail });
    hooks.timeline("mic_off", { ...result.off });
    hooks.micOff(result.off);
    return null;
  }
  hooks.timeline("mic_ready", { label: result.track.label });
  hooks.micOff(null);
  onMicrophoneLost(result.track, hooks, closed);
  return { stream: result.stream, track: result.track };
}

/**
 * A device unplugged (or taken by another program) mid-call ends its track. The call goes on receive-only rather
 * than sending silence without a word or ending the conversation: the timeline (`mic_error`, `mic_off`) and
 * `hooks.micOff` say so, as when the microphone is missing at the start. (`track.stop()` by the widget itself fires
 * no "ended", per the Media Capture spec.)
 */
export function onMicrophoneLost(track: MediaStreamTrack, hooks: MicrophoneHooks, closed: () => boolean): void {
  const lost = (): void => {
    if (closed()) return;
    const off = micOff("lost", track.label ? `${track.label} ended.` : "The microphone's track ended.");
    hooks.timeline("mic_error", { code: MIC_ERROR_CODE.lost, message: off.detail });
    hooks.timeline("mic_off", { ...off });
    hooks.micOff(off);
  };
  track.addEventListener("ended", lost, { once: true });
}
