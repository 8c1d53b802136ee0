// The replay's time axis: which seconds are on screen, and where each second falls in pixels. Pure, so the
// mapping the waveforms, marks, clicks and playhead all share is tested on its own.

/** The window on screen, in seconds from the session's origin. */
export interface View {
  start: number;
  end: number;
}

/** Shortest window a zoom reaches: a few milliseconds per pixel is already sample-level for speech. */
export const MIN_SPAN_S = 0.5;

export function span(view: View): number {
  return view.end - view.start;
}

/** Pixel x (0 at the left edge) of second `t` in a `width`-pixel-wide view. */
export function timeToX(t: number, view: View, width: number): number {
  const s = span(view);
  return s > 0 ? ((t - view.start) / s) * width : 0;
}

/** Second under pixel `x`, clamped to the view. */
export function xToTime(x: number, view: View, width: number): number {
  if (width <= 0) return view.start;
  const fraction = Math.min(Math.max(x / width, 0), 1);
  return view.start + fraction * span(view);
}

/** The whole session (at least MIN_SPAN_S, so an empty record still draws an axis). */
export function fullView(duration: number): View {
  return { start: 0, end: Math.max(duration, MIN_SPAN_S) };
}

/** Keeps a window of the same length inside [0, duration] (or the full view when it is longer). */
export function clampView(view: View, duration: number): View {
  const full = fullView(duration);
  const length = Math.min(Math.max(span(view), MIN_SPAN_S), span(full));
  const start = Math.min(Math.max(view.start, 0), full.end - length);
  return { start, end: start + length };
}

/** Zooms by `factor` (< 1 in, > 1 out) keeping second `anchor` at the same pixel. */
export function zoomView(view: View, factor: number, anchor: number, duration: number): View {
  const length = Math.max(span(view) * factor, MIN_SPAN_S);
  const fraction = span(view) > 0 ? (anchor - view.start) / span(view) : 0.5;
  const start = anchor - fraction * length;
  return clampView({ start, end: start + length }, duration);
}

/** Moves the window by `seconds`, staying inside the session. */
export function panView(view: View, seconds: number, duration: number): View {
  return clampView({ start: view.start + seconds, end: view.end + seconds }, duration);
}

/** Brings second `t` into view (the playhead running off the right edge pages the view on). */
export function followView(view: View, t: number, duration: number): View {
  if (t >= view.start && t <= view.end) return view;
  const length = span(view);
  return clampView({ start: t - length * 0.1, end: t + length * 0.9 }, duration);
}

const STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** Seconds between ruler ticks so that labels are at least `minPixels` apart. */
export function tickStep(view: View, width: number, minPixels = 80): number {
  const perPixel = width > 0 ? span(view) / width : span(view);
  const wanted = perPixel * minPixels;
  return STEPS.find((step) => step >= wanted) ?? Math.ceil(wanted / 3600) * 3600;
}

/** Tick times in the view, multiples of `step`. */
export function ticks(view: View, step: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(view.start / step) * step; t <= view.end + 1e-9; t += step) {
    out.push(Math.round(t * 1000) / 1000);
  }
  return out;
}

/** "1:05.3" (or "1:02:05" past an hour); tenths only when `tenths`. */
export function formatTime(seconds: number, tenths = true): string {
  const t = Math.max(0, seconds);
  const hours = Math.floor(t / 3600);
  const minutes = Math.floor((t % 3600) / 60);
  const whole = Math.floor(t % 60);
  const secs = String(whole).padStart(2, "0");
  const fraction = tenths ? `.${Math.floor((t * 10) % 10)}` : "";
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}${fraction}` : `${minutes}:${secs}${fraction}`;
}
