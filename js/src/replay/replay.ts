// The replay view's anywidget entry (realtime_widget/replay/view.py). It needs no connection: everything it shows
// comes from the kernel's record through the view's commands.
import type { Render } from "@anywidget/types";
import "./replay.css";
import { mountReplay } from "./view";
import { ReplayKernel } from "./wire";

interface ReplayTraits {
  title: string;
}

const render: Render<ReplayTraits> = ({ model, el, experimental }) => {
  const kernel = new ReplayKernel(model, experimental);
  const title = model.get("title");
  return mountReplay(el, kernel, typeof title === "string" ? title : "");
};

export default { render };
