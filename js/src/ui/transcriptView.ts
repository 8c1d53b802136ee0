// Draws the transcript state: user and assistant bubbles, tool calls inline. Only entries whose object changed
// are touched, finished lines are announced to screen readers, and the list follows the newest line unless the
// reader has scrolled up.
import type { ToolStatusMessage } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText, type Scope } from "./dom";
import {
  EMPTY_TRANSCRIPT,
  type Entry,
  type MessageEntry,
  type ToolEntry,
  type ToolState,
  type TranscriptState,
  announcement,
  buildTranscript,
  heardLength,
  reduceTranscript,
} from "./transcript";

const MAX_ANNOUNCEMENTS = 3;
/** Events older than this are history being replayed (a page reload): drawn, not announced. */
const ANNOUNCE_WITHIN_MS = 10_000;
/** How close to the bottom (px) still counts as "following" the conversation. */
const FOLLOW_SLACK_PX = 48;

const TOOL_STATE_LABEL: Record<ToolState, string> = {
  calling: "calling…",
  // Sent to Python but not yet picked up: a kernel busy with a running cell takes it when the cell ends.
  requested: "waiting for the kernel…",
  waiting: "waiting for the kernel…",
  running: "running…",
  approval: "waiting for approval",
  done: "done",
  error: "failed",
};

/** Arguments and results are JSON strings by convention; show them indented when they parse. */
export function prettyJson(text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? JSON.stringify(value, null, 2) : text;
  } catch {
    return text;
  }
}

interface EntryView {
  entry: Entry;
  el: HTMLElement;
  update(entry: Entry): void;
}

/** Who said an assistant line: the Agents SDK agent the kernel named for its response, else "Assistant". */
type SpeakerOf = (responseId: string | null) => string | undefined;

function messageView(initial: MessageEntry, speakerOf: SpeakerOf): EntryView {
  const who = h("div", { class: "rtw-turn-who" });
  const text = h("span", { class: "rtw-bubble-text" });
  // The part of a truncated reply the user never heard: shown, but set apart.
  const unheard = h("span", { class: "rtw-unheard", attrs: { hidden: true, title: "Not heard: the reply was cut off here" } });
  const tag = h("span", { class: "rtw-tag", text: "interrupted", attrs: { hidden: true } });
  const bubble = h("div", { class: "rtw-bubble" }, [text, unheard, tag]);
  const el = h("div", { class: `rtw-turn rtw-turn-${initial.role}`, attrs: { "data-id": initial.id } }, [who, bubble]);
  const view: EntryView = {
    entry: initial,
    el,
    update(entry) {
      if (entry.kind !== "message") return;
      view.entry = entry;
      setText(who, entry.role === "user" ? (entry.via === "text" ? "You (typed)" : "You") : (speakerOf(entry.responseId) ?? "Assistant"));
      let shown = entry.text;
      let placeholder = false;
      if (shown === "") {
        placeholder = true;
        if (entry.failed) shown = "(speech not transcribed)";
        else if (entry.final && entry.role === "user") shown = "(no words recognised)";
        else if (entry.final) shown = entry.interrupted ? "" : "(audio only)";
        else shown = entry.role === "user" ? "Listening…" : "…";
      }
      const cut = !placeholder && entry.audioEndMs !== undefined ? heardLength(shown, entry.audioEndMs) : shown.length;
      setText(text, shown.slice(0, cut));
      setText(unheard, shown.slice(cut));
      setAttrs(unheard, { hidden: cut >= shown.length });
      text.classList.toggle("rtw-placeholder", placeholder);
      setAttrs(el, {
        "data-final": String(entry.final),
        "data-interrupted": String(entry.interrupted),
        "data-role": entry.role,
      });
      setAttrs(tag, { hidden: !entry.interrupted });
    },
  };
  view.update(initial);
  return view;
}

function toolView(initial: ToolEntry): EntryView {
  const name = h("span", { class: "rtw-tool-name" });
  const state = h("span", { class: "rtw-tool-state" });
  const args = h("pre", { class: "rtw-tool-args", attrs: { "aria-label": "Arguments" } });
  const result = h("pre", { class: "rtw-tool-result", attrs: { hidden: true } });
  const el = h("div", { class: "rtw-tool", attrs: { "data-id": initial.id } }, [
    h("div", { class: "rtw-tool-head" }, [
      h("span", { class: "rtw-tool-icon", attrs: { "aria-hidden": "true" }, text: "ƒ" }),
      h("span", { class: "rtw-visually-hidden", text: "Tool call" }),
      name,
      state,
    ]),
    args,
    result,
  ]);
  const view: EntryView = {
    entry: initial,
    el,
    update(entry) {
      if (entry.kind !== "tool") return;
      const before = view.entry.kind === "tool" ? view.entry : null;
      view.entry = entry;
      setText(name, entry.name || "tool");
      setText(state, TOOL_STATE_LABEL[entry.state]);
      el.dataset["state"] = entry.state;
      if (before?.arguments !== entry.arguments || args.textContent === "") {
        setText(args, entry.arguments === "" ? "{}" : prettyJson(entry.arguments));
      }
      const outcome = entry.state === "error" ? entry.error : entry.output;
      setAttrs(result, { hidden: outcome === null, "aria-label": entry.state === "error" ? "Error" : "Result" });
      if (outcome !== null) setText(result, entry.state === "error" ? outcome : prettyJson(outcome));
    },
  };
  view.update(initial);
  return view;
}

function createEntryView(entry: Entry, speakerOf: SpeakerOf): EntryView {
  return entry.kind === "message" ? messageView(entry, speakerOf) : toolView(entry);
}

