// Browser time as ms since the Unix epoch, with sub-ms resolution, monotonic within a page.
export function now(): number {
  return performance.timeOrigin + performance.now();
}
