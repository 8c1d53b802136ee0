// What every part of a view gets: the shared controller, the model, and the view's teardown scope.
import type { Controller } from "../types";
import type { Scope } from "./dom";
import type { WidgetModel } from "./model";
import type { ShownStatus } from "./shownStatus";

export interface ViewContext {
  controller: Controller;
  /** The status as the console shows it (shownStatus.ts): what every part draws from, not `controller.status`. */
  shown: ShownStatus;
  model: WidgetModel;
  scope: Scope;
  /** The view's root element: keyboard shortcuts apply while focus is inside it. */
  root: HTMLElement;
}
