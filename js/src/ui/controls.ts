// The control bar: connect/disconnect, mute, push-to-talk, interrupt, and the two level meters.
import type { Levels, Status } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText } from "./dom";
import { icon } from "./icons";
import { readSettings, watch, writeSettings } from "./model";
import { isActive, primaryAction } from "./status";

/** Keys typed into these must keep their meaning; Space there is not push-to-talk. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.closest("input, textarea, select, button, [contenteditable='true'], summary") !== null;
}

function meter(name: string, testId: string): { el: HTMLElement; set: (level: number) => void } {
  const fill = h("span", { class: "rtw-meter-fill" });
  const el = h("div", { class: "rtw-meter", attrs: { "data-testid": testId, title: name } }, [
    h("span", { class: "rtw-meter-label", text: name }),
    h("span", { class: "rtw-meter-track", attrs: { "aria-hidden": "true" } }, [fill]),
  ]);
  let shown = -1;
  return {
    el,
    set(level: number) {
      // Quantise so a steady signal does not restyle every frame.
      const q = Math.round(Math.min(1, Math.max(0, Number.isFinite(level) ? level : 0)) * 50) / 50;
      if (q === shown) return;
      shown = q;
      fill.style.transform = `scaleX(${q})`;
    },
  };
}

interface PushToTalk {
  el: HTMLButtonElement;
  readonly holding: boolean;
  press(down: boolean): void;
}

function createPrimaryButton(ctx: ViewContext): { el: HTMLButtonElement; render: (status: Status) => void } {
  const { controller, scope } = ctx;
  const primary = h("button", { class: "rtw-btn rtw-btn-primary", attrs: { type: "button" } });
  function render(status: Status): void {
    const { action, label } = primaryAction(status);
    // After a failure the main button is the one way to try again (the error panel only offers Dismiss).
    primary.dataset["testid"] = status === "failed" ? "retry" : action;
    primary.dataset["action"] = action;
    primary.classList.toggle("rtw-btn-danger", action === "disconnect");
    setText(primary, label);
  }
  // Pressing Connect opens the microphone at once, so it is ready by the click (pressedMicrophone.ts); Space
  // clicks on release, Enter at once.
  const pressed = (): void => {
    if (primary.dataset["action"] === "connect") controller.pressConnect();
  };
  scope.listen(primary, "pointerdown", (e) => {
    if (e.button === 0) pressed();
  });
  scope.listen(primary, "keydown", (e) => {
    if (e.key === " " && !e.repeat) pressed();
  });
  scope.listen(primary, "click", () => {
    // Rejections surface through the controller's error event; keep them off the console here.
    if (primary.dataset["action"] === "disconnect") void controller.disconnect().catch(() => undefined);
    else void controller.connect().catch(() => undefined);
  });
  return { el: primary, render };
}

function createMuteButton(ctx: ViewContext, micMeter: HTMLElement): { el: HTMLButtonElement; render: () => void } {
  const { controller, shown, model, scope } = ctx;
  // A toggle keeps one name; aria-pressed carries the state.
  const mute = h("button", {
    class: "rtw-btn rtw-btn-toggle",
    attrs: { type: "button", "data-testid": "mute", "aria-label": "Mute microphone", "aria-pressed": "false" },
  }, [icon("mic"), h("span", { class: "rtw-btn-text", text: "Mute" })]);
  let shownIcon = "mic";
  function render(): void {
    const muted = controller.muted;
    // Without a microphone there is nothing to mute; the mic-off notice says why.
    const noMic = controller.micOff !== null && shown.current !== "idle";
    const wanted = muted || noMic ? "micOff" : "mic";
    // Only a changed icon is redrawn: a status change must not change the page for nothing (shownStatus.ts).
    if (wanted !== shownIcon) mute.firstElementChild?.replaceWith(icon(wanted));
    shownIcon = wanted;
    const title = noMic ? "No microphone in this connection" : muted ? "Microphone is muted" : "Mute the microphone";
    setAttrs(mute, { "aria-pressed": String(muted), title, disabled: noMic });
    mute.classList.toggle("rtw-on", muted);
    micMeter.dataset["muted"] = String(muted || noMic);
  }
  scope.listen(mute, "click", () => {
    controller.setMuted(!controller.muted);
    render();
  });
  scope.add(watch(model, "muted", render));
  return { el: mute, render };
}

/** The push-to-talk button: held with the pointer, or with Space or Enter while it has focus. */
function createPushToTalk(ctx: ViewContext): PushToTalk {
  const { controller, scope } = ctx;
  const ptt = h("button", {
    class: "rtw-btn rtw-ptt",
    attrs: {
      type: "button",
      "data-testid": "ptt",
      "aria-pressed": "false",
      "aria-keyshortcuts": "Space",
      "aria-label": "Hold to talk",
      title: "Hold to talk (or hold Space)",
    },
  }, [icon("talk"), h("span", { class: "rtw-btn-text", text: "Hold to talk" }), h("kbd", { class: "rtw-kbd", text: "Space" })]);
  let holding = false;
  function press(down: boolean): void {
    if (down === holding) return;
    if (down && (ptt.hidden || ptt.disabled)) return;
    holding = down;
    ptt.classList.toggle("rtw-talking", down);
    setAttrs(ptt, { "aria-pressed": String(down) });
    const text = ptt.querySelector(".rtw-btn-text");
    if (text) setText(text, down ? "Release to send" : "Hold to talk");
    controller.pushToTalk(down);
  }
  scope.listen(ptt, "pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    ptt.setPointerCapture(e.pointerId);
    press(true);
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"] as const) {
    scope.listen(ptt, type, () => press(false));
  }
  scope.listen(ptt, "keydown", (e) => {
    if (e.key !== " " && e.key !== "Enter") return;
    e.preventDefault(); // no click: holding is the action
    if (!e.repeat) press(true);
  });
  scope.listen(ptt, "keyup", (e) => {
    if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      press(false);
    }
  });
  return {
    el: ptt,
    press,
    get holding() {
      return holding;
    },
  };
}

