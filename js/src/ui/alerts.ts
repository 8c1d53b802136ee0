// Things the person must notice: the current error (with Dismiss; the main button tries again), a lost
// connection being re-established, a connection without a microphone (why, and how to get it), "waiting for the kernel",
// the click-to-enable-audio prompt, and notices sent by the kernel. All text goes in as text.
import type { NoticeMessage, WidgetError } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText } from "./dom";
import { icon } from "./icons";
import { readBool, readErrorTrait, readMaxReconnects, readProblemHints, watch } from "./model";
import { problemOf } from "./problems";

const MAX_NOTICES = 3;
const INFO_NOTICE_MS = 10_000;
/** Events older than this (redrawn from history after a reload) are not announced again as problems. */
const LIVE_EVENT_MS = 10_000;

interface Notice {
  level: NoticeMessage["level"];
  text: string;
  hint?: string;
  code?: string;
}

function errorKey(error: WidgetError): string {
  return `${error.code}\u0000${error.message}`;
}

function createErrorPanel(ctx: ViewContext): HTMLElement {
  const { controller, shown, model, scope } = ctx;
  const message = h("p", { class: "rtw-error-message", attrs: { "data-testid": "error-message" } });
  const hint = h("p", { class: "rtw-error-hint", attrs: { "data-testid": "error-hint" } });
  const code = h("code", { class: "rtw-error-code" });
  const dismiss = h("button", {
    class: "rtw-btn rtw-btn-small rtw-btn-ghost",
    attrs: { type: "button", "data-testid": "dismiss", "aria-label": "Dismiss error" },
    text: "Dismiss",
  });
  const panel = h("div", { class: "rtw-alert rtw-alert-error", attrs: { "data-testid": "error", role: "alert", hidden: true } }, [
    h("span", { class: "rtw-alert-icon", attrs: { "aria-hidden": "true" }, text: "!" }),
    h("div", { class: "rtw-alert-body" }, [message, hint, code]),
    h("div", { class: "rtw-alert-actions" }, [dismiss]),
  ]);

  // The controller reports connection failures; the kernel can also set the trait (e.g. a failed key mint).
  let fromController: WidgetError | null = controller.error;
  let fromTrait: WidgetError | null = readErrorTrait(model);
  let latest: "controller" | "trait" = "controller";
  // Dismiss hides the current error until the next one arrives (even if it is the same failure again).
  let dismissed = false;

  function render(): void {
    const primary = latest === "controller" ? fromController ?? fromTrait : fromTrait ?? fromController;
    const show = primary !== null && !dismissed;
    setAttrs(panel, { hidden: !show });
    if (!primary || !show) return;
    setText(message, primary.message);
    setText(hint, primary.hint);
    setAttrs(hint, { hidden: primary.hint === "" });
    setText(code, primary.code);
  }

  scope.add(
    controller.on("error", (error) => {
      fromController = error;
      latest = "controller";
      if (error) dismissed = false;
      render();
    }),
  );
  scope.add(
    watch(model, "error", () => {
      const next = readErrorTrait(model);
      // The controller mirrors its own errors into the trait: only a different error counts as new.
      const known = [fromTrait, fromController].some((e) => e !== null && next !== null && errorKey(e) === errorKey(next));
      if (next && !known) {
        dismissed = false;
        latest = "trait";
      }
      fromTrait = next;
      render();
    }),
  );
  scope.add(shown.on(render));
  scope.listen(dismiss, "click", () => {
    dismissed = true;
    render();
  });
  render();
  return panel;
}

/** "Connection lost, reconnecting": which attempt of how many, and a countdown to the next one. */
function createReconnecting(ctx: ViewContext): HTMLElement {
  const { controller, shown, model, scope } = ctx;
  const detail = h("p", { class: "rtw-reconnect-detail", attrs: { "data-testid": "reconnect-detail" } });
  const el = h("div", { class: "rtw-alert rtw-alert-wait", attrs: { "data-testid": "reconnecting", role: "status", hidden: true } }, [
    h("span", { class: "rtw-spinner", attrs: { "aria-hidden": "true" } }),
    h("div", { class: "rtw-alert-body" }, [h("p", { class: "rtw-alert-title", text: "Connection lost. Reconnecting…" }), detail]),
  ]);
  let attempt = 0;
  let nextAt: number | null = null;

  function render(): void {
    const show = shown.current === "reconnecting";
    setAttrs(el, { hidden: !show });
    if (!show) {
      attempt = 0;
      nextAt = null;
      return;
    }
    const max = readMaxReconnects(model);
    const parts: string[] = [];
    if (attempt > 0) parts.push(max !== null && max >= attempt ? `Attempt ${attempt} of ${max}` : `Attempt ${attempt}`);
    if (nextAt !== null) {
      const seconds = Math.ceil((nextAt - Date.now()) / 1000);
      parts.push(seconds > 0 ? `next try in ${seconds} s` : "trying now");
    }
    const text = parts.join(" · ");
    setText(detail, text === "" ? "Trying to reach the server again." : text.charAt(0).toUpperCase() + text.slice(1));
  }

  scope.add(
    controller.on("timeline", (item) => {
      if (item.what !== "reconnect_scheduled") return;
      const n = item.detail["reconnect"];
      const delay = item.detail["delay_ms"];
      attempt = typeof n === "number" && Number.isFinite(n) ? n : attempt;
      // The item's time is the browser's clock, as is Date.now().
      nextAt = typeof delay === "number" && Number.isFinite(delay) ? item.t + delay : null;
      render();
    }),
  );
  scope.add(shown.on(render));
  scope.interval(() => {
    if (nextAt !== null) render();
  }, 500);
  render();
  return el;
}

