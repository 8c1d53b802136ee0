// Every failure the widget can show, as a person reads it: what happened, then what to do next.
import type { ErrorCode, WidgetError } from "../types";

interface ErrorText {
  message: string;
  hint: string;
}

const TEXT: Record<ErrorCode, ErrorText> = {
  bad_key: {
    message: "The API key was rejected (401).",
    hint: "Check OPENAI_API_KEY in the kernel, then connect again.",
  },
  key_rejected: {
    message: "The realtime server refused the ephemeral key (401); it may have expired before it was used.",
    hint:
      "Connect again: the kernel mints a fresh key for each attempt. If it keeps happening, raise key_ttl_seconds " +
      "or check this machine's clock.",
  },
  no_access: {
    message: "This API key may not use the Realtime API or this model (403).",
    hint: "Check the key's project permissions and the model name, then connect again.",
  },
  rate_limited: {
    message: "Too many requests or out of quota (429).",
    hint: "Wait a minute and connect again, or check the account's usage limits.",
  },
  server_error: {
    message: "The realtime server had an internal error (5xx).",
    hint: "Try again in a moment; if it keeps failing, check the provider's status page.",
  },
  network: {
    message: "The browser could not reach the realtime server.",
    hint:
      "Check the network. If Jupyter runs on another machine, a local server bound to 127.0.0.1 there " +
      "is not reachable from this browser: run the kernel locally or use the OpenAI API.",
  },
  sdp_rejected: {
    message: "The realtime server refused the call setup (4xx).",
    hint: "The server's message below says why; check the model and session settings, then connect again.",
  },
  ice_failed: {
    message: "The audio connection to the server failed (ICE).",
    hint: "A firewall may block WebRTC; add a TURN server to options['ice_servers'], then connect again.",
  },
  channel_closed: {
    message: "The connection to the realtime server was lost.",
    hint: "Connect again. Reconnecting gave up after the configured number of attempts.",
  },
  mic_denied: {
    message: "Microphone access was denied.",
    hint: "Allow the microphone for this page in the browser's site settings, then connect again.",
  },
  mic_missing: {
    message: "No usable microphone was found.",
    hint: "Plug in a microphone or choose another input device, then connect again.",
  },
  session_update_rejected: {
    message: "The server refused the session settings.",
    hint: "Check the voice, instructions and turn detection settings, then connect again.",
  },
  malformed_event: {
    message: "An event was not valid.",
    hint: "The event was not sent; check its shape against the Realtime API reference.",
  },
  tool_error: {
    message: "A tool call failed in the kernel.",
    hint: "The model was told about the error; see the kernel's tool log for the traceback.",
  },
  autoplay_blocked: {
    message: "The browser blocked audio playback.",
    hint: "Click 'Enable audio' to hear the assistant.",
  },
  kernel_timeout: {
    message: "The kernel did not answer in time.",
    hint: "A cell may still be running; wait for it to finish, then connect again.",
  },
  kernel_lost: {
    message: "The kernel behind this widget restarted or stopped, so the call was ended.",
    hint:
      "Re-run the cell to make a new widget. What the old kernel recorded is gone with it, except what autosave " +
      "wrote to disk (RealtimeWidget(autosave=...)).",
  },
  audio_blocked: {
    message: "The browser could not start the audio processor the WebSocket transport needs.",
    hint:
      "The page may forbid blob: scripts (Content-Security-Policy script-src/worker-src); allow them for this " +
      "page, or use transport=\"webrtc\".",
  },
  unreachable: {
    message: "The browser could not reach the local server, directly or through the Jupyter server.",
    hint:
      "The kernel runs on another machine. Install the proxy in the Jupyter server's environment " +
      "(pip install 'realtime-widget[proxy]', i.e. jupyter-server-proxy) and restart Jupyter; or use an OpenAI key.",
  },
  unknown: {
    message: "Something unexpected went wrong.",
    hint: "Connect again; if it repeats, the browser console has details.",
  },
};

export const ERROR_CODES = Object.keys(TEXT) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(TEXT, value);
}

// Server error messages can quote part of the key they rejected ("Incorrect API key provided: ek_12***").
const SECRET_PATTERN = /\b(?:ek|sk)[_-][A-Za-z0-9_*.-]+/g;

export function redactSecrets(text: string): string {
  return text.replace(SECRET_PATTERN, "[redacted]");
}

/** The error for `code`; `detail` (e.g. the server's own message) is appended to the message, secrets removed. */
export function errorFor(code: ErrorCode, detail?: string): WidgetError {
  const text = TEXT[code];
  const extra = detail === undefined ? "" : redactSecrets(detail.trim()).slice(0, 500);
  return {
    code,
    message: extra === "" ? text.message : `${text.message} ${extra}`,
    hint: text.hint,
  };
}

/** A connect step that failed with a known code; carries no secret. */
export class ConnectFailure extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** A complete message and hint written elsewhere (the kernel's failed key mint): shown as is, not appended to. */
  readonly shown: { message: string; hint: string } | undefined;

  constructor(code: ErrorCode, detail?: string, shown?: { message: string; hint: string }) {
    const safe = detail === undefined ? undefined : redactSecrets(detail);
    super(safe === undefined ? code : `${code}: ${safe}`);
    this.name = "ConnectFailure";
    this.code = code;
    this.detail = safe;
    this.shown = shown === undefined ? undefined : { message: redactSecrets(shown.message), hint: redactSecrets(shown.hint) };
  }

  toWidgetError(): WidgetError {
    if (this.shown !== undefined && this.shown.message.trim() !== "") {
      return { code: this.code, message: this.shown.message, hint: this.shown.hint || TEXT[this.code].hint };
    }
    return errorFor(this.code, this.detail);
  }
}

/** Thrown when a connect attempt was abandoned on purpose (disconnect, or a newer attempt). */
export class Aborted extends Error {
  constructor() {
    super("aborted");
    this.name = "Aborted";
  }
}
