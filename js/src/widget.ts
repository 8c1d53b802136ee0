// The anywidget entry. `initialize` runs once per model and owns the connection (one Controller);
// `render` draws a view of it, and every view of the same model shares that controller.
import type { Initialize, Render } from "@anywidget/types";
import { createController } from "./connection/controller";
import type { Controller } from "./types";
import { mountConsole, mountFailure } from "./ui/console";
import type { WidgetTraits } from "./ui/model";

type RealtimeController = ReturnType<typeof createController>;
type Started = { controller: RealtimeController } | { failure: string };

// Keyed by the widget's instance id: anywidget passes initialize and render different proxies of one model,
// so the model object itself cannot be the key. initialize's cleanup removes the entry.
const started = new Map<string, Started>();

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const initialize: Initialize<WidgetTraits> = ({ model, experimental }) => {
  const key = model.get("instance_id");
  let controller: RealtimeController;
  try {
    controller = createController(model, experimental);
  } catch (error) {
    started.set(key, { failure: describe(error) });
    return () => started.delete(key);
  }
  started.set(key, { controller });
  return () => {
    started.delete(key);
    // The model is being closed: hang up so the microphone and the call do not outlive it.
    controller.dispose();
  };
};

const render: Render<WidgetTraits> = ({ model, el }) => {
  const entry = started.get(model.get("instance_id"));
  if (!entry) return mountFailure(el, "The widget's connection layer did not initialise. Re-run the cell.");
  if ("failure" in entry) return mountFailure(el, entry.failure);
  const controller: Controller = entry.controller; // the views use only the shared seam
  return mountConsole(el, model, controller); // also checks that AnyModel fits WidgetModel
};

export default { initialize, render };
