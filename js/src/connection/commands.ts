// Request/response to the kernel's `@command` handlers, in every front end.
//
// anywidget's `experimental.invoke` sends `{id, kind: "anywidget-command", name, msg}` as a custom message and
// waits for `{id, kind: "anywidget-command-response", response}` (anywidget's packages/anywidget/src/widget.js
// `invoke`; the Python side is anywidget/experimental.py `_register_anywidget_commands`, which answers any custom
// message of that form). Some front ends render anywidgets but have no working `invoke` — marimo's always throws
// "anywidget.invoke not supported in marimo" — while they do carry custom messages both ways. There the same
// request goes over `model.send` and the reply is picked out of `msg:custom`, so the kernel's handlers answer
// both paths unchanged.
import type { Experimental } from "@anywidget/types";
import { randomId } from "./ids";

/** The parts of a model the custom-message path needs. */
export interface CommandModel {
  send(content: unknown): void;
  on(event: string, callback: (msg: unknown) => void): void;
  off(event?: string | null, callback?: ((msg: unknown) => void) | null): void;
}

export type CommandPath = "invoke" | "custom_message";

export const COMMAND_KIND = "anywidget-command";
export const COMMAND_RESPONSE_KIND = "anywidget-command-response";

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Sends one command and resolves with the handler's reply; rejects with `signal.reason` when it aborts. */
export function sendCommand(model: CommandModel, name: string, msg: unknown, signal: AbortSignal): Promise<unknown> {
  const id = randomId();
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      model.off("msg:custom", onMessage);
      reject(abortReason(signal));
    };
    function onMessage(message: unknown): void {
      if (typeof message !== "object" || message === null) return;
      const reply = message as Record<string, unknown>;
      if (reply["kind"] !== COMMAND_RESPONSE_KIND || reply["id"] !== id) return;
      model.off("msg:custom", onMessage);
      signal.removeEventListener("abort", onAbort);
      resolve(reply["response"]);
    }
    signal.addEventListener("abort", onAbort, { once: true });
    model.on("msg:custom", onMessage);
    model.send({ id, kind: COMMAND_KIND, name, msg });
  });
}

/**
 * Invokes kernel commands with `experimental.invoke` while it works, and over custom messages from the first time
 * it is missing or fails for a reason other than the caller's signal (a front end without it fails at once).
 */
export class CommandInvoker {
  private path: CommandPath;

  constructor(
    private readonly experimental: Experimental | undefined,
    private readonly model: CommandModel,
    private readonly onFallback: (reason: string) => void = () => undefined,
  ) {
    this.path = typeof experimental?.invoke === "function" ? "invoke" : "custom_message";
  }

  /** Which path the next command takes. */
  get currentPath(): CommandPath {
    return this.path;
  }

  async invoke(name: string, msg: unknown, signal: AbortSignal): Promise<unknown> {
    const invoke = this.experimental?.invoke;
    if (this.path === "invoke" && invoke !== undefined) {
      try {
        const [reply] = await invoke<unknown>(name, msg, { signal });
        return reply;
      } catch (error) {
        // A timeout or cancel of ours is the answer; anything else means invoke itself does not work here.
        if (signal.aborted) throw error;
        this.switchToCustomMessages(error);
      }
    }
    return sendCommand(this.model, name, msg, signal);
  }

  /** Requests sent together (history and clock at start-up) all fail over invoke; the switch is reported once. */
  private switchToCustomMessages(error: unknown): void {
    const first = this.path === "invoke";
    this.path = "custom_message";
    if (first) this.onFallback(error instanceof Error ? error.message : String(error));
  }
}
