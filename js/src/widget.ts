// Placeholder entry so the build works until the UI lands its widget.ts (it replaces this file).
import type { Initialize, Render } from "@anywidget/types";

const initialize: Initialize = () => undefined;
const render: Render = ({ el }) => {
  el.textContent = "realtime-widget: front end not built yet";
};

export default { initialize, render };
