import { describe, expect, it } from "vitest";
import {
  clampView,
  followView,
  formatTime,
  fullView,
  MIN_SPAN_S,
  panView,
  tickStep,
  ticks,
  timeToX,
  xToTime,
  zoomView,
} from "../../src/replay/timeAxis";

describe("the replay's time axis", () => {
  it("maps seconds to pixels and back", () => {
    const view = { start: 10, end: 30 };
    expect(timeToX(10, view, 800)).toBe(0);
    expect(timeToX(20, view, 800)).toBe(400);
    expect(timeToX(35, view, 800)).toBe(1000); // off the right edge, not clamped: marks there are hidden
    expect(xToTime(400, view, 800)).toBe(20);
    expect(xToTime(-50, view, 800)).toBe(10); // a click is clamped to the view
    expect(xToTime(900, view, 800)).toBe(30);
    for (const t of [10, 12.5, 29.9]) expect(xToTime(timeToX(t, view, 640), view, 640)).toBeCloseTo(t, 9);
  });

  it("shows the whole session by default, and some axis for an empty one", () => {
    expect(fullView(72.5)).toEqual({ start: 0, end: 72.5 });
    expect(fullView(0)).toEqual({ start: 0, end: MIN_SPAN_S });
  });

  it("zooms around an anchor that stays under the same pixel", () => {
    const view = { start: 0, end: 60 };
    const zoomed = zoomView(view, 0.5, 30, 60);
    expect(zoomed).toEqual({ start: 15, end: 45 });
    const anchored = zoomView(view, 0.5, 12, 60);
    expect(timeToX(12, anchored, 600)).toBeCloseTo(timeToX(12, view, 600), 9);
    // Never past the whole session, never finer than MIN_SPAN_S.
    expect(zoomView(zoomed, 8, 30, 60)).toEqual({ start: 0, end: 60 });
    const deep = zoomView({ start: 10, end: 11 }, 0.01, 10.5, 60);
    expect(deep.end - deep.start).toBeCloseTo(MIN_SPAN_S, 9);
  });

  it("pans and follows the playhead without leaving the session", () => {
    expect(panView({ start: 10, end: 20 }, 5, 60)).toEqual({ start: 15, end: 25 });
    expect(panView({ start: 10, end: 20 }, -50, 60)).toEqual({ start: 0, end: 10 });
    expect(panView({ start: 10, end: 20 }, 500, 60)).toEqual({ start: 50, end: 60 });
    expect(clampView({ start: -5, end: 100 }, 60)).toEqual({ start: 0, end: 60 });
    const view = { start: 0, end: 10 };
    expect(followView(view, 5, 60)).toBe(view); // in view: unchanged, so nothing redraws
    expect(followView(view, 10.5, 60)).toEqual({ start: 9.5, end: 19.5 });
  });

  it("spaces ruler ticks so labels do not collide", () => {
    expect(tickStep({ start: 0, end: 60 }, 800)).toBe(10); // 6 s per 80 px → the next round step
    expect(tickStep({ start: 0, end: 3600 }, 800)).toBe(600);
    expect(tickStep({ start: 0, end: 1 }, 800)).toBe(0.1);
    expect(ticks({ start: 4.2, end: 31 }, 10)).toEqual([10, 20, 30]);
    expect(ticks({ start: 0, end: 0.35 }, 0.1)).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it("formats times as a person reads them", () => {
    expect(formatTime(0)).toBe("0:00.0");
    expect(formatTime(65.37)).toBe("1:05.3");
    expect(formatTime(3725, false)).toBe("1:02:05");
    expect(formatTime(-3)).toBe("0:00.0");
  });
});
