/**
 * Clock candidates for the hot path (src/latency/clock.ts keeps the cheapest monotonic one).
 * Each task calls the clock 1000 times per iteration (`(x1000)` in the name: bench/run.ts divides by it), so the
 * figure is the per-call cost without tinybench's own timer overhead on top.
 */
import type { Bench } from 'tinybench';
import { performance } from 'node:perf_hooks';
import { nowNs } from '../../src/latency/clock.js';

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
