// Waveform peaks as the kernel sends them (realtime_widget/replay/peaks.py): int16 (min, max) pairs, one per pixel
// column, little-endian; (1, -1) marks a column with no audio under it. Decoding and the mapping to pixel rows are
// pure; drawing is one loop over the columns.

/** The bytes of one anywidget buffer (a DataView, a typed array or an ArrayBuffer, depending on the front end). */
export function bytesOf(buffer: unknown): Uint8Array {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new TypeError("expected a binary buffer");
}

/** The int16 samples or peak values in `buffer`, copied so they are aligned whatever offset the buffer had. */
export function int16Of(buffer: unknown): Int16Array {
  const bytes = bytesOf(buffer);
  const out = new Int16Array(bytes.byteLength >> 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** One column: its top and bottom pixel rows in a lane `height` pixels tall, or null where there is no audio. */
export function columnRows(min: number, max: number, height: number): { top: number; bottom: number } | null {
  if (min > max) return null;
  const middle = height / 2;
  const scale = middle / 32768;
  const top = middle - max * scale;
  const bottom = middle - min * scale;
  // At least one pixel, so silence reads as a flat line rather than nothing.
  return bottom - top < 1 ? { top: middle - 0.5, bottom: middle + 0.5 } : { top, bottom };
}

/** Draws `peaks` (pairs) as one vertical bar per column, `columnWidth` pixels apart. */
export function drawPeaks(
  context: CanvasRenderingContext2D,
  peaks: Int16Array,
  height: number,
  columnWidth: number,
  color: string,
): void {
  context.fillStyle = color;
  for (let column = 0; column * 2 + 1 < peaks.length; column++) {
    const rows = columnRows(peaks[column * 2] ?? 1, peaks[column * 2 + 1] ?? -1, height);
    if (rows) context.fillRect(column * columnWidth, rows.top, columnWidth, rows.bottom - rows.top);
  }
}
