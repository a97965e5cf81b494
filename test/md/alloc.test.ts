/**
 * Zero allocation per frame in steady state: frames of each hot message through the adapters' frame handlers
 * (parse + sync checks + book update + BotState write). After a warm-up, no collection may run during the measured
 * loops and the heap's growth may not scale with the frame count (50,000 vs 200,000 frames: test/helpers/alloc.ts).
 * The bench suite bench/suites/md-alloc.ts prints the same measurement over 1,000,000 frames (LATENCY.md,
 * "GC and allocation").
 */
import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../bench/benchframes.js';
import { expectNoAllocation } from '../helpers/alloc.js';

describe('allocation per frame', () => {
  it.each(DRIVERS.map((f) => [f().name, f] as const))('%s: no GC, and heap growth does not scale with the frame count', (name, make) => {
    const d = make();
    for (let i = 0; i < 200_000; i++) d.step();
    const applied0 = d.applied();
    let frames = 0;
    expectNoAllocation(
      name,
      (n) => {
        for (let i = 0; i < n; i++) d.step();
        frames += n;
      },
      50_000,
    );
    expect(d.errors()).toBe(0);
    // every frame was applied to the book (none skipped as a duplicate or rejected)
    expect(d.applied() - applied0).toBeGreaterThanOrEqual(frames);
  });
});
