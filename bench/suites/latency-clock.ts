/**
 * Clock candidates for the hot path (src/util/clock.ts keeps the cheapest monotonic one).
 * Each task calls the clock 1000 times per iteration (`(x1000)` in the name: bench/run.ts divides by it), so the
 * figure is the per-call cost without tinybench's own timer overhead on top.
 */
import type { Bench } from 'tinybench';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { nowNs } from '../../src/util/clock.js';

const N = 1000;
let sink = 0;

export default function register(bench: Bench): void {
  bench
    .add('performance.now() (x1000)', () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += performance.now();
      sink += s;
    })
    .add('nowNs() (x1000)', () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += nowNs();
      sink += s;
    })
    .add('process.hrtime.bigint() (x1000)', () => {
      let s = 0n;
      for (let i = 0; i < N; i++) s ^= process.hrtime.bigint();
      sink += Number(s & 1n);
    })
    .add('process.hrtime() (x1000)', () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += process.hrtime()[1];
      sink += s;
    })
    .add('Date.now() (x1000)', () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += Date.now();
      sink += s;
    });
}

export function clockSink(): number {
  return sink;
}

/**
 * Bytes allocated per clock read, in an optimised loop: new-space growth over 10,000 reads, 5 repeats.
 * Run: `npm run build && node --expose-gc dist/bench/suites/latency-clock.js`
 */
export function clockAllocBytesPerCall(): Record<string, number[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;
  const loops: Record<string, (n: number) => number> = {
    'performance.now()': (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += performance.now();
      return s;
    },
    'process.hrtime()': (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += process.hrtime()[1];
      return s;
    },
    'process.hrtime.bigint()': (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Number(process.hrtime.bigint() & 0xffffn);
      return s;
    },
    'Date.now()': (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Date.now();
      return s;
    },
    'baseline (no clock)': (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += i * 0.5;
      return s;
    },
  };
  const out: Record<string, number[]> = {};
  for (const [name, f] of Object.entries(loops)) {
    for (let k = 0; k < 20; k++) sink += f(100_000);
    const res: number[] = [];
    for (let k = 0; k < 5; k++) {
      gc();
      const b = newSpace();
      sink += f(10_000);
      res.push(Math.round(((newSpace() - b) / 10_000) * 10) / 10);
    }
    out[name] = res;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [name, v] of Object.entries(clockAllocBytesPerCall())) process.stdout.write(`${name.padEnd(26)} bytes/call ${v.join(' ')}\n`);
}
