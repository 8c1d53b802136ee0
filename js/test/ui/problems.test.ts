import { describe, expect, it } from "vitest";
import { problemOf } from "../../src/ui/problems";

const hints = { codes: { content_filter: "Rephrase.", rate_limit_exceeded: "Wait." }, fallback: "See the log." };

describe("problemOf", () => {
  it("reads an error event's code and message, with the kernel's hint", () => {
    const problem = problemOf(
      { type: "error", error: { type: "tokens", code: "rate_limit_exceeded", message: "Slow down." } },
      hints,
    );
    expect(problem).toEqual({ level: "error", code: "rate_limit_exceeded", message: "Slow down.", hint: "Wait." });
  });

  it("makes a reply cut short a warning, and a cancelled or completed one no problem", () => {
    const done = (status: string, details: Record<string, unknown> | null) => ({
      type: "response.done",
      response: { id: "r", status, status_details: details },
    });
    expect(problemOf(done("incomplete", { type: "incomplete", reason: "content_filter" }), hints)).toMatchObject({
      level: "warning",
      code: "content_filter",
      hint: "Rephrase.",
    });
    expect(problemOf(done("cancelled", { type: "cancelled", reason: "turn_detected" }), hints)).toBeNull();
    expect(problemOf(done("completed", null), hints)).toBeNull();
  });

  it("uses the fallback hint for unknown codes, and still reports a malformed error", () => {
    expect(problemOf({ type: "error", error: { code: "brand_new", message: "?" } }, hints)?.hint).toBe("See the log.");
    expect(problemOf({ type: "error" }, hints)).toMatchObject({ code: "unknown" });
    expect(problemOf({ type: "session.updated" }, hints)).toBeNull();
  });
});
