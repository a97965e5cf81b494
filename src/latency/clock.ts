/**
 * The hot path's clock: monotonic nanoseconds as a plain number (no BigInt allocation).
 *
 * performance.now() is the cheapest monotonic source measured here (~46 ns/call vs ~52-88 ns for
 * process.hrtime.bigint(), see ../shared/perf-notes.md); it returns ms since timeOrigin with sub-µs resolution,
 * so ms * 1e6 is exact to well under a nanosecond for any process lifetime we care about (< 2^53 ns = 104 days).
 */
import { performance } from 'node:perf_hooks';

export function nowNs(): number {
  return performance.now() * 1e6;
}

/** Wall-clock epoch ms of a monotonic ns reading (for comparing local receive time with exchange event time). */
export function wallMsOf(monoNs: number): number {
  return performance.timeOrigin + monoNs / 1e6;
}

/** Current wall time in epoch ms derived from the monotonic clock (immune to NTP steps within the process). */
export function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}
