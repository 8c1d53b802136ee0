// "Playing case <name> · step i/n" while the kernel plays a case into the call (widget.play), with Stop: the
// audience sees which scripted turn is being spoken, and the presenter can cut it off at once. All text as text.
import type { PlayState } from "../audio/casePlayer";
import type { ViewContext } from "./context";
import { h, setAttrs, setText } from "./dom";
import { icon } from "./icons";

/** The banner's title for a play state (pure). */
export function playTitle(state: PlayState): string {
  const step = state.step > 0 ? ` · step ${state.step}/${state.steps}` : "";
  return `Playing case ${state.caseName}${step}`;
}

export function createPlaying(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const title = h("p", { class: "rtw-alert-title", attrs: { "data-testid": "playing-title" } });
  const what = h("p", { class: "rtw-playing-step", attrs: { "data-testid": "playing-step" } });
  const stop = h("button", {
    class: "rtw-btn rtw-btn-small",
    attrs: { type: "button", "data-testid": "playing-stop", "aria-label": "Stop playing the case" },
    text: "Stop",
  });
  const panel = h(
    "div",
    { class: "rtw-alert rtw-alert-playing", attrs: { "data-testid": "playing", role: "status", hidden: true } },
    [
      h("span", { class: "rtw-alert-icon", attrs: { "aria-hidden": "true" } }, [icon("play")]),
      h("div", { class: "rtw-alert-body" }, [title, what]),
      h("div", { class: "rtw-alert-actions" }, [stop]),
    ],
  );

  function render(state: PlayState | null): void {
    setAttrs(panel, { hidden: state === null });
    if (state === null) return;
    setText(title, playTitle(state));
    setText(what, state.stopping ? "Stopping…" : state.what);
    setAttrs(stop, { disabled: state.stopping });
  }

  scope.listen(stop, "click", () => controller.stopPlay());
  scope.add(controller.on("play", render));
  render(controller.playState);
  return panel;
}