/** Holding Space anywhere in the widget (outside text fields) talks too. */
function holdSpaceToTalk(ctx: ViewContext, talk: PushToTalk): void {
  const { controller, scope, root } = ctx;
  scope.listen(root, "keydown", (e) => {
    if (e.key !== " " || e.target === talk.el || isTypingTarget(e.target)) return;
    if (talk.el.hidden || talk.el.disabled) return;
    e.preventDefault(); // keep the notebook from scrolling
    if (!e.repeat) talk.press(true);
  });
  scope.listen(root, "keyup", (e) => {
    if (e.key === " " && e.target !== talk.el && talk.holding) talk.press(false);
  });
  // Focus leaving the widget while Space is held would otherwise leave the mic open.
  scope.listen(root, "focusout", (e) => {
    if (talk.holding && !root.contains(e.relatedTarget as Node | null) && e.target !== talk.el) talk.press(false);
  });
  scope.add(() => {
    if (talk.holding) controller.pushToTalk(false);
  });
}

/** Shows push-to-talk when turn detection is off, and otherwise a link that turns it off. */
function createTurnDetectionSwitch(ctx: ViewContext, talk: PushToTalk): { el: HTMLButtonElement; render: () => void } {
  const { shown, model, scope } = ctx;
  const usePtt = h("button", {
    class: "rtw-btn rtw-btn-link",
    attrs: { type: "button", "data-testid": "use-ptt", title: "Turn off automatic turn detection" },
    text: "Use push-to-talk",
  });
  function render(): void {
    const manual = readSettings(model).turn_detection === "none";
    setAttrs(talk.el, { hidden: !manual });
    setAttrs(usePtt, { hidden: manual || isActive(shown.current) });
    if (!manual) talk.press(false);
  }
  scope.listen(usePtt, "click", () => writeSettings(model, { turn_detection: "none" }));
  scope.add(watch(model, "settings", render));
  return { el: usePtt, render };
}

function createInterruptButton(ctx: ViewContext): HTMLButtonElement {
  const interrupt = h("button", {
    class: "rtw-btn",
    attrs: { type: "button", "data-testid": "interrupt", "aria-label": "Interrupt", title: "Stop the assistant speaking" },
  }, [icon("hand"), h("span", { class: "rtw-btn-text", text: "Interrupt" })]);
  ctx.scope.listen(interrupt, "click", () => ctx.controller.interrupt());
  return interrupt;
}

export function createControls(ctx: ViewContext): HTMLElement {
  const { controller, shown, scope } = ctx;
  const micMeter = meter("Mic", "level-in");
  const outMeter = meter("Voice", "level-out");
  const primary = createPrimaryButton(ctx);
  const mute = createMuteButton(ctx, micMeter.el);
  const talk = createPushToTalk(ctx);
  holdSpaceToTalk(ctx, talk);
  const turnDetection = createTurnDetectionSwitch(ctx, talk);
  const interrupt = createInterruptButton(ctx);

  function renderStatus(status: Status): void {
    primary.render(status);
    setAttrs(interrupt, { disabled: status !== "connected" });
    const noMic = controller.micOff !== null;
    setAttrs(talk.el, { disabled: status !== "connected" || noMic });
    if (status !== "connected" || noMic) talk.press(false); // a dropped call must not leave the mic open on reconnect
    turnDetection.render();
    mute.render(); // the controller also signals mute changes from Python this way
  }
  scope.add(
    controller.on("levels", (levels: Levels) => {
      micMeter.set(levels.input);
      outMeter.set(levels.output);
    }),
  );
  scope.add(shown.on(renderStatus));
  scope.add(controller.on("micOff", () => renderStatus(shown.current)));
  renderStatus(shown.current);
  mute.render();

  return h("div", { class: "rtw-controls", attrs: { role: "toolbar", "aria-label": "Voice controls" } }, [
    primary.el,
    mute.el,
    talk.el,
    turnDetection.el,
    interrupt,
    h("span", { class: "rtw-spacer" }),
    h("div", { class: "rtw-meters" }, [micMeter.el, outMeter.el]),
  ]);
}
