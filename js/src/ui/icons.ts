// Small stroke icons drawn as inline SVG: emoji glyphs are missing from many fonts (and render as boxes).
// Static shapes only; no data ever goes into them.
const NS = "http://www.w3.org/2000/svg";

type Shape = [tag: "path" | "rect" | "circle" | "line", attrs: Record<string, string | number>];

const SHAPES = {
  mic: [
    ["rect", { x: 9, y: 3, width: 6, height: 11, rx: 3 }],
    ["path", { d: "M5.5 11a6.5 6.5 0 0 0 13 0" }],
    ["line", { x1: 12, y1: 17.5, x2: 12, y2: 21 }],
  ],
  micOff: [
    ["rect", { x: 9, y: 3, width: 6, height: 11, rx: 3 }],
    ["path", { d: "M5.5 11a6.5 6.5 0 0 0 13 0" }],
    ["line", { x1: 12, y1: 17.5, x2: 12, y2: 21 }],
    ["line", { x1: 4, y1: 4, x2: 20, y2: 20 }],
  ],
  // A raised hand: "stop talking", clearer than a media-stop square beside the mic.
  hand: [
    ["path", { d: "M18 11V6a2 2 0 0 0-4 0" }],
    ["path", { d: "M14 10V4a2 2 0 0 0-4 0v2" }],
    ["path", { d: "M10 10.5V6a2 2 0 0 0-4 0v8" }],
    ["path", { d: "M18 8a2 2 0 1 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.86-6-2.34l-3.6-3.6a2 2 0 0 1 2.83-2.83L7 15" }],
  ],
  talk: [["circle", { cx: 12, cy: 12, r: 5, fill: "currentColor" }]],
  screen: [
    ["rect", { x: 3, y: 4, width: 18, height: 12, rx: 2 }],
    ["line", { x1: 12, y1: 16, x2: 12, y2: 20 }],
    ["line", { x1: 8, y1: 20, x2: 16, y2: 20 }],
  ],
  speaker: [
    ["path", { d: "M4 9.5h3.5L12 6v12l-4.5-3.5H4z" }],
    ["path", { d: "M15.5 9.5a3.5 3.5 0 0 1 0 5" }],
    ["path", { d: "M18 7a7 7 0 0 1 0 10" }],
  ],
  play: [["path", { d: "M8 5.5v13l10-6.5z", fill: "currentColor" }]],
  power: [
    ["path", { d: "M7.5 7.5a6.5 6.5 0 1 0 9 0" }],
    ["line", { x1: 12, y1: 3.5, x2: 12, y2: 11 }],
  ],
} satisfies Record<string, Shape[]>;

export type IconName = keyof typeof SHAPES;

export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "rtw-icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const [tag, attrs] of SHAPES[name] as Shape[]) {
    const el = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
    svg.append(el);
  }
  return svg;
}
