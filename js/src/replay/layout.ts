// The replay view's elements, built once: header (play, time, title, zoom), the label column, and the tracks
// (ruler, user lane, turns row, assistant lane, events row, playhead) that share one time axis.
import { h } from "../ui/dom";
import type { Side } from "./wire";

export const SIDES = ["user", "assistant"] as const;
const SIDE_LABEL: Record<Side, string> = { user: "User", assistant: "Assistant" };

export interface ReplayElements {
  play: HTMLButtonElement;
  time: HTMLElement;
  zoomIn: HTMLButtonElement;
  zoomOut: HTMLButtonElement;
  fit: HTMLButtonElement;
  ruler: HTMLElement;
  canvases: Record<Side, HTMLCanvasElement>;
  lanes: Record<Side, HTMLElement>;
  turns: HTMLElement;
  events: HTMLElement;
  playhead: HTMLElement;
  tracks: HTMLElement;
  note: HTMLElement;
}

function button(label: string, testid: string, title: string): HTMLButtonElement {
  return h("button", { class: "rtw-replay-button", attrs: { type: "button", "data-testid": testid, title } }, [label]);
}

function lane(side: Side, hasAudio: boolean): { lane: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h("canvas", { class: "rtw-replay-wave" });
  const empty = hasAudio ? null : h("span", { class: "rtw-replay-empty", text: "no audio recorded" });
  const el = h("div", { class: "rtw-replay-lane", attrs: { "data-side": side, "data-testid": `lane-${side}` } }, [
    canvas,
    empty,
  ]);
  return { lane: el, canvas };
}

/** Builds the view into `root`; `withAudio` names the sides that have recorded audio. */
export function buildElements(root: HTMLElement, title: string, withAudio: ReadonlySet<Side>): ReplayElements {
  const play = button("▶ Play", "play", "Play from the playhead (space)");
  const time = h("span", { class: "rtw-replay-time", attrs: { "data-testid": "time" } });
  const zoomOut = button("−", "zoom-out", "Zoom out (-)");
  const zoomIn = button("+", "zoom-in", "Zoom in (+)");
  const fit = button("Fit", "fit", "Show the whole session");
  const header = h("div", { class: "rtw-replay-header" }, [
    play,
    time,
    h("span", { class: "rtw-replay-title", text: title, attrs: { title } }),
    h("span", { class: "rtw-replay-spacer" }),
    h("span", { class: "rtw-replay-zoom", attrs: { role: "group", "aria-label": "Zoom" } }, [zoomOut, zoomIn, fit]),
  ]);
  const user = lane("user", withAudio.has("user"));
  const assistant = lane("assistant", withAudio.has("assistant"));
  const ruler = h("div", { class: "rtw-replay-ruler", attrs: { "aria-hidden": "true" } });
  const turns = h("div", { class: "rtw-replay-turns", attrs: { "data-testid": "turns" } });
  const events = h("div", { class: "rtw-replay-events", attrs: { "data-testid": "events" } });
  const playhead = h("div", { class: "rtw-replay-playhead", attrs: { "data-testid": "playhead" } });
  const tracks = h("div", { class: "rtw-replay-tracks", attrs: { "data-testid": "tracks" } }, [
    ruler,
    user.lane,
    turns,
    assistant.lane,
    events,
    playhead,
  ]);
  const labels = h("div", { class: "rtw-replay-labels", attrs: { "aria-hidden": "true" } }, [
    h("span"),
    h("span", { class: "rtw-replay-label", attrs: { "data-side": "user" }, text: SIDE_LABEL.user }),
    h("span", { class: "rtw-replay-label rtw-replay-label-small", text: "Turns" }),
    h("span", { class: "rtw-replay-label", attrs: { "data-side": "assistant" }, text: SIDE_LABEL.assistant }),
    h("span", { class: "rtw-replay-label rtw-replay-label-small", text: "Events" }),
  ]);
  const note = h("p", { class: "rtw-replay-note", attrs: { "data-testid": "note", role: "status" } });
  root.append(header, h("div", { class: "rtw-replay-body" }, [labels, tracks]), note);
  const canvases = { user: user.canvas, assistant: assistant.canvas };
  const lanes = { user: user.lane, assistant: assistant.lane };
  return { play, time, zoomIn, zoomOut, fit, ruler, canvases, lanes, turns, events, playhead, tracks, note };
}
