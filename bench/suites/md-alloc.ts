/**
 * Allocation proof for the market-data hot path (issue 3: zero bytes per frame in steady state): for each hot
 * frame type, 1,000,000 frames through the adapter's frame handler after a forced GC; prints the heap delta
 * (no GC in between) and the collections that ran during the loop. Needs `node --expose-gc` (npm run bench
 * has it); without it the measurement is skipped. Registers one timing task per driver (the same step as
 * md-parse) so the runner has something to time.
 * Run: npm run bench -- --filter md-alloc
 */
import type { Bench } from 'tinybench';
import { DRIVERS, measureAlloc } from '../benchframes.js';

export default function register(bench: Bench): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const make of DRIVERS) {
    const d = make();
    if (gc) {
      const r = measureAlloc(d, 1_000_000, gc);
      process.stdout.write(
        `md-alloc: ${r.name}: ${r.frames} frames, heap delta ${r.heapDeltaBytes} B (${r.bytesPerFrame.toFixed(4)} B/frame), ` +
          `GCs during the loop: ${r.gcDuring.length === 0 ? 'none' : r.gcDuring.join(',')}, errors ${d.errors()}\n`,
      );
    } else {
      process.stdout.write('md-alloc: skipped (run with node --expose-gc)\n');
    }
    bench.add(`md alloc: ${d.name} step`, () => d.step());
  }
}
