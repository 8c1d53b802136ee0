// The settings people change most (voice, instructions, turn detection) and the microphone.
// Bound to the `settings` and `options` traits; locked while a connection is up because they apply at connect time.
import type { Status } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText } from "./dom";
import { TURN_DETECTION, VOICES, readDeviceId, readSettings, watch, writeDeviceId, writeSettings } from "./model";
import { isActive } from "./status";

const INSTRUCTIONS_DEBOUNCE_MS = 400;

let idCounter = 0;
function uid(name: string): string {
  idCounter += 1;
  return `rtw-${name}-${idCounter}`;
}

function field(label: string, control: HTMLElement, wide = false): HTMLElement {
  const id = uid("field");
  control.id = id;
  return h("div", { class: wide ? "rtw-field rtw-field-wide" : "rtw-field" }, [
    h("label", { class: "rtw-label", attrs: { for: id }, text: label }),
    control,
  ]);
}

/** Replaces a select's options only when the list changed, keeping the chosen value when it still exists. */
function setOptions(select: HTMLSelectElement, options: ReadonlyArray<{ value: string; label: string }>, value: string): void {
  const same =
    select.options.length === options.length &&
    options.every((o, i) => select.options.item(i)?.value === o.value && select.options.item(i)?.text === o.label);
  if (!same) {
    select.replaceChildren(...options.map((o) => h("option", { attrs: { value: o.value }, text: o.label })));
  }
  select.value = value;
}

function createMicSelect(ctx: ViewContext): HTMLElement {
  const { controller, shown, model, scope } = ctx;
  const select = h("select", { class: "rtw-select", attrs: { "data-testid": "mic-select" } });
  let alive = true;
  scope.add(() => {
    alive = false;
  });

  async function listMicrophones(): Promise<MediaDeviceInfo[]> {
    try {
      return (await controller.listMicrophones()).filter((d) => d.kind === "audioinput");
    } catch {
      return [];
    }
  }

  async function refresh(): Promise<void> {
    const devices = await listMicrophones();
    if (!alive) return;
    // Browsers hide device labels until the page has had microphone access.
    const options = [
      { value: "", label: "System default" },
      ...devices
        .filter((d) => d.deviceId !== "" && d.deviceId !== "default")
        .map((d, i) => ({ value: d.deviceId, label: d.label || `Microphone ${i + 1}` })),
    ];
    const current = readDeviceId(model) ?? "";
    if (!options.some((o) => o.value === current)) options.push({ value: current, label: "Chosen microphone (not found)" });
    setOptions(select, options, current);
  }

  scope.listen(select, "change", () => writeDeviceId(model, select.value === "" ? null : select.value));
  scope.add(watch(model, "options", () => void refresh()));
  scope.add(
    shown.on((status) => {
      if (status === "connected") void refresh(); // labels become readable once the mic is granted
    }),
  );
  const devices = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
  if (devices && typeof devices.addEventListener === "function") {
    scope.listen(devices, "devicechange", () => void refresh());
  }
  setOptions(select, [{ value: readDeviceId(model) ?? "", label: "System default" }], readDeviceId(model) ?? "");
  void refresh();
  // The device is opened at connect time, so like the settings it is locked while connected.
  scope.add(shown.on((status) => setAttrs(select, { disabled: isActive(status) })));
  setAttrs(select, { disabled: isActive(shown.current) });
  return field("Microphone", select, true);
}

/** Writes the instructions a pause after typing stops (not on every key), and at once when the box is left. */
function createInstructions(ctx: ViewContext): HTMLTextAreaElement {
  const { model, scope } = ctx;
  const instructions = h("textarea", {
    class: "rtw-textarea",
    attrs: { "data-testid": "instructions", rows: 3, placeholder: "How the assistant should behave (optional)" },
  });
  let pending: ReturnType<typeof setTimeout> | null = null;
  function flushInstructions(): void {
    if (pending !== null) clearTimeout(pending);
    pending = null;
    if (instructions.value !== readSettings(model).instructions) writeSettings(model, { instructions: instructions.value });
  }
  scope.listen(instructions, "input", () => {
    if (pending !== null) clearTimeout(pending);
    pending = setTimeout(flushInstructions, INSTRUCTIONS_DEBOUNCE_MS);
  });
  scope.listen(instructions, "change", flushInstructions);
  scope.add(() => {
    if (pending !== null) flushInstructions();
  });
  return instructions;
}

/** The one line in the panel's head that says which voice and turn detection are in use. */
function createSummary(ctx: ViewContext): { el: HTMLElement; render: () => void } {
  const summary = h("span", { class: "rtw-settings-summary", attrs: { "data-testid": "settings-summary" } });
  function render(): void {
    const settings = readSettings(ctx.model);
    const turnLabel = TURN_DETECTION.find((t) => t.value === settings.turn_detection)?.label ?? settings.turn_detection;
    setText(summary, `${settings.voice || "Default voice"} · ${turnLabel}`);
  }
  return { el: summary, render };
}

export function createSettings(ctx: ViewContext): HTMLElement {
  const { shown, model, scope } = ctx;

  const voice = h("select", { class: "rtw-select", attrs: { "data-testid": "voice" } });
  const turn = h("select", { class: "rtw-select", attrs: { "data-testid": "turn-detection" } });
  const instructions = createInstructions(ctx);
  const note = h("p", { class: "rtw-note", attrs: { "data-testid": "settings-note", hidden: true } });
  const summary = createSummary(ctx);

  function render(): void {
    const settings = readSettings(model);
    const voices: Array<{ value: string; label: string }> = VOICES.map((v) => ({ value: v, label: v }));
    if (settings.voice === "") voices.unshift({ value: "", label: "Default" });
    else if (!voices.some((v) => v.value === settings.voice)) voices.push({ value: settings.voice, label: settings.voice });
    setOptions(voice, voices, settings.voice);
    setOptions(turn, TURN_DETECTION, settings.turn_detection);
    // Do not overwrite what the person is typing.
    if (document.activeElement !== instructions && instructions.value !== settings.instructions) {
      instructions.value = settings.instructions;
    }
  }

  // Locked settings fold away while connected (one line says what is in use) and unfold after;
  // only on those transitions, so a person can still open or close the panel as they like.
  let wasLocked: boolean | null = null;
  function renderLock(status: Status): void {
    const locked = isActive(status);
    for (const control of [voice, turn, instructions]) setAttrs(control, { disabled: locked });
    setAttrs(note, { hidden: !locked });
    setText(note, "These apply when you connect. Disconnect to change them.");
    if (locked !== wasLocked) panel.open = !locked;
    wasLocked = locked;
  }

  scope.listen(voice, "change", () => writeSettings(model, { voice: voice.value }));
  scope.listen(turn, "change", () => {
    const value = TURN_DETECTION.find((t) => t.value === turn.value)?.value;
    if (value) writeSettings(model, { turn_detection: value });
  });
  const panel = h("details", { class: "rtw-panel rtw-settings-panel", attrs: { "data-testid": "settings" } }, [
    h("summary", { class: "rtw-settings-head" }, [h("span", { class: "rtw-panel-title", text: "Session" }), summary.el]),
    h("div", { class: "rtw-settings" }, [
      field("Voice", voice),
      field("Turn detection", turn),
      createMicSelect(ctx),
      field("Instructions", instructions, true),
      note,
    ]),
  ]);

  scope.add(
    watch(model, "settings", () => {
      render();
      summary.render();
    }),
  );
  scope.add(shown.on(renderLock));
  render();
  summary.render();
  renderLock(shown.current);
  return panel;
}
