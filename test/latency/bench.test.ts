import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareResults,
  formatComparison,
  opsPerIterationOf,
  RESULTS_FORMAT,
  type BenchResults,
  type SuiteResult,
  type TaskResult,
} from '../../bench/compare.js';
import { runSuites } from '../../bench/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'tw-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function task(name: string, ratio: number, status: 'ok' | 'error' = 'ok'): TaskResult {
  return {
    name,
    status,
    opsPerIteration: 1,
    nsPerOp: ratio * 1000,
    meanNsPerOp: ratio * 1000,
    p99NsPerOp: ratio * 2000,
    rme: 1,
    samples: 100,
    ratio: status === 'ok' ? ratio : 0,
  };
}
function results(suites: [string, TaskResult[], ('ok' | 'error')?][]): BenchResults {
  return {
    format: RESULTS_FORMAT,
    startedAt: '2026-11-22T00:00:00.000Z',
    durationMs: 1,
    node: 'v20',
    cpus: 2,
    cpuModel: 'x',
    timeMs: 400,
    suites: suites.map(([file, tasks, status]): SuiteResult => ({ file, status: status ?? 'ok', refNs: 1000, refTasks: [], tasks, durationMs: 1 })),
  };
}

describe('bench compare', () => {
  const base = results([
    ['md-parse.js', [task('JSON.parse', 1.0), task('hand parser', 0.3)]],
    ['latency-clock.js', [task('performance.now() (x1000)', 0.02)]],
  ]);

  it('passes when every ratio is within the margin', () => {
    const latest = results([
      ['md-parse.js', [task('JSON.parse', 1.2), task('hand parser', 0.25)]],
      ['latency-clock.js', [task('performance.now() (x1000)', 0.024)]],
    ]);
    const c = compareResults(base, latest, 0.25);
    expect(c.regressions).toHaveLength(0);
    expect(c.rows.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(formatComparison(c)).toMatch(/^OK: no task slower/m);
  });

  it('detects a task slower than the margin, relative to the same run reference', () => {
    const latest = results([
      ['md-parse.js', [task('JSON.parse', 1.0), task('hand parser', 0.39)]],
      ['latency-clock.js', [task('performance.now() (x1000)', 0.02)]],
    ]);
    const c = compareResults(base, latest, 0.25);
    expect(c.regressions.map((r) => r.key)).toEqual(['md-parse.js / hand parser']);
    expect(c.regressions[0]!.change).toBeCloseTo(0.3, 5);
    expect(formatComparison(c)).toMatch(/^FAIL: 1 task\(s\) slower than baseline by more than 25%/m);
    // a wider margin accepts it; an improvement is reported as such
    expect(compareResults(base, latest, 0.35).regressions).toHaveLength(0);
    const faster = results([['md-parse.js', [task('JSON.parse', 0.5), task('hand parser', 0.3)]]]);
    const c2 = compareResults(base, faster, 0.25);
    expect(c2.rows.find((r) => r.key === 'md-parse.js / JSON.parse')!.status).toBe('improved');
    expect(c2.rows.find((r) => r.key === 'latency-clock.js / performance.now() (x1000)')!.status).toBe('missing');
    expect(c2.regressions).toHaveLength(0);
  });

  it('counts a task or suite that errors in latest as a regression; new tasks never fail', () => {
    const latest = results([
      ['md-parse.js', [task('JSON.parse', 1.0), task('hand parser', 0, 'error'), task('new thing', 5)]],
      ['latency-clock.js', [], 'error'],
    ]);
    const c = compareResults(base, latest, 0.25);
    expect(c.regressions.map((r) => r.key).sort()).toEqual(['latency-clock.js / (suite)', 'md-parse.js / hand parser']);
    expect(c.rows.find((r) => r.key === 'md-parse.js / new thing')!.status).toBe('new');
  });

  it('reads ops per iteration from the task name', () => {
    expect(opsPerIterationOf('performance.now() (x1000)')).toBe(1000);
    expect(opsPerIterationOf('JSON.parse')).toBe(1);
  });
});

describe('bench runner', () => {
  it('runs suites in name order, survives a suite that throws, reports per-op figures and ratios', async () => {
    const dir = join(tmp, 'suites');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'b-good.js'),
      `export default function register(bench) {
      let s = 0;
      bench.add('loop (x100)', () => { for (let i = 0; i < 100; i++) s += i; });
      bench.add('throws', () => { throw new Error('boom'); });
    }\n`,
    );
    writeFileSync(join(dir, 'a-broken.js'), `export default function register() { throw new Error('suite cannot start'); }\n`);
    writeFileSync(join(dir, 'c-nodefault.js'), `export const x = 1;\n`);
    writeFileSync(join(dir, 'b-good.js.map'), '{}');
    const lines: string[] = [];
    const r = await runSuites({ suitesDir: dir, timeMs: 20, log: (l) => lines.push(l) });
    expect(r.format).toBe(RESULTS_FORMAT);
    expect(r.suites.map((s) => s.file)).toEqual(['a-broken.js', 'b-good.js', 'c-nodefault.js']);
    expect(r.suites[0]!.status).toBe('error');
    expect(r.suites[0]!.error).toMatch(/suite cannot start/);
    expect(r.suites[2]!.status).toBe('error');
    const good = r.suites[1]!;
    expect(good.status).toBe('ok');
    expect(good.refNs).toBeGreaterThan(0);
    expect(good.refTasks.map((t) => t.name)).toEqual(['ref: JSON.parse depth diff', 'ref: HMAC-SHA256 200 B']);
    const loop = good.tasks.find((t) => t.name === 'loop (x100)')!;
    expect(loop.status).toBe('ok');
    expect(loop.opsPerIteration).toBe(100);
    expect(loop.ratio).toBeCloseTo(loop.nsPerOp / good.refNs, 10);
    const thrown = good.tasks.find((t) => t.name === 'throws')!;
    expect(thrown.status).toBe('error');
    expect(thrown.error).toMatch(/boom/);
    expect(lines.join('\n')).toMatch(/SUITE ERROR: register failed/);
  });
});
