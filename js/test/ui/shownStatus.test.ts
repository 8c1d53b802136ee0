import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Emitter } from "../../src/connection/emitter";
import type { Status } from "../../src/types";
import { Scope } from "../../src/ui/dom";
import { SHOW_PENDING_AFTER_MS, ShownStatus } from "../../src/ui/shownStatus";

class StatusSource {
  status: Status = "idle";
  private readonly emitter = new Emitter<{ status: (status: Status) => void }>();
  on(name: "status", listener: (status: Status) => void): () => void {
    return this.emitter.on(name, listener);
  }
  set(status: Status): void {
    this.status = status;
    this.emitter.emit("status", status);
  }
}

let source: StatusSource;
let scope: Scope;
let shown: ShownStatus;
let seen: Status[];

beforeEach(() => {
  vi.useFakeTimers();
  source = new StatusSource();
  scope = new Scope();
  shown = new ShownStatus(source as never, scope);
  seen = [];
  shown.on((status) => seen.push(status));
});

afterEach(() => {
  scope.dispose();
  vi.useRealTimers();
});

describe("the status the console shows", () => {
  it("goes straight from idle to connected when the connect is quick", () => {
    source.set("minting");
    source.set("connecting");
    expect(shown.current).toBe("idle");
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS - 1);
    source.set("connected");
    expect(seen).toEqual(["connected"]);
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS);
    expect(seen).toEqual(["connected"]);
  });

  it("shows a longer connect's step once it has lasted, and each step after at once", () => {
    source.set("minting");
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS);
    expect(seen).toEqual(["minting"]);
    source.set("connecting");
    expect(seen).toEqual(["minting", "connecting"]);
    source.set("connected");
    expect(seen).toEqual(["minting", "connecting", "connected"]);
  });

  it("shows the step the connect has reached when the wait ends", () => {
    source.set("minting");
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS / 2);
    source.set("connecting");
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS / 2);
    expect(seen).toEqual(["connecting"]);
  });

  it("shows a failure, a hang-up and a lost connection at once", () => {
    source.set("connecting");
    source.set("failed");
    expect(seen).toEqual(["failed"]);
    source.set("connecting");
    source.set("closed");
    expect(seen).toEqual(["failed", "closed"]);
    source.set("connected");
    source.set("reconnecting");
    expect(seen).toEqual(["failed", "closed", "connected", "reconnecting"]);
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS);
    expect(seen).toEqual(["failed", "closed", "connected", "reconnecting"]);
  });

  it("stops waiting when the view goes", () => {
    source.set("connecting");
    scope.dispose();
    vi.advanceTimersByTime(SHOW_PENDING_AFTER_MS);
    expect(seen).toEqual([]);
  });
});
