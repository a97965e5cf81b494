/**
 * Parser floor comparison for LATENCY.md: the same ~1.1 KB Binance depth diff (20+20 levels) that
 * native-bench/jsonscan.c scans in C, through JSON.parse and the npm simdjson binding (optional dependency:
 * tasks are skipped when it does not load). The engine's own byte scanner is measured by bench/suites/md-*.ts.
 */
import type { Bench } from 'tinybench';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const DEPTH_DIFF_20 = JSON.stringify({
  e: 'depthUpdate',
  E: 1763776800123,
  s: 'BTCUSDT',
  U: 71234567001,
  u: 71234567042,
  b: Array.from({ length: 20 }, (_, i) => [(97000.1 - i * 0.1).toFixed(2), (0.01 + i * 0.137).toFixed(8)]),
  a: Array.from({ length: 20 }, (_, i) => [(97000.2 + i * 0.1).toFixed(2), (0.02 + i * 0.091).toFixed(8)]),
});

interface Diff {
  u: number;
  b: [string, string][];
  a: [string, string][];
}

let sink = 0;

export default function register(bench: Bench): void {
  const bytes = Buffer.from(DEPTH_DIFF_20);
  bench
    .add('JSON.parse depth diff 20+20', () => {
      const d = JSON.parse(DEPTH_DIFF_20) as Diff;
      sink += d.b.length + d.a.length;
    })
    .add('JSON.parse + scale levels to ints', () => {
      const d = JSON.parse(DEPTH_DIFF_20) as Diff;
      let s = 0;
      for (const [p, q] of d.b) s += Math.round(Number(p) * 100) + Math.round(Number(q) * 1e8);
      for (const [p, q] of d.a) s += Math.round(Number(p) * 100) + Math.round(Number(q) * 1e8);
      sink += s;
    })
    .add('Buffer.toString + JSON.parse (bytes in)', () => {
      const d = JSON.parse(bytes.toString('latin1')) as Diff;
      sink += d.u;
    });
  let simd: { parse(s: string): unknown; lazyParse(s: string): { valueForKeyPath(p: string): unknown } } | undefined;
  try {
    simd = require('simdjson') as typeof simd;
  } catch {
    simd = undefined;
  }
  if (simd) {
    const s = simd;
    bench
      .add('simdjson.parse depth diff 20+20', () => {
        const d = s.parse(DEPTH_DIFF_20) as Diff;
        sink += d.b.length;
      })
      .add('simdjson.lazyParse + valueForKeyPath(u)', () => {
        const d = s.lazyParse(DEPTH_DIFF_20);
        sink += Number(d.valueForKeyPath('u'));
      });
  }
}

export function jsonSink(): number {
  return sink;
}
