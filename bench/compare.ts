/**
 * `npm run bench:compare`: compare bench/results/latest.json with the committed bench/results/baseline.json by
 * each task's ratio to the reference measured in the same run (the machine is noisy: absolute ns drift up to 2x
 * between runs, ratios much less). Exit 1 when a task is slower by more than the margin (default 25%,
 * --margin 0.25 or env BENCH_MARGIN). Also holds the results format shared with bench/run.ts.
 *
 * The JSON that `npm run bench` writes (bench/results/<timestamp>.json and latest.json) and `npm run bench:compare`
 * reads. Shared by bench/run.ts and bench/compare.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** repository root: this file runs as dist/bench/compare.js */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const RESULTS_FORMAT = 'tickwire-bench/1';

export interface TaskResult {
  /** task name as the suite registered it */
  name: string;
  /** 'ok' or 'error' (the task threw) */
  status: 'ok' | 'error';
  error?: string;
  /** operations per tinybench iteration: a name ending in `(xN)` means the task loops N times */
  opsPerIteration: number;
  /** median ns per operation (timer overhead subtracted by tinybench) */
  nsPerOp: number;
  meanNsPerOp: number;
  p99NsPerOp: number;
  /** relative margin of error of the mean, percent */
  rme: number;
  samples: number;
  /** nsPerOp / the suite's reference ns (see `refNs`): what compare.ts compares */
  ratio: number;
}

export interface SuiteResult {
  /** compiled file name, e.g. md-parse.js */
  file: string;
  status: 'ok' | 'error';
  error?: string;
  /**
   * Reference cost measured in the same Bench right before the suite's own tasks: the geometric mean of the
   * medians of `ref: JSON.parse depth diff` and `ref: HMAC-SHA256 200 B`, ns per op.
   */
  refNs: number;
  refTasks: TaskResult[];
  tasks: TaskResult[];
  durationMs: number;
}

export interface BenchResults {
  format: typeof RESULTS_FORMAT;
  startedAt: string;
  durationMs: number;
  node: string;
  cpus: number;
  cpuModel: string;
  /** per-task time budget, ms */
  timeMs: number;
  suites: SuiteResult[];
}

