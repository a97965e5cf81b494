/**
 * Reading cost of what the latency monitor does each second and at each dump (src/util/histio.ts): a summary
 * and the `.hgrm` text of one histogram holding 100,000 values over 3 µs..9 ms, the library's way and one pass.
 * (Its own suite: building that histogram in latency-hist's setup changed the recording tasks' timings.)
 */
import type { Bench } from 'tinybench';
import { buildHistogram } from '../../src/util/hops.js';
import { percentileDistribution, summarize, summarizeSlow } from '../../src/util/histio.js';

export default function register(bench: Bench): void {
  const wide = buildHistogram(undefined, 64);
  let seed = 1;
  for (let i = 0; i < 100_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    wide.recordValue(Math.floor(Math.exp(8 + (seed / 2147483648) * 8)));
  }
  bench
    .add('summary, library getters (1 histogram)', () => {
      summarizeSlow(wide);
    })
    .add('summary, one pass (1 histogram)', () => {
      summarize(wide);
    })
    .add('.hgrm text, library outputPercentileDistribution (1 histogram)', () => {
      wide.outputPercentileDistribution(5, 1000);
    })
    .add('.hgrm text, one pass (1 histogram)', () => {
      percentileDistribution(wide, 5, 1000);
    });
}
