import { describe, expect, it } from "vitest";
import { ConnectFailure, ERROR_CODES, errorFor, isErrorCode, redactSecrets } from "../../src/connection/errors";
import type { ErrorCode } from "../../src/types";

// Every code in types.ts; the compiler checks this list is exhaustive.
const ALL: Record<ErrorCode, true> = {
  bad_key: true,
  key_rejected: true,
  no_access: true,
  rate_limited: true,
  server_error: true,
  network: true,
  sdp_rejected: true,
  ice_failed: true,
  channel_closed: true,
  mic_denied: true,
  mic_missing: true,
  session_update_rejected: true,
  malformed_event: true,
  tool_error: true,
  autoplay_blocked: true,
  audio_blocked: true,
  unreachable: true,
  kernel_timeout: true,
  kernel_lost: true,
  unknown: true,
};

describe("errorFor", () => {
  it("has a message and a hint for every error code", () => {
    expect(new Set(ERROR_CODES)).toEqual(new Set(Object.keys(ALL)));
    for (const code of ERROR_CODES) {
      const error = errorFor(code);
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(10);
      expect(error.hint.length).toBeGreaterThan(10);
    }
  });

  it("says what a rejected key means and what to do", () => {
    expect(errorFor("bad_key")).toEqual({
      code: "bad_key",
      message: "The API key was rejected (401).",
      hint: "Check OPENAI_API_KEY in the kernel, then connect again.",
    });
  });

  it("hints that a remote Jupyter server cannot reach a local 127.0.0.1 server", () => {
    expect(errorFor("network").hint).toContain("127.0.0.1");
  });

  it("appends the detail but never a key", () => {
    const error = errorFor("bad_key", "Incorrect API key provided: ek_68a1b2c3d4***wxyz.");
    expect(error.message).toBe("The API key was rejected (401). Incorrect API key provided: [redacted]");
    expect(new ConnectFailure("bad_key", "key sk-proj-abc123 bad").message).not.toContain("sk-proj");
    expect(redactSecrets("Bearer ek_abc and sk-xyz")).toBe("Bearer [redacted] and [redacted]");
  });

  it("recognises codes", () => {
    expect(isErrorCode("ice_failed")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode(3)).toBe(false);
  });
});
