// One view of the voice console, bound to the model's shared controller. Returns its teardown.
import type { Controller } from "../types";
import "./console.css";
import { createAlerts } from "./alerts";
import type { ViewContext } from "./context";
import { createComposer } from "./composer";
import { createControls } from "./controls";
import { Scope, h } from "./dom";
import { createEventLog } from "./eventLogView";
import { createHeader } from "./header";
import { createPlaying } from "./playing";
import { readBool, watch, type WidgetModel } from "./model";
import { createSettings } from "./settings";
import { ShownStatus } from "./shownStatus";
import { createStats } from "./statsView";
import { createTranscript } from "./transcriptView";

export function mountConsole(el: HTMLElement, model: WidgetModel, controller: Controller): () => void {
  const scope = new Scope();
  // tabindex -1: a click on the console's background focuses it, so Space push-to-talk works right away.
  const root = h("div", { class: "rtw-root", attrs: { "data-testid": "console", tabindex: -1 } });
  const ctx: ViewContext = { controller, shown: new ShownStatus(controller, scope), model, scope, root };

  // Wide: the conversation on the left, details on the right. Narrow: one column in this order.
  const main = h("div", { class: "rtw-main" }, [createTranscript(ctx), createComposer(ctx), createControls(ctx)]);
  const side = h("div", { class: "rtw-side" }, [createSettings(ctx), createStats(ctx), createEventLog(ctx)]);
  root.append(createHeader(ctx), createAlerts(ctx), createPlaying(ctx), h("div", { class: "rtw-body" }, [main, side]));

  // Keys typed into the console are ours: without this, a notebook host would also run its shortcuts
  // (in JupyterLab, Enter opens the cell editor and letters act on cells while the widget has focus).
  // Escape still reaches the host, as the way back to its keyboard navigation.
  for (const type of ["keydown", "keypress", "keyup"] as const) {
    scope.listen(root, type, (e) => {
      if (e.key !== "Escape") e.stopPropagation();
    });
  }

  const renderPresentation = () => root.classList.toggle("rtw-presentation", readBool(model, "presentation"));
  scope.add(watch(model, "presentation", renderPresentation));
  renderPresentation();

  el.append(root);
  scope.add(() => root.remove());
  return () => scope.dispose();
}

/** Shown instead of the console when the connection layer could not start at all. */
export function mountFailure(el: HTMLElement, message: string): () => void {
  const root = h("div", { class: "rtw-root" }, [
    h("div", { class: "rtw-alert rtw-alert-error", attrs: { "data-testid": "error", role: "alert" } }, [
      h("div", { class: "rtw-alert-body" }, [
        h("p", { class: "rtw-error-message", text: "The realtime widget could not start in this browser." }),
        h("p", { class: "rtw-error-hint", text: message }),
      ]),
    ]),
  ]);
  el.append(root);
  return () => root.remove();
}
