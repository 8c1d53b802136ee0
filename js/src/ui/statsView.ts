// The compact stats strip: network quality, bitrates and the last voice-to-voice latency.
// Only while connected: otherwise the last figures would read as current, so every cell shows "—".
import type { StatsItem } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText } from "./dom";
import { formatStats } from "./stats";

export function createStats(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const recent = controller.recentStats;
  let current: StatsItem | null = recent[recent.length - 1] ?? null;
  let previous: StatsItem | null = recent[recent.length - 2] ?? null;
  let latency: number | null = null;

  const cells = formatStats(current, previous, latency).map((cell) => {
    // Plain elements, not dl/dt/dd: notebook hosts restyle definition lists in outputs.
    const value = h("span", { class: "rtw-stat-value" });
    const el = h("div", { class: "rtw-stat", attrs: { "data-stat": cell.key } }, [
      h("span", { class: "rtw-stat-label", text: cell.label }),
      value,
    ]);
    return { key: cell.key, el, value };
  });
  const strip = h(
    "div",
    { class: "rtw-stats", attrs: { "data-testid": "stats", role: "group", "aria-label": "Connection statistics" } },
    cells.map((c) => c.el),
  );

  function render(): void {
    const live = controller.status === "connected";
    strip.dataset["live"] = String(live);
    const formatted = live ? formatStats(current, previous, latency) : formatStats(null);
    formatted.forEach((cell, i) => {
      const view = cells[i];
      if (!view) return;
      setText(view.value, cell.value);
      setAttrs(view.el, { "data-level": cell.level, title: `${cell.title}: ${cell.value}` });
    });
  }

  scope.add(
    controller.on("stats", (item) => {
      previous = current;
      current = item;
      render();
    }),
  );
  scope.add(
    controller.on("voiceLatency", (item) => {
      latency = item.ms;
      render();
    }),
  );
  scope.add(
    controller.on("status", (status) => {
      // A new connection starts its own figures (its counters restart too).
      if (status === "connecting" || status === "minting") {
        current = null;
        previous = null;
        latency = null;
      }
      render();
    }),
  );
  render();
  return strip;
}
