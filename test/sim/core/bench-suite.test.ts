import { describe, expect, it } from 'vitest';
import type { Bench } from 'tinybench';
import register from '../../../bench/suites/sim-generator.js';

describe('bench suite sim-generator', () => {
  it('registers two per-update tasks that run', () => {
    const tasks: Array<{ name: string; fn: () => unknown }> = [];
    const fake = { add: (name: string, fn: () => unknown) => (tasks.push({ name, fn }), fake) } as unknown as Bench;
    const out = process.stdout.write;
    const lines: string[] = [];
    process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
    try {
      register(fake);
    } finally {
      process.stdout.write = out;
    }
    expect(tasks.map((t) => t.name)).toEqual([
      'sim generator: level updates, no listener (x1000)',
      'sim generator: level updates + Binance diff encode (x1000)',
    ]);
    for (const t of tasks) t.fn();
    expect(lines.join('')).toMatch(/bare: \d+ level updates .* updates\/s/);
    expect(lines.join('')).toMatch(/with Binance diff encoder: \d+ level updates/);
  });
});
