// The top bar: connection badge (status colour, label, time connected), which server, presentation toggle.
import type { Status } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText } from "./dom";
import { icon } from "./icons";
import { readBool, readString, watch } from "./model";
import { formatDuration, statusLabel } from "./status";

/** Writes the synced trait rather than keeping its own state, so every view of the widget, and the kernel, follow it. */
function createPresentationToggle(ctx: ViewContext): HTMLButtonElement {
  const { model, scope } = ctx;
  const present = h("button", {
    class: "rtw-btn rtw-btn-ghost rtw-present",
    attrs: {
      type: "button",
      "data-testid": "presentation",
      "aria-pressed": "false",
      "aria-label": "Presentation mode",
      title: "Presentation mode: large text for projectors",
    },
  }, [icon("screen"), h("span", { class: "rtw-btn-text", text: "Present" })]);
  function render(): void {
    setAttrs(present, { "aria-pressed": String(readBool(model, "presentation")) });
  }
  scope.listen(present, "click", () => {
    model.set("presentation", !readBool(model, "presentation"));
    model.save_changes();
    render();
  });
  scope.add(watch(model, "presentation", render));
  render();
  return present;
}

/**
 * The consent mark of RealtimeWidget(record_audio=True): shown whenever recording is on, so a person knows before
 * speaking; live (a red dot, "Recording") while a connection's audio is being captured, "Records audio" otherwise.
 */
function createRecordingMark(ctx: ViewContext): HTMLElement {
  const { controller, model, scope } = ctx;
  const text = h("span", { class: "rtw-rec-label" });
  const mark = h("span", {
    class: "rtw-rec",
    attrs: {
      "data-testid": "recording",
      role: "status",
      title: "Both sides' audio is recorded to the kernel (record_audio=True): see record.audio.",
    },
  }, [h("span", { class: "rtw-rec-dot", attrs: { "aria-hidden": "true" } }), text]);
  function render(): void {
    const on = readBool(model, "record_audio");
    const live = on && controller.recording;
    setAttrs(mark, { hidden: !on, "data-live": String(live) });
    setText(text, live ? "Recording" : "Records audio");
  }
  scope.add(controller.on("recording", render));
  scope.add(watch(model, "record_audio", render));
  render();
  return mark;
}

export function createHeader(ctx: ViewContext): HTMLElement {
  const { controller, shown, model, scope } = ctx;

  const label = h("span", { class: "rtw-badge-label", attrs: { "aria-live": "polite" } });
  // The clock is outside the live region so screen readers are not told every second.
  const clock = h("span", { class: "rtw-badge-time", attrs: { "data-testid": "connected-time", hidden: true } });
  const badge = h("div", { class: "rtw-badge", attrs: { "data-testid": "status" } }, [
    h("span", { class: "rtw-badge-dot", attrs: { "aria-hidden": "true" } }),
    label,
    clock,
  ]);
  const server = h("span", { class: "rtw-server", attrs: { "data-testid": "server-label" } });

  // Which reconnect attempt is under way, from the controller's timeline, so a flaky network is visible.
  let reconnect = 0;
  function renderStatus(status: Status): void {
    if (status !== "reconnecting") reconnect = 0;
    badge.dataset["status"] = status;
    setText(label, status === "reconnecting" && reconnect > 0 ? `Reconnecting… (attempt ${reconnect})` : statusLabel(status));
    tick();
  }
  scope.add(
    controller.on("timeline", (item) => {
      const n = item.detail["reconnect"];
      if (item.what !== "reconnect_scheduled" || typeof n !== "number") return;
      reconnect = n;
      renderStatus(shown.current);
    }),
  );

  function tick(): void {
    const since = controller.connectedSince;
    const show = shown.current === "connected" && since !== null;
    setAttrs(clock, { hidden: !show });
    if (show) setText(clock, formatDuration(Date.now() - since));
  }

  function renderServer(): void {
    const text = readString(model, "server_label");
    setText(server, text);
    setAttrs(server, { hidden: text === "" });
  }

  scope.add(shown.on(renderStatus));
  scope.add(watch(model, "server_label", renderServer));
  scope.interval(tick, 1000);

  renderStatus(shown.current);
  renderServer();

  return h("header", { class: "rtw-header" }, [
    badge,
    createRecordingMark(ctx),
    server,
    h("span", { class: "rtw-spacer" }),
    createPresentationToggle(ctx),
  ]);
}
