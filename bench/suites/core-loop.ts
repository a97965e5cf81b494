/**
 * The hot loop's real period and lateness, timer mode vs precise mode (10 ms, 1,000 ticks each, ~20 s in all),
 * with the CPU each costs (process CPU time / wall time over the run). Prints the figures; registers a trivial
 * task so the runner has something to time. Not a test threshold: the figures are for LATENCY.md.
 * Run: npm run bench -- --filter core-loop
 */
import type { Bench } from 'tinybench';
import * as hdr from 'hdr-histogram-js';
import { HotLoop } from '../../src/engine/loop.js';
import { nowNs } from '../../src/util/clock.js';

const TICKS = Number(process.env['LOOP_BENCH_TICKS'] ?? 1000);
/** precise mode's spin window before each deadline (µs); the engine's default is 3,000 */
const SPIN_US = Number(process.env['LOOP_BENCH_SPIN_US'] ?? 3000);

async function measure(mode: 'timer' | 'precise'): Promise<string> {
  const late = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e10, numberOfSignificantValueDigits: 3 });
  const period = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e10, numberOfSignificantValueDigits: 3 });
  let last = 0;
  let n = 0;
  let loop!: HotLoop;
  const done = new Promise<void>((resolve) => {
    loop = new HotLoop(
      {
        onTick: (now) => {
          if (n > 0) period.recordValue(Math.max(1, Math.round(now - last)));
          late.recordValue(Math.max(1, Math.round(now - loop.deadline(n + loop.skipped))));
          last = now;
          if (++n >= TICKS) resolve();
        },
        onBook: () => {},
      },
      { mode, periodMs: 10, spinUs: SPIN_US },
    );
  });
  const cpu0 = process.cpuUsage();
  const t0 = nowNs();
  loop.start();
  await done;
  loop.stop();
  const wallNs = nowNs() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuPct = ((cpu.user + cpu.system) * 1000 * 100) / wallNs;
  // absolute schedule: the last tick is as late as any other, not the sum of every tick's lateness
  const drift = (last - loop.deadline(TICKS - 1 + loop.skipped)) / 1e6;
  const us = (v: number) => (v / 1000).toFixed(1);
  return (
    `core-loop ${mode}: ${TICKS} ticks, skipped ${loop.skipped}, lateness p50 ${us(late.getValueAtPercentile(50))} µs p99 ${us(late.getValueAtPercentile(99))} µs max ${us(late.maxValue)} µs; ` +
    `period p50 ${us(period.getValueAtPercentile(50))} µs p99 ${us(period.getValueAtPercentile(99))} µs max ${us(period.maxValue)} µs; ` +
    `last tick vs its deadline ${drift.toFixed(3)} ms (no drift); CPU ${cpuPct.toFixed(1)}% of one core\n`
  );
}

export default async function register(bench: Bench): Promise<void> {
  for (const mode of ['timer', 'precise'] as const) process.stdout.write(await measure(mode));
  bench.add('loop: deadline arithmetic', () => {
    let s = 0;
    for (let i = 0; i < 100; i++) s += i * 10e6;
    return s;
  });
}