/** "The microphone is off": why, and how to turn it on where that can be done. Stays while it holds. */
function createMicOff(ctx: ViewContext): HTMLElement {
  const { controller, shown, scope } = ctx;
  const message = h("p", { class: "rtw-alert-title", attrs: { "data-testid": "mic-off-message" } });
  const hint = h("p", { class: "rtw-error-hint", attrs: { "data-testid": "mic-off-hint" } });
  const el = h("div", { class: "rtw-alert rtw-alert-info", attrs: { "data-testid": "mic-off", role: "status", hidden: true } }, [
    h("span", { class: "rtw-alert-icon", attrs: { "aria-hidden": "true" } }, [icon("micOff")]),
    h("div", { class: "rtw-alert-body" }, [message, hint]),
  ]);

  function render(): void {
    const off = controller.micOff;
    // Before the first connect there is nothing to say: the browser has not been asked yet.
    const show = off !== null && shown.current !== "idle";
    setAttrs(el, { hidden: !show, "data-reason": off?.reason ?? null });
    if (off === null) return;
    setText(message, off.message);
    setText(hint, off.hint);
  }
  scope.add(controller.on("micOff", render));
  scope.add(shown.on(render));
  render();
  return el;
}

function createKernelWaiting(ctx: ViewContext): HTMLElement {
  const { controller, model, scope } = ctx;
  const el = h("div", { class: "rtw-alert rtw-alert-wait", attrs: { "data-testid": "kernel-waiting", role: "status", hidden: true } }, [
    h("span", { class: "rtw-spinner", attrs: { "aria-hidden": "true" } }),
    h("div", { class: "rtw-alert-body" }, [
      h("p", { class: "rtw-alert-title", text: "Waiting for the kernel…" }),
      h("p", { text: "A cell is still running. Tool calls and new connections continue when it finishes." }),
    ]),
  ]);
  const show = (waiting: boolean) => setAttrs(el, { hidden: !waiting });
  scope.add(controller.on("kernelWaiting", show));
  scope.add(watch(model, "kernel_busy_hint", () => show(readBool(model, "kernel_busy_hint"))));
  show(readBool(model, "kernel_busy_hint"));
  return el;
}

function createAutoplayPrompt(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const button = h("button", {
    class: "rtw-btn rtw-btn-primary",
    attrs: { type: "button", "data-testid": "enable-audio" },
  }, [icon("speaker"), h("span", { text: "Enable audio" })]);
  const el = h("div", { class: "rtw-alert rtw-alert-info", attrs: { "data-testid": "autoplay", hidden: true } }, [
    h("div", { class: "rtw-alert-body" }, [
      h("p", { class: "rtw-alert-title", text: "The browser blocked the assistant's audio." }),
      h("p", { text: "Click to let it play. Browsers need one click on the page before a site may play sound." }),
    ]),
    h("div", { class: "rtw-alert-actions" }, [button]),
  ]);
  scope.add(controller.on("autoplayBlocked", (blocked) => setAttrs(el, { hidden: !blocked })));
  scope.listen(button, "click", () => {
    void controller.enableAudio().then(
      () => setAttrs(el, { hidden: true }),
      () => undefined, // still blocked: the controller says so again
    );
  });
  return el;
}

function createNotices(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const list = h("div", { class: "rtw-notices", attrs: { "data-testid": "notices", "aria-live": "polite" } });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  scope.add(() => {
    for (const id of timers) clearTimeout(id);
    timers.clear();
  });

  function add(notice: Notice): void {
    const level = notice.level === "error" || notice.level === "warning" ? notice.level : "info";
    const body = h("div", { class: "rtw-alert-body" }, [h("p", { text: notice.text })]);
    if (notice.hint !== undefined && notice.hint !== "") body.append(h("p", { class: "rtw-error-hint", text: notice.hint }));
    if (notice.code !== undefined) body.append(h("code", { class: "rtw-error-code", text: notice.code }));
    const close = h("button", {
      class: "rtw-btn rtw-btn-small rtw-btn-ghost",
      attrs: { type: "button", "aria-label": "Dismiss notice" },
      text: "×",
    });
    const attrs: Record<string, string> = { "data-testid": "notice", "data-level": level };
    if (notice.code !== undefined) attrs["data-code"] = notice.code;
    const item = h("div", { class: `rtw-alert rtw-alert-${level}`, attrs }, [body, h("div", { class: "rtw-alert-actions" }, [close])]);
    close.addEventListener("click", () => item.remove());
    list.prepend(item);
    while (list.childElementCount > MAX_NOTICES) list.lastElementChild?.remove();
    if (level === "info") {
      const id = setTimeout(() => {
        timers.delete(id);
        item.remove();
      }, INFO_NOTICE_MS);
      timers.add(id);
    }
  }
  scope.add(controller.on("notice", add));
  // Problems the server reports, as they happen: errors stay until dismissed, cut-short replies too.
  scope.add(
    controller.on("event", (item) => {
      if (item.dir !== "server" || item.event === null || Math.abs(Date.now() - item.t) > LIVE_EVENT_MS) return;
      const problem = problemOf(item.event, readProblemHints(ctx.model));
      if (problem !== null) add({ level: problem.level, text: problem.message, hint: problem.hint, code: problem.code });
    }),
  );
  return list;
}

export function createAlerts(ctx: ViewContext): HTMLElement {
  return h("div", { class: "rtw-alerts" }, [
    createErrorPanel(ctx),
    createReconnecting(ctx),
    createMicOff(ctx),
    createAutoplayPrompt(ctx),
    createKernelWaiting(ctx),
    createNotices(ctx),
  ]);
}
