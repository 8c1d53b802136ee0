// The anywidget entry. `initialize` runs once per model and owns the connection (one Controller);
// `render` draws a view of it, and every view of the same model shares that controller.
import type { Initialize, Render } from "@anywidget/types";
import { createController } from "./connection/controller";
import type { Controller } from "./types";
import { mountConsole, mountFailure } from "./ui/console";
import type { WidgetTraits } from "./ui/model";

type RealtimeController = ReturnType<typeof createController>;
type Started = { controller: RealtimeController } | { failure: string };

// anywidget hands initialize and each render a different proxy of the model, so the object cannot be the key:
// the kernel gives every widget a unique `instance_id` trait instead.
const started = new Map<string, Started>();

function keyOf(model: { get(key: "instance_id"): unknown }): string {
  const id = model.get("instance_id");
  return typeof id === "string" ? id : "";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const initialize: Initialize<WidgetTraits> = ({ model, experimental }) => {
  const key = keyOf(model);
  let entry: Started;
  try {
    entry = { controller: createController(model, experimental) };
  } catch (error) {
    entry = { failure: describe(error) };
  }
  started.set(key, entry);
  return () => {
    // A re-initialisation (hot reload) may already have put its own entry here: leave that one alone.
    if (started.get(key) === entry) started.delete(key);
    // The model is closing: hang up so the microphone and the call do not outlive it.
    if ("controller" in entry) entry.controller.dispose();
  };
};

const render: Render<WidgetTraits> = ({ model, el }) => {
  const entry = started.get(keyOf(model));
  if (!entry) return mountFailure(el, "The widget's connection layer did not start. Re-run the cell.");
  if ("failure" in entry) return mountFailure(el, entry.failure);
  // Displayed: a user may click Connect soon, so have the kernel push a key now rather than be asked then.
  entry.controller.prepare();
  const controller: Controller = entry.controller; // the views use only the shared seam
  return mountConsole(el, model, controller); // also checks that AnyModel fits WidgetModel
};

export default { initialize, render };
