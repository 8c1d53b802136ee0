import { describe, expect, it } from "vitest";
import { columnRows, drawPeaks, int16Of } from "../../src/replay/peaks";
import { parseOverview } from "../../src/replay/wire";
import { turnLabel, turnTooltip } from "../../src/replay/marksView";

function littleEndian(values: number[], offset = 0): DataView {
  const buffer = new ArrayBuffer(offset + values.length * 2);
  const view = new DataView(buffer, offset);
  values.forEach((v, i) => view.setInt16(i * 2, v, true));
  return view;
}

describe("waveform peaks from the kernel", () => {
  it("decodes int16 pairs from any buffer, aligned or not", () => {
    expect(Array.from(int16Of(littleEndian([-300, 400, 1, -1])))).toEqual([-300, 400, 1, -1]);
    // anywidget hands DataViews that may start at an odd byte offset of a larger message.
    expect(Array.from(int16Of(littleEndian([-32768, 32767], 3)))).toEqual([-32768, 32767]);
    expect(Array.from(int16Of(littleEndian([5]).buffer))).toEqual([5]);
    expect(() => int16Of("not bytes")).toThrow(TypeError);
  });

  it("maps a column's min and max to pixel rows, with silence a thin line and no audio nothing", () => {
    expect(columnRows(-16384, 16384, 100)).toEqual({ top: 25, bottom: 75 });
    expect(columnRows(-32768, 32767, 100)?.top).toBeCloseTo(0, 1);
    expect(columnRows(0, 0, 100)).toEqual({ top: 49.5, bottom: 50.5 });
    expect(columnRows(1, -1, 100)).toBeNull(); // the kernel's "no audio under this column"
  });

  it("draws one bar per column and skips columns without audio", () => {
    const bars: number[][] = [];
    const context = {
      fillStyle: "",
      fillRect: (x: number, y: number, w: number, height: number) => bars.push([x, y, w, height]),
    } as unknown as CanvasRenderingContext2D;
    drawPeaks(context, Int16Array.from([-16384, 16384, 1, -1, 0, 0]), 100, 2, "#123456");
    expect(context.fillStyle).toBe("#123456");
    expect(bars).toEqual([
      [0, 25, 2, 50],
      [4, 49.5, 2, 1],
    ]);
  });
});

describe("the overview reply", () => {
  it("keeps valid marks and sides and drops the rest", () => {
    const overview = parseOverview({
      origin_ms: 1_700_000_000_000,
      duration: 42.5,
      sides: [
        { side: "user", sample_rate: 24000, start: 0.5, duration: 40 },
        { side: "robot", sample_rate: 24000, start: 0, duration: 1 },
        { side: "assistant", sample_rate: 0, start: 0, duration: 1 },
      ],
      marks: [
        { kind: "utterance", side: "user", start: 1, end: 2.5, text: "<b>hi</b>", interrupted: false },
        { kind: "turn", turn: 0, start: 2.5, end: 3.1, latency_ms: 600, voice_to_voice_ms: 1250, interrupted: true },
        { kind: "bogus", start: 1 },
        { kind: "tool", start: "later" },
        { kind: "error", start: 5, end: 2, text: "rate_limit_exceeded: slow down" },
      ],
    });
    expect(overview.duration).toBe(42.5);
    expect(overview.sides).toEqual([{ side: "user", sampleRate: 24000, start: 0.5, duration: 40 }]);
    expect(overview.marks.map((m) => m.kind)).toEqual(["utterance", "turn", "error"]);
    expect(overview.marks[0]?.text).toBe("<b>hi</b>"); // text, shown as text
    expect(overview.marks[2]?.end).toBe(5); // an end before the start is pulled up to it
    const turn = overview.marks[1];
    expect(turn && turnLabel(turn)).toBe("Turn 0 · 1250 ms · interrupted"); // what a person heard first
    expect(turn && turnTooltip(turn)).toContain("latency by events: 600 ms");
  });
});