/** `(x1000)` at the end of a task name: ops per iteration. */
export function opsPerIterationOf(name: string): number {
  const m = /\(x(\d+)\)\s*$/.exec(name);
  const n = m ? Number(m[1]) : 1;
  return n > 0 ? n : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison: latest against the committed baseline, by ratio to the same run's reference.

export interface CompareRow {
  /** suite file / task name */
  key: string;
  baseRatio: number;
  latestRatio: number;
  /** latestRatio / baseRatio - 1 (0.30 = 30% slower relative to the reference) */
  change: number;
  status: 'ok' | 'regression' | 'improved' | 'new' | 'missing' | 'error';
  note?: string;
}

export interface Comparison {
  margin: number;
  rows: CompareRow[];
  regressions: CompareRow[];
}

function taskMap(r: BenchResults): Map<string, { suite: SuiteResult; task: TaskResult }> {
  const m = new Map<string, { suite: SuiteResult; task: TaskResult }>();
  for (const suite of r.suites) for (const task of suite.tasks) m.set(`${suite.file} / ${task.name}`, { suite, task });
  return m;
}

/**
 * Compare two result files task by task. A task regresses when its ratio to the reference grew by more than
 * `margin` (0.25 = 25%); improves when it shrank by more than `margin`. Tasks only in one file are reported but
 * never fail the comparison; a task or suite that errored in `latest` but not in `base` counts as a regression.
 */
export function compareResults(base: BenchResults, latest: BenchResults, margin = 0.25): Comparison {
  const b = taskMap(base);
  const l = taskMap(latest);
  const rows: CompareRow[] = [];
  for (const [key, { task: lt, suite: ls }] of l) {
    const be = b.get(key);
    if (!be) {
      rows.push({ key, baseRatio: 0, latestRatio: lt.ratio, change: 0, status: 'new' });
      continue;
    }
    const bt = be.task;
    if (lt.status !== 'ok' || ls.refNs <= 0) {
      rows.push({ key, baseRatio: bt.ratio, latestRatio: 0, change: 0, status: bt.status === 'ok' ? 'regression' : 'error', note: lt.error ?? 'no reference' });
      continue;
    }
    if (bt.status !== 'ok' || bt.ratio <= 0) {
      rows.push({ key, baseRatio: 0, latestRatio: lt.ratio, change: 0, status: 'new', note: 'errored in baseline' });
      continue;
    }
    const change = lt.ratio / bt.ratio - 1;
    const status = change > margin ? 'regression' : change < -margin ? 'improved' : 'ok';
    rows.push({ key, baseRatio: bt.ratio, latestRatio: lt.ratio, change, status });
  }
  for (const [key, { task }] of b) if (!l.has(key)) rows.push({ key, baseRatio: task.ratio, latestRatio: 0, change: 0, status: 'missing' });
  // whole suites that failed in latest but ran in base
  for (const s of latest.suites) {
    if (s.status === 'error' && base.suites.some((x) => x.file === s.file && x.status === 'ok')) {
      rows.push({ key: `${s.file} / (suite)`, baseRatio: 0, latestRatio: 0, change: 0, status: 'regression', note: s.error ?? 'suite failed' });
    }
  }
  return { margin, rows, regressions: rows.filter((r) => r.status === 'regression') };
}

export function formatComparison(c: Comparison): string {
  const w = Math.max(20, ...c.rows.map((r) => r.key.length));
  const lines = [`${'task'.padEnd(w)}  ${'base'.padStart(9)}  ${'latest'.padStart(9)}  ${'change'.padStart(8)}  status`];
  for (const r of c.rows) {
    const ch = r.baseRatio > 0 && r.latestRatio > 0 ? `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%` : '';
    lines.push(
      `${r.key.padEnd(w)}  ${r.baseRatio.toFixed(4).padStart(9)}  ${r.latestRatio.toFixed(4).padStart(9)}  ${ch.padStart(8)}  ${r.status}${r.note ? ` (${r.note})` : ''}`,
    );
  }
  lines.push(
    c.regressions.length
      ? `\nFAIL: ${c.regressions.length} task(s) slower than baseline by more than ${(c.margin * 100).toFixed(0)}% (ratio to the same run's reference)`
      : `\nOK: no task slower than baseline by more than ${(c.margin * 100).toFixed(0)}% (ratio to the same run's reference)`,
  );
  return lines.join('\n') + '\n';
}

export function readResults(file: string): BenchResults {
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  if (r.format !== RESULTS_FORMAT) throw new Error(`${file}: not a ${RESULTS_FORMAT} results file`);
  return r;
}

export async function main(argv: string[]): Promise<number> {
  const val = (n: string): string | undefined => {
    const i = argv.indexOf(n);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help')) {
    process.stdout.write('usage: npm run bench:compare [-- --baseline FILE] [--latest FILE] [--margin 0.25]\n');
    return 0;
  }
  const dir = join(ROOT, 'bench', 'results');
  const baseFile = resolve(val('--baseline') ?? join(dir, 'baseline.json'));
  const latestFile = resolve(val('--latest') ?? join(dir, 'latest.json'));
  const margin = Number(val('--margin') ?? process.env['BENCH_MARGIN'] ?? 0.25);
  if (!existsSync(latestFile)) {
    process.stderr.write(`bench:compare: ${latestFile} is missing: run npm run bench first\n`);
    return 2;
  }
  if (!existsSync(baseFile)) {
    process.stderr.write(`bench:compare: ${baseFile} is missing: make one with cp ${latestFile} ${baseFile}\n`);
    return 2;
  }
  const c = compareResults(readResults(baseFile), readResults(latestFile), margin);
  process.stdout.write(formatComparison(c));
  return c.regressions.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench:compare: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
