// @vitest-environment happy-dom
import type { Experimental } from "@anywidget/types";
import { describe, expect, it, vi } from "vitest";
import { FakeController, FakeModel } from "./fakes";

const created: Array<
  FakeController & { dispose: ReturnType<typeof vi.fn>; prepare: ReturnType<typeof vi.fn> }
> = [];
vi.mock("../../src/connection/controller", () => ({
  createController: () => {
    const controller = Object.assign(new FakeController(), { dispose: vi.fn(), prepare: vi.fn() });
    created.push(controller);
    return controller;
  },
}));

const { default: widget } = await import("../../src/widget");

/** anywidget gives initialize and every render its own proxy of one model: same state, different object. */
function proxyOf(model: FakeModel): FakeModel {
  return Object.create(model) as FakeModel;
}

const experimental = { invoke: vi.fn() } as unknown as Experimental;
const signal = new AbortController().signal;

async function init(model: FakeModel) {
  return widget.initialize({ model: proxyOf(model) as never, experimental, signal });
}
async function render(model: FakeModel, el: HTMLElement) {
  return widget.render({ model: proxyOf(model) as never, el, experimental, signal, host: {} as never });
}

describe("the anywidget entry", () => {
  it("views of one model share its controller, found by instance_id, and the model's cleanup disposes it", async () => {
    const model = new FakeModel();
    model.state["instance_id"] = "w-1";
    const other = new FakeModel();
    other.state["instance_id"] = "w-2";
    const cleanup = await init(model);
    await init(other);
    const [mine, theirs] = created;

    const a = document.createElement("div");
    const b = document.createElement("div");
    const unmountA = await render(model, a);
    const unmountB = await render(model, b);
    // Each view displayed gets the next connect ready (a pre-warmed key, a prepared peer).
    expect(mine!.prepare).toHaveBeenCalledTimes(2);
    expect(theirs!.prepare).not.toHaveBeenCalled();
    a.querySelector<HTMLButtonElement>('[data-testid="connect"]')!.click();
    expect(mine!.callsOf("connect")).toHaveLength(1);
    expect(theirs!.callsOf("connect")).toHaveLength(0);
    mine!.setStatus("connected");
    expect(b.querySelector('[data-testid="status"]')!.getAttribute("data-status")).toBe("connected");

    (unmountA as () => void)();
    (unmountB as () => void)();
    expect(a.childElementCount + b.childElementCount).toBe(0);
    (cleanup as () => void)();
    expect(mine!.dispose).toHaveBeenCalledOnce();
    expect(theirs!.dispose).not.toHaveBeenCalled();
  });

  it("says so in words when there is no connection layer for the model", async () => {
    const model = new FakeModel();
    model.state["instance_id"] = "never-initialised";
    const el = document.createElement("div");
    await render(model, el);
    expect(el.querySelector('[data-testid="error"]')!.textContent).toContain("did not start");
  });
});
