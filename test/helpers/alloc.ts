/**
 * Allocation tests that do not depend on machine load or on V8's constant bookkeeping: a hot function allocates
 * nothing per call when, over a synchronous loop of N calls and of 4N calls,
 *  - no garbage collection runs (v8.GCProfiler, after a forced full GC: a per-call allocation of even one small
 *    object fills the young generation within these loops and starts a scavenge), and
 *  - the heap's growth does not scale with the number of calls: growth(4N) - growth(N) stays under one byte per
 *    extra call (the smallest heap object takes 8 bytes or more), so a constant cost (feedback, code, the
 *    measurement itself) of any size passes and a per-call allocation of any size fails.
 * No absolute byte count: the figures are logged, the verdict is the slope and the GC count.
 * Each size is measured in `trials` interleaved runs; the least growth of each size is compared (a one-off cost
 * lands in one run, a per-call allocation in every run). Nothing else runs during a synchronous loop, so the
 * result depends neither on the machine's load nor on the test runner's timers.
 *
 * Code that does allocate today (a cost a test documents so that a later change can only lower it) is checked by
 * `expectAllocationAtMost`: bytes allocated per call, the same N / 4N slope, counted so that collections during the
 * loop do not hide anything (heap growth plus what each collection freed, from the GC profiler's before/after heap
 * statistics). That one bound is absolute by design; the figures are logged beside it.
 */
import { expect } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
/** `global.gc` when node runs with --expose-gc, else the same function taken from a fresh context */
const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (vm.runInNewContext('gc') as () => void);

export interface AllocTrial {
  calls: number;
  /** heapUsed after - before, bytes */
  heapBytes: number;
  /** collections during the loop */
  gcs: number;
  /** bytes allocated during the loop: heapBytes plus what the collections during it freed */
  allocatedBytes: number;
  /** kinds of those collections (Scavenge, MarkSweepCompact...) */
  gcTypes: string[];
}

export interface AllocReport {
  n: number;
  trials: AllocTrial[];
  /** least growth at N and at 4N calls, bytes */
  minAtN: number;
  minAt4N: number;
  /** (minAt4N - minAtN) / 3N: bytes per extra call */
  bytesPerCall: number;
  /** the same slope of allocatedBytes (least of each size): bytes allocated per extra call, whatever the GC did */
  allocatedPerCall: number;
  gcs: number;
}

/** One measured loop: two full GCs, then `run(calls)` synchronously under a GC profiler. */
export function measureLoop(run: (calls: number) => void, calls: number): AllocTrial {
  gc();
  gc();
  const prof = new v8.GCProfiler();
  prof.start();
  const h0 = process.memoryUsage().heapUsed;
  run(calls);
  const h1 = process.memoryUsage().heapUsed;
  const stats = prof.stop();
  let freed = 0;
  for (const g of stats.statistics) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
  return { calls, heapBytes: h1 - h0, gcs: stats.statistics.length, allocatedBytes: h1 - h0 + freed, gcTypes: stats.statistics.map((g) => g.gcType) };
}

/**
 * `run(n)` and `run(4n)`, `trials` times each, interleaved (see the header). First `run` itself is warmed up with
 * 20 short calls (n in all), so that V8 optimises it as a whole rather than entering it by on-stack replacement.
 */
export function allocReport(run: (calls: number) => void, n: number, trials = 3): AllocReport {
  const step = Math.max(1, Math.floor(n / 20));
  for (let k = 0; k < 20; k++) run(step);
  const out: AllocTrial[] = [];
  for (let t = 0; t < trials; t++) {
    out.push(measureLoop(run, n));
    out.push(measureLoop(run, 4 * n));
  }
  const minOf = (calls: number, f: (t: AllocTrial) => number): number => Math.min(...out.filter((x) => x.calls === calls).map(f));
  const minAtN = minOf(n, (t) => t.heapBytes);
  const minAt4N = minOf(4 * n, (t) => t.heapBytes);
  const allocatedPerCall = (minOf(4 * n, (t) => t.allocatedBytes) - minOf(n, (t) => t.allocatedBytes)) / (3 * n);
  return { n, trials: out, minAtN, minAt4N, bytesPerCall: (minAt4N - minAtN) / (3 * n), allocatedPerCall, gcs: out.reduce((s, x) => s + x.gcs, 0) };
}

/**
 * Asserts that `run(calls)` allocates nothing per call (see the header); returns the report. Warm the code under
 * test up beforehand (as the hot path would be), and give `run` an effect the caller checks afterwards (a loop
 * whose result nobody reads can be optimised away).
 */
export function expectNoAllocation(label: string, run: (calls: number) => void, n: number, trials = 3): AllocReport {
  const r = allocReport(run, n, trials);
  process.stdout.write(
    `${label}: heap growth at ${n} / ${4 * n} calls: ${r.minAtN} / ${r.minAt4N} B (${r.bytesPerCall.toFixed(3)} B per extra call), ` +
      `GCs ${r.gcs}; trials ${r.trials.map((x) => `${x.calls}:${x.heapBytes}B/${x.gcs}gc`).join(' ')}\n`,
  );
  expect(r.gcs, `${label}: garbage collections during the measured loops`).toBe(0);
  expect(r.bytesPerCall, `${label}: heap growth per extra call (N=${n} vs 4N)`).toBeLessThan(1);
  return r;
}

/**
 * Asserts that `run(calls)` allocates at most `maxBytesPerCall` bytes per call (see the header): for a path that
 * allocates today, whose cost the caller states as a constant. Counts every byte allocated, also when collections
 * run during the loops (they will, for a path that allocates); constant costs do not count (N / 4N slope, least of
 * `trials` interleaved runs). Same duties for the caller as `expectNoAllocation`: warm up, and check `run`'s effect.
 */
export function expectAllocationAtMost(label: string, run: (calls: number) => void, n: number, maxBytesPerCall: number, trials = 3): AllocReport {
  const r = allocReport(run, n, trials);
  const kinds = [...new Set(r.trials.flatMap((x) => x.gcTypes))].join(',') || 'none';
  process.stdout.write(
    `${label}: allocated at ${n} / ${4 * n} calls (least of ${trials}): ${r.allocatedPerCall.toFixed(1)} B per extra call (bound ${maxBytesPerCall}), ` +
      `GCs ${r.gcs} (${kinds}); trials ${r.trials.map((x) => `${x.calls}:${x.allocatedBytes}B/${x.gcs}gc`).join(' ')}\n`,
  );
  expect(r.allocatedPerCall, `${label}: bytes allocated per extra call (N=${n} vs 4N)`).toBeLessThanOrEqual(maxBytesPerCall);
  return r;
}