/** Lines worth announcing: finished speech and answers, and finished tool calls; not what the user typed. */
function finishedNow(before: Entry | undefined, after: Entry): boolean {
  if (after.kind === "message") {
    if (after.role === "user" && after.via === "text") return false;
    return after.final && !(before?.kind === "message" && before.final);
  }
  const ended = after.state === "done" || after.state === "error";
  const endedBefore = before?.kind === "tool" && (before.state === "done" || before.state === "error");
  return ended && !endedBefore;
}

/**
 * Makes the list show `state`'s entries in order. A view is touched only when its entry object changed (the reducer
 * replaces only what changed), and moved only when it is out of place, so a long transcript stays cheap to redraw.
 */
function drawEntries(
  list: HTMLElement,
  views: Map<string, EntryView>,
  state: TranscriptState,
  onDrawn: (id: string, entry: Entry) => void,
  speakerOf: SpeakerOf,
): void {
  for (const [id, view] of views) {
    if (!state.entries.has(id)) {
      view.el.remove();
      views.delete(id);
    }
  }
  let previous: Element | null = null;
  for (const id of state.order) {
    const entry = state.entries.get(id);
    if (!entry) continue;
    let view = views.get(id);
    if (!view) {
      view = createEntryView(entry, speakerOf);
      views.set(id, view);
    } else if (view.entry !== entry) {
      view.update(entry);
    }
    onDrawn(id, entry);
    const expected: ChildNode | null = previous ? previous.nextSibling : list.firstChild;
    if (expected !== view.el) list.insertBefore(view.el, expected);
    previous = view.el;
  }
}

/** Keeps the newest line in view while the reader is at the bottom; scrolling up stops that until they come back. */
function followNewest(scope: Scope, list: HTMLElement): { scrollIfFollowing: () => void } {
  let following = true;
  let frame: number | null = null;

  function scrollIfFollowing(): void {
    if (!following || frame !== null || typeof requestAnimationFrame !== "function") return;
    frame = requestAnimationFrame(() => {
      frame = null;
      list.scrollTop = list.scrollHeight;
    });
  }
  scope.add(() => {
    if (frame !== null) cancelAnimationFrame(frame);
  });

  scope.listen(list, "scroll", () => {
    following = list.scrollHeight - list.scrollTop - list.clientHeight <= FOLLOW_SLACK_PX;
  });

  // The list changes size without a new line too (a narrower notebook, presentation mode): keep the newest line
  // in view if the reader was following. (jsdom and old browsers have no ResizeObserver.)
  if (typeof ResizeObserver === "function") {
    const observer = new ResizeObserver(() => scrollIfFollowing());
    observer.observe(list);
    scope.add(() => observer.disconnect());
  }
  return { scrollIfFollowing };
}

/** The kernel names a response's agent once the response is under way: its lines already drawn take the name. */
function relabel(views: ReadonlyMap<string, EntryView>, responseId: string): void {
  for (const view of views.values()) {
    if (view.entry.kind === "message" && view.entry.responseId === responseId) view.update(view.entry);
  }
}

export function createTranscript(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const list = h("div", {
    class: "rtw-transcript-list",
    // Focusable so the keyboard can scroll it; finished lines are announced by the separate live region.
    attrs: { "data-testid": "transcript", tabindex: 0, role: "region", "aria-label": "Conversation transcript" },
  });
  const empty = h("div", { class: "rtw-empty" }, [
    h("p", { class: "rtw-empty-title", text: "No conversation yet" }),
    h("p", { text: "Connect, then speak or type a message. The transcript appears here." }),
  ]);
  const announcer = h("div", { class: "rtw-visually-hidden", attrs: { "aria-live": "polite", "data-testid": "announcer" } });
  const section = h("section", { class: "rtw-panel rtw-transcript", attrs: { "aria-label": "Conversation", "data-empty": "true" } }, [
    h("div", { class: "rtw-panel-head" }, [h("h3", { class: "rtw-panel-title", text: "Conversation" })]),
    h("div", { class: "rtw-transcript-body" }, [empty, list]),
    announcer,
  ]);
  const views = new Map<string, EntryView>();
  const speakerOf: SpeakerOf = (id) => (id === null ? undefined : controller.responseAgents.get(id));
  let shown: TranscriptState = EMPTY_TRANSCRIPT;
  let state: TranscriptState = EMPTY_TRANSCRIPT;
  const follower = followNewest(scope, list);

  function announce(entry: Entry): void {
    announcer.append(h("p", { text: announcement(entry) }));
    while (announcer.childElementCount > MAX_ANNOUNCEMENTS) announcer.firstElementChild?.remove();
  }

  function render(announceChanges: boolean): void {
    if (state === shown) return;
    const before = shown;
    const onDrawn = (id: string, entry: Entry): void => {
      if (announceChanges && finishedNow(before.entries.get(id), entry)) announce(entry);
    };
    drawEntries(list, views, state, onDrawn, speakerOf);
    shown = state;
    setAttrs(empty, { hidden: state.order.length > 0 });
    section.dataset["empty"] = String(state.order.length === 0);
    follower.scrollIfFollowing();
  }

  // What happened before this view opened, without announcing it.
  state = buildTranscript([
    ...controller.recentEvents.map((item) => ({ kind: "event" as const, item })),
    ...[...controller.toolCalls.values()].map((message) => ({ kind: "tool" as const, message })),
  ]);
  render(false);

  scope.add(
    controller.on("event", (item) => {
      state = reduceTranscript(state, { kind: "event", item });
      render(Math.abs(Date.now() - item.t) < ANNOUNCE_WITHIN_MS);
    }),
  );
  scope.add(controller.on("agent", (message) => relabel(views, message.response_id)));
  scope.add(
    controller.on("tool", (message: ToolStatusMessage) => {
      state = reduceTranscript(state, { kind: "tool", message });
      render(true);
    }),
  );

  return section;
}
