// The status the console shows, which is the controller's except at the start of a connect.
//
// A connect's first steps (`minting`, `connecting`) appear only once they have lasted SHOW_PENDING_AFTER_MS. A
// connect to a nearby server is over sooner than that, and goes straight from Connect to Connected. Drawing
// "Connecting…" in the click that starts it would change the page while the offer is out: Chromium then lays out
// and paints the whole notebook in that click and the next frame, and the answer waits behind them
// (benchmarks/connect_time.py measured 10-15 ms of a 55 ms connect). Under about a tenth of a second a change
// reads as instant, so a longer connect still says "Connecting…" in time. The kernel's copy of the status is held
// back the same way, for the same reason (controller.ts, QUIET_CONNECT_MS).
import { Emitter } from "../connection/emitter";
import type { Controller, Status } from "../types";
import type { Scope } from "./dom";

/** How long a connect's first steps go unshown. */
export const SHOW_PENDING_AFTER_MS = 100;

const PENDING: ReadonlySet<Status> = new Set<Status>(["minting", "connecting"]);

export class ShownStatus {
  private shown: Status;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly emitter = new Emitter<{ status: (status: Status) => void }>();

  constructor(
    private readonly controller: Pick<Controller, "status" | "on">,
    scope: Scope,
  ) {
    this.shown = controller.status;
    scope.add(controller.on("status", (status) => this.follow(status)));
    scope.add(() => this.cancel());
  }

  /** The status as shown now. */
  get current(): Status {
    return this.shown;
  }

  /** Calls `listener` with each status as it is shown; returns the unsubscribe. */
  on(listener: (status: Status) => void): () => void {
    return this.emitter.on("status", listener);
  }

  private follow(status: Status): void {
    // Only the start of a connect waits: between its own steps (minting, then connecting) the wait goes on, and
    // anything else (connected, failed, closed, reconnecting) shows at once.
    if (PENDING.has(status) && !PENDING.has(this.shown)) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.show(this.controller.status);
      }, SHOW_PENDING_AFTER_MS);
      return;
    }
    this.cancel();
    this.show(status);
  }

  private show(status: Status): void {
    if (status === this.shown) return;
    this.shown = status;
    this.emitter.emit("status", status);
  }

  private cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
