/**
 * Zero allocation per frame in steady state: frames of each hot message through the adapters' frame handlers
 * (parse + sync checks + book update + BotState write). GC is forced before the measured loop; during it no
 * collection may run (v8.GCProfiler) and the heap may not grow beyond V8's constant bookkeeping. (The bench
 * suite bench/suites/md-parse.ts runs the same measurement over 1,000,000 frames; this test uses fewer to stay
 * within a few seconds; the delta does not scale with the frame count, see LATENCY.md section 9.)
 */
import { describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DRIVERS, measureAlloc } from '../../src/md/benchframes.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('allocation per frame', () => {
  it.each(DRIVERS.map((f) => [f().name, f] as const))('%s: no GC and no heap growth over 300,000 frames', (_name, make) => {
    const d = make();
    const r = measureAlloc(d, 300_000, gc);
    process.stdout.write(`${r.name}: ${r.frames} frames, heap delta ${r.heapDeltaBytes} B, GCs during: [${r.gcDuring.join(',')}]\n`);
    expect(d.errors()).toBe(0);
    expect(d.applied()).toBeGreaterThan(300_000);
    // a per-frame allocation would fill the young generation and trigger scavenges during the loop
    expect(r.gcDuring).toEqual([]);
    // one object per frame (>= 16 B) would be >= 4.8 MB; V8's constant bookkeeping (feedback, code) is ~10-200 KB
    // and does not grow with the frame count
    expect(r.heapDeltaBytes).toBeLessThan(1024 * 1024);
  });
});
