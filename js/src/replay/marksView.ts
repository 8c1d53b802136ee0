// The marks on the replay's time axis as DOM elements: utterances as bands in their side's lane (the transcript
// text as a label and tooltip), turns as latency spans, and tool calls, interruptions and errors as flags. Every
// string goes in as text (ui/dom.ts), never markup: transcript and error text come from the model and the server.
import { h } from "../ui/dom";
import { formatMs } from "../ui/stats";
import { formatTime, timeToX, type View } from "./timeAxis";
import type { Mark, Side } from "./wire";

export interface MarkRows {
  lanes: Record<Side, HTMLElement>;
  turns: HTMLElement;
  events: HTMLElement;
}

interface Placed {
  mark: Mark;
  el: HTMLElement;
  /** An utterance's label may run on past its band, up to where the same side's next utterance starts. */
  labelUntil?: number;
}

/** The turn's label: its number and the latency a person heard where known, else the latency by events. */
export function turnLabel(mark: Mark): string {
  const heard = mark.acousticLatencyMs ?? mark.voiceToVoiceMs;
  const latency = heard ?? mark.latencyMs;
  const parts = [`Turn ${mark.turn ?? "?"}`];
  if (latency !== undefined) parts.push(formatMs(latency));
  if (mark.interrupted) parts.push("interrupted");
  return parts.join(" · ");
}

/** The turn's tooltip: every latency the record has, named. */
export function turnTooltip(mark: Mark): string {
  const lines = [`Turn ${mark.turn ?? "?"}: user stopped at ${formatTime(mark.start)}`];
  if (mark.end > mark.start) lines.push(`reply audible at ${formatTime(mark.end)}`);
  if (mark.latencyMs !== undefined) lines.push(`latency by events: ${formatMs(mark.latencyMs)}`);
  if (mark.voiceToVoiceMs !== undefined) lines.push(`voice to voice (browser): ${formatMs(mark.voiceToVoiceMs)}`);
  if (mark.acousticLatencyMs !== undefined) lines.push(`from the recorded sound: ${formatMs(mark.acousticLatencyMs)}`);
  if (mark.interrupted) lines.push("the reply was interrupted");
  return lines.join("\n");
}

const FLAG_TEXT: Record<"tool" | "interruption" | "error", string> = {
  tool: "Tool",
  interruption: "Interrupted",
  error: "Error",
};

function markElement(mark: Mark): HTMLElement {
  const common = { "data-kind": mark.kind, "data-start": mark.start.toFixed(3) };
  switch (mark.kind) {
    case "utterance":
      return h(
        "div",
        {
          class: "rtw-replay-utterance",
          attrs: { ...common, "data-side": mark.side ?? "", "data-interrupted": mark.interrupted, title: mark.text },
        },
        [h("span", { class: "rtw-replay-utterance-text", text: mark.text || "…" })],
      );
    case "turn":
      return h(
        "div",
        { class: "rtw-replay-turn", attrs: { ...common, "data-turn": mark.turn, title: turnTooltip(mark) } },
        [h("span", { class: "rtw-replay-turn-label", text: turnLabel(mark) })],
      );
    default: {
      const label = mark.kind === "tool" ? mark.text : FLAG_TEXT[mark.kind];
      const title =
        mark.kind === "tool"
          ? `Tool call ${mark.text} at ${formatTime(mark.start)}${mark.error ? `: failed: ${mark.error}` : ""}`
          : `${FLAG_TEXT[mark.kind]} at ${formatTime(mark.start)}: ${mark.text}`;
      return h(
        "div",
        { class: "rtw-replay-flag", attrs: { ...common, "data-failed": mark.error !== "", title } },
        [h("span", { class: "rtw-replay-flag-text", text: label })],
      );
    }
  }
}

/** Builds every mark once; `layout` moves them when the view or the width changes. */
export class MarksView {
  private readonly placed: Placed[] = [];

  constructor(marks: readonly Mark[], rows: MarkRows) {
    for (const mark of marks) {
      const el = markElement(mark);
      const row =
        mark.kind === "utterance"
          ? rows.lanes[mark.side ?? "user"]
          : mark.kind === "turn"
            ? rows.turns
            : rows.events;
      row.append(el);
      this.placed.push({ mark, el });
    }
    const lastOfSide = new Map<string, Placed>();
    for (const placed of this.placed) {
      if (placed.mark.kind !== "utterance") continue;
      const side = placed.mark.side ?? "user";
      const previous = lastOfSide.get(side);
      if (previous) previous.labelUntil = placed.mark.start;
      lastOfSide.set(side, placed);
    }
  }

  layout(view: View, width: number): void {
    for (const placed of this.placed) {
      const { mark, el } = placed;
      const left = timeToX(mark.start, view, width);
      const right = timeToX(mark.end, view, width);
      const visible = right >= -2 && left <= width + 2;
      el.hidden = !visible;
      if (!visible) continue;
      el.style.left = `${left}px`;
      if (mark.kind === "utterance" || mark.kind === "turn") el.style.width = `${Math.max(right - left, 2)}px`;
      if (mark.kind === "utterance") {
        const until = placed.labelUntil === undefined ? width : timeToX(placed.labelUntil, view, width);
        const label = el.firstElementChild;
        if (label instanceof HTMLElement) label.style.maxWidth = `${Math.max(until - left - 4, right - left, 16)}px`;
      }
    }
  }
}
