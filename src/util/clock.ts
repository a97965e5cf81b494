/**
 * The hot path's clock: monotonic nanoseconds as a plain number (no BigInt allocation).
 *
 * Measured on this machine (`npm run bench`, suite bench/suites/latency-clock.ts; the figures are in LATENCY.md,
 * "Clock and recording cost"):
 * `performance.now()` is the cheapest monotonic source (~40-45 ns/call), ahead of `Date.now()` (~60 ns, wall,
 * ms resolution, not monotonic), `process.hrtime()` (~85 ns, allocates an array) and `process.hrtime.bigint()`
 * (~115 ns, allocates a BigInt). It returns ms since `performance.timeOrigin` with sub-µs resolution (the smallest
 * step seen here is ~28 ns), so ms * 1e6 is exact to well under a nanosecond for any process lifetime we care
 * about (doubles hold integers exactly up to 2^53 ns = 104 days).
 *
 * Wall mapping: `performance.timeOrigin` is fixed at process start, while the system's wall clock is slewed by
 * NTP; over hours the two drift apart by milliseconds. `calibrateWall()` re-measures the offset (off the hot path:
 * it may spin for up to ~1 ms to catch a `Date.now()` millisecond edge); `wallMsOf()` uses the latest offset.
 */
import { performance } from 'node:perf_hooks';

/** Monotonic nanoseconds since process start (the time origin). Cheap, allocation-free. */
export function nowNs(): number {
  return performance.now() * 1e6;
}

/** wall epoch ms = wallOffsetMs + monotonic ms; starts as the time origin, refined by calibrateWall(). */
let wallOffsetMs = performance.timeOrigin;
/** uncertainty of wallOffsetMs, ms (how the offset was measured) */
let wallOffsetErrMs = 1;

/** Wall-clock epoch ms of a monotonic ns reading (for comparing local receive time with exchange event time). */
export function wallMsOf(monoNs: number): number {
  return wallOffsetMs + monoNs / 1e6;
}

/** Monotonic ns of a wall-clock epoch ms (e.g. an exchange event time), under the current offset. */
export function monoNsOfWall(wallMs: number): number {
  return (wallMs - wallOffsetMs) * 1e6;
}

/** Current wall time in epoch ms derived from the monotonic clock (immune to NTP steps between calibrations). */
export function wallNowMs(): number {
  return wallOffsetMs + performance.now();
}

export interface WallCalibration {
  /** new offset (epoch ms at monotonic 0) */
  offsetMs: number;
  /** how much the offset moved since the previous calibration, ms (the drift of the mapping) */
  movedMs: number;
  /** uncertainty of the measurement, ms */
  errMs: number;
}

/**
 * Re-measure the monotonic -> wall offset against `Date.now()` by catching a millisecond edge: spin until
 * `Date.now()` changes, then the wall time at that instant is exactly the new integer ms (to within the clock
 * read cost). Spins at most `budgetMs` (default 2 ms): call at start-up and from a slow timer, never per frame.
 * If no edge is seen within the budget, falls back to the midpoint estimate (±0.5 ms).
 */
export function calibrateWall(budgetMs = 2): WallCalibration {
  const prev = wallOffsetMs;
  const start = performance.now();
  const d0 = Date.now();
  let best = Number.NaN;
  let err = 0.5;
  for (;;) {
    const before = performance.now();
    const d = Date.now();
    const after = performance.now();
    if (d !== d0) {
      // the edge happened between the previous iteration's read and this one; `before`/`after` bound this read
      best = d - (before + after) / 2;
      err = Math.max((after - before) / 2, 0.001);
      break;
    }
    if (after - start > budgetMs) break;
  }
  if (Number.isNaN(best)) best = d0 + 0.5 - (start + performance.now()) / 2;
  wallOffsetMs = best;
  wallOffsetErrMs = err;
  return { offsetMs: best, movedMs: best - prev, errMs: err };
}

/** Current offset and its uncertainty (for status pages). */
export function wallOffset(): { offsetMs: number; errMs: number; sinceOriginMs: number } {
  return { offsetMs: wallOffsetMs, errMs: wallOffsetErrMs, sinceOriginMs: wallOffsetMs - performance.timeOrigin };
}
