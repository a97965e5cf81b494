/**
 * Reading cost of what the latency monitor does each second and at each dump (src/util/histio.ts): a summary
 * and the `.hgrm` text of one histogram holding 100,000 values over 3 µs..9 ms, the library's way and one pass.
 * (Its own suite: building that histogram in latency-hist's setup changed the recording tasks' timings.)
 * Also what the live page adds: the percentile curve of one histogram at each roll (library getters as `hist plot`
 * reads it, and one pass), and latency.json of 20 series with a full 10-minute p50/p99 ring (what a viewer's
 * refresh costs the engine's loop each second).
 */
import type { Bench } from 'tinybench';
import { buildHistogram, Hop, HopRecorder, Transport } from '../../src/util/hops.js';
import { percentileCurveNs, percentileDistribution, summarize, summarizeSlow } from '../../src/util/histio.js';
import { LatencyMonitor, LIVE_CURVE_STEP } from '../../src/util/monitor.js';
import { percentileCurve } from '../../src/util/plot.js';
import { latencySnapshotJson } from '../../src/app/live.js';

export default async function register(bench: Bench): Promise<void> {
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
    })
    .add('percentile curve, library getters (1 histogram)', () => {
      percentileCurve(wide, LIVE_CURVE_STEP);
    })
    .add('percentile curve, one pass (1 histogram)', () => {
      percentileCurveNs(wide, LIVE_CURVE_STEP);
    });
  // 20 series (5 hops x 4 venues) with data in every one of 600 intervals
  const rec = new HopRecorder();
  const mon = new LatencyMonitor(rec, { rollMs: 1000, signal: null, historyMs: 600_000 });
  for (let roll = 0; roll < 600; roll++) {
    for (let i = 0; i < 200; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const v = Math.floor(Math.exp(8 + (seed / 2147483648) * 6));
      for (const hop of [Hop.Parse, Hop.Apply, Hop.Decide, Hop.Write, Hop.Ack])
        for (let venue = 0; venue < 4; venue++) rec.recordOn(hop, venue, Transport.Any, v);
    }
    await mon.roll();
  }
  const lastEnd = mon.snapshot().recentEndMs.at(-2);
  let bytes = 0;
  bench
    .add('latency.json, 20 series with a full 10-min p50/p99 ring (a page opens)', () => {
      bytes = latencySnapshotJson(mon).length;
    })
    .add('latency.json?since=, 20 series, one new interval (each refresh after)', () => {
      bytes = latencySnapshotJson(mon, lastEnd).length;
    });
  if (latencySnapshotJson(mon, lastEnd).length >= latencySnapshotJson(mon).length / 3) throw new Error('latency.json?since= is not incremental');
  void bytes;
}
