/**
 * Hop histogram recording cost (src/util/hops.ts), per record: `(x1000)` tasks record 1000 values per iteration.
 */
import type { Bench } from 'tinybench';
import { HopRecorder, Hop, Transport, buildHistogram } from '../../src/util/hops.js';
import { nowNs } from '../../src/util/clock.js';

const N = 1000;
const values = new Float64Array(4096);
for (let i = 0; i < values.length; i++) values[i] = 800 + ((i * 7919) % 4096) * 37.5 + (i % 97 === 0 ? 2_000_000 : 0);

export default function register(bench: Bench): void {
  const rec = new HopRecorder();
  rec.prepare(Hop.Ack, 0, Transport.Ws);
  const plain = buildHistogram();
  bench
    .add('hdr-histogram-js recordValue (x1000)', () => {
      for (let i = 0; i < N; i++) plain.recordValue(values[i & 4095]!);
    })
    .add('HopRecorder.record (x1000)', () => {
      for (let i = 0; i < N; i++) rec.record(Hop.Parse, i & 3, values[i & 4095]!);
    })
    .add('HopRecorder.recordOn ws (x1000)', () => {
      for (let i = 0; i < N; i++) rec.recordOn(Hop.Ack, 0, Transport.Ws, values[i & 4095]!);
    })
    .add('nowNs()+record (x1000)', () => {
      for (let i = 0; i < N; i++) {
        const t0 = nowNs();
        rec.record(Hop.Decide, 1, nowNs() - t0);
      }
    })
    .add('swapInterval+recycle (x1)', () => {
      rec.recycle(rec.swapInterval());
    });
}
