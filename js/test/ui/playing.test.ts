// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { playTitle } from "../../src/ui/playing";
import { mountFakeConsole } from "./fakes";

const state = { playId: "p1", caseName: "north <b>sales</b>", step: 1, steps: 3, what: "say 'hi'", stopping: false };

describe("the playing banner", () => {
  afterEach(() => {
    document.body.innerHTML = "";
  });

  it("names the case and the step", () => {
    expect(playTitle(state)).toBe("Playing case north <b>sales</b> · step 1/3");
    expect(playTitle({ ...state, step: 0 })).toBe("Playing case north <b>sales</b>");
  });

  it("shows while a case plays, as text, and Stop stops it", () => {
    const { el: root, controller, unmount } = mountFakeConsole();
    const banner = root.querySelector<HTMLElement>("[data-testid=playing]")!;
    expect(banner.hidden).toBe(true);
    controller.setPlay(state);
    expect(banner.hidden).toBe(false);
    expect(root.querySelector("[data-testid=playing-title]")!.textContent).toBe(playTitle(state));
    expect(banner.querySelector("b")).toBeNull(); // the case's name is text, never markup
    expect(root.querySelector("[data-testid=playing-step]")!.textContent).toBe("say 'hi'");
    root.querySelector<HTMLButtonElement>("[data-testid=playing-stop]")!.click();
    expect(controller.callsOf("stopPlay")).toEqual([[]]);
    controller.setPlay({ ...state, stopping: true });
    expect(root.querySelector("[data-testid=playing-step]")!.textContent).toBe("Stopping…");
    expect(root.querySelector<HTMLButtonElement>("[data-testid=playing-stop]")!.disabled).toBe(true);
    controller.setPlay(null);
    expect(banner.hidden).toBe(true);
    unmount();
  });
});
