// Problems the server reports during a session, shown as they happen: an `error` event, a response that failed
// or was cut short, a turn that could not be transcribed. The same reading as the kernel's
// realtime_widget/problems.py; the hints come from the kernel (the `problem_hints` trait), so they live in one place.
import type { RealtimeEvent } from "../types";

export interface Problem {
  level: "error" | "warning";
  code: string;
  message: string;
  hint: string;
}

export interface ProblemHints {
  codes: Record<string, string>;
  fallback: string;
}

type Dict = Record<string, unknown>;

function dict(value: unknown): Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Dict) : {};
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function problem(level: Problem["level"], error: Dict, hints: ProblemHints): Problem {
  const code = text(error["code"]) ?? text(error["type"]) ?? "unknown";
  return {
    level,
    code,
    message: text(error["message"]) ?? "The server reported a problem.",
    hint: hints.codes[code] ?? hints.fallback,
  };
}

/** The problem a server event reports, or null (a cancelled response is an interruption, not a problem). */
export function problemOf(event: RealtimeEvent, hints: ProblemHints): Problem | null {
  switch (event.type) {
    case "error":
      return problem("error", dict(event["error"]), hints);
    case "conversation.item.input_audio_transcription.failed":
      return problem("warning", { code: "transcription_failed", ...dict(event["error"]) }, hints);
    case "response.done": {
      const response = dict(event["response"]);
      const details = dict(response["status_details"]);
      if (response["status"] === "failed") return problem("error", dict(details["error"]), hints);
      if (response["status"] !== "incomplete") return null;
      const reason = text(details["reason"]) ?? "incomplete";
      return problem("warning", { code: reason, message: `The reply was cut short (${reason.replaceAll("_", " ")}).` }, hints);
    }
    default:
      return null;
  }
}
