// The event log: newest first, filter chips and a type filter, click a row to read its payload as JSON.
// At most MAX_DOM_ROWS rows are in the page however long the session runs.
import type { EventItem, Status } from "../types";
import type { ViewContext } from "./context";
import { h, setAttrs, setText, type Scope } from "./dom";
import { CHIPS, DEFAULT_FILTER, EventLogModel, type LogFilter, type LogRow, formatClock, matches, summary } from "./eventLog";

/** Statuses during which new rows wait (holdWhileConnecting). */
const CONNECTING: ReadonlySet<Status> = new Set<Status>(["minting", "connecting"]);

/** Rows that arrive while a connect is under way wait, and are drawn together once it is over: every drawing lays
 * out and paints the page, which in a notebook costs the connect itself several ms (benchmarks/connect_time.py). */
function holdWhileConnecting(
  { controller, scope }: Pick<ViewContext, "controller" | "scope">,
  draw: (rows: LogRow[]) => void,
): { add(row: LogRow): void; clear(): void } {
  let held: LogRow[] = [];
  scope.add(
    controller.on("status", (status) => {
      if (held.length === 0 || CONNECTING.has(status)) return;
      const rows = held;
      held = [];
      draw(rows);
    }),
  );
  return {
    add(row) {
      if (CONNECTING.has(controller.status)) held.push(row);
      else draw([row]);
    },
    clear() {
      held = [];
    },
  };
}

export const MAX_DOM_ROWS = 500;

function payloadText(item: EventItem): string {
  if (item.event === null) return item.raw ?? "";
  return JSON.stringify(item.event, null, 2);
}

function rowElement(row: LogRow): HTMLElement {
  const sent = row.item.dir === "client";
  const button = h("button", {
    class: "rtw-log-row",
    attrs: { type: "button", "aria-expanded": "false", "data-type": row.type, title: formatClock(row.item.t) },
  }, [
    h("span", { class: "rtw-log-time", text: formatClock(row.item.t) }),
    h("span", {
      class: `rtw-log-dir rtw-log-dir-${sent ? "sent" : "received"}`,
      attrs: { title: sent ? "Sent by the browser" : "Received from the server" },
      text: sent ? "↑" : "↓",
    }),
    h("span", { class: "rtw-visually-hidden", text: sent ? "sent" : "received" }),
    h("span", { class: "rtw-log-type", text: row.type }),
    h("span", { class: "rtw-log-summary", text: summary(row) }),
  ]);
  const li = h("li", { class: "rtw-log-item", attrs: { "data-error": row.isError ? "true" : null } }, [button]);
  // The payload is built on first open: most rows are never opened.
  button.addEventListener("click", () => {
    let pre = li.querySelector("pre");
    if (!pre) {
      pre = h("pre", { class: "rtw-log-payload", attrs: { "data-testid": "event-payload" }, text: payloadText(row.item) });
      li.append(pre);
      setAttrs(button, { "aria-expanded": "true" });
      return;
    }
    const open = pre.hidden;
    setAttrs(pre, { hidden: !open });
    setAttrs(button, { "aria-expanded": String(open) });
  });
  return li;
}

interface FilterBar {
  el: HTMLElement;
  showChip(chip: LogFilter["chip"]): void;
}

/** The chips, the type filter and the delta switch; each change is handed to `onChange` as a patch. */
function createFilterBar(scope: Scope, initial: LogFilter, onChange: (patch: Partial<LogFilter>) => void): FilterBar {
  const chips = CHIPS.map((chip) =>
    h("button", {
      class: "rtw-chip",
      attrs: { type: "button", "data-chip": chip.value, "aria-pressed": String(chip.value === initial.chip) },
      text: chip.label,
    }),
  );
  const search = h("input", {
    class: "rtw-input rtw-log-filter",
    attrs: { type: "search", placeholder: "Filter by type…", "aria-label": "Filter events by type", "data-testid": "event-filter" },
  });
  const hideDeltas = h("input", { attrs: { type: "checkbox", "data-testid": "hide-deltas" } });

  for (const chip of chips) {
    scope.listen(chip, "click", () => onChange({ chip: (chip.dataset["chip"] as LogFilter["chip"] | undefined) ?? "all" }));
  }
  scope.listen(search, "input", () => onChange({ text: search.value }));
  scope.listen(hideDeltas, "change", () => onChange({ hideDeltas: hideDeltas.checked }));

  const el = h("div", { class: "rtw-log-toolbar" }, [
    h("div", { class: "rtw-chips", attrs: { role: "group", "aria-label": "Show events of kind" } }, chips),
    h("div", { class: "rtw-log-options" }, [
      search,
      h("label", { class: "rtw-check" }, [hideDeltas, h("span", { text: "Hide deltas" })]),
    ]),
  ]);
  function showChip(current: LogFilter["chip"]): void {
    chips.forEach((chip) => setAttrs(chip, { "aria-pressed": String(chip.dataset["chip"] === current) }));
  }
  return { el, showChip };
}

export function createEventLog(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const log = new EventLogModel();
  let filter: LogFilter = { ...DEFAULT_FILTER };

  const count = h("span", { class: "rtw-log-count", attrs: { "data-testid": "event-count", "aria-live": "off" } });
  const bar = createFilterBar(scope, filter, (patch) => {
    filter = { ...filter, ...patch };
    rebuild();
  });
  const list = h("ol", { class: "rtw-log-list", attrs: { "data-testid": "event-log", reversed: true, "aria-label": "Events, newest first" } });
  const none = h("p", { class: "rtw-log-empty", text: "No events yet.", attrs: { hidden: true } });

  function renderCount(): void {
    setText(count, `${log.total.toLocaleString("en-US")} event${log.total === 1 ? "" : "s"} total`);
  }

  function renderEmpty(): void {
    const empty = list.childElementCount === 0;
    setAttrs(none, { hidden: !empty });
    setAttrs(list, { hidden: empty });
    if (empty) setText(none, log.total === 0 ? "No events yet." : "No events match the filter.");
  }

  function rebuild(): void {
    waiting.clear(); // drawn from the log itself, held rows included
    list.replaceChildren(...log.visible(filter, MAX_DOM_ROWS).map(rowElement));
    bar.showChip(filter.chip);
    renderEmpty();
  }

  function show(row: LogRow): void {
    if (!matches(row, filter)) return;
    list.prepend(rowElement(row));
    while (list.childElementCount > MAX_DOM_ROWS) list.lastElementChild?.remove();
    if (list.childElementCount === 1) renderEmpty(); // the first row replaces the "no events" line
  }

  const waiting = holdWhileConnecting(ctx, (rows) => {
    renderCount();
    for (const row of rows) show(row);
  });
  for (const item of controller.recentEvents) log.push(item);
  scope.add(controller.on("event", (item) => waiting.add(log.push(item))));
  renderCount();
  rebuild();

  return h("section", { class: "rtw-panel rtw-log", attrs: { "aria-label": "Event log" } }, [
    h("div", { class: "rtw-panel-head" }, [h("h3", { class: "rtw-panel-title", text: "Events" }), h("span", { class: "rtw-spacer" }), count]),
    bar.el,
    none,
    list,
  ]);
}
