/**
 * `npm run bench`: run every compiled suite in dist/bench/suites/ (sorted by file name, so the order is fixed),
 * each in its own tinybench Bench preceded by two reference tasks, and write bench/results/<timestamp>.json and
 * bench/results/latest.json. A suite that fails to load or register is reported and skipped; a task that throws
 * is reported as an error. Options:
 *   --filter REGEX   only suites whose file name matches
 *   --time MS        time budget per task (default 400, env BENCH_TIME_MS)
 *   --out DIR        results folder (default bench/results)
 *   --no-write       print only
 * Suites: `export default function register(bench: Bench): void | Promise<void>`; a task whose name ends in
 * `(xN)` loops N times per call and is reported per operation.
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { RESULTS_FORMAT, opsPerIterationOf, type BenchResults, type SuiteResult, type TaskResult } from './compare.js';

const here = dirname(fileURLToPath(import.meta.url));
/** repository root: this file runs as dist/bench/run.js */
const ROOT = resolve(here, '..', '..');

/** Fixed reference inputs: a ~1 KB Binance depth diff and a 200-byte signed query. */
export const REF_DEPTH_DIFF = JSON.stringify({
  e: 'depthUpdate',
  E: 1763776800123,
  s: 'BTCUSDT',
  U: 71234567001,
  u: 71234567042,
  b: Array.from({ length: 10 }, (_, i) => [(97000.1 - i * 0.1).toFixed(2), (0.01 + i * 0.137).toFixed(8)]),
  a: Array.from({ length: 10 }, (_, i) => [(97000.2 + i * 0.1).toFixed(2), (0.02 + i * 0.091).toFixed(8)]),
});
export const REF_QUERY =
  'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100000&price=97000.10&newClientOrderId=tw-0000000001-a&recvWindow=5000&timestamp=1763776800123';
const REF_KEY = 'reference-key-for-benchmarks-only-not-a-secret-0000000000000000';

export const REF_TASKS = ['ref: JSON.parse depth diff', 'ref: HMAC-SHA256 200 B'] as const;

function addReferences(bench: Bench): void {
  let sink = 0;
  bench
    .add(REF_TASKS[0], () => {
      const o = JSON.parse(REF_DEPTH_DIFF) as { u: number };
      sink += o.u;
    })
    .add(REF_TASKS[1], () => {
      sink += createHmac('sha256', REF_KEY).update(REF_QUERY).digest().length;
    });
  if (sink < 0) process.stdout.write('');
}

function errText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 3).join(' | ') : String(e);
}

function taskResult(task: Task, refNs: number): TaskResult {
  const ops = opsPerIterationOf(task.name);
  const r = task.result;
  if (r.state === 'completed' || r.state === 'aborted-with-statistics') {
    const ns = Math.max((r.latency.p50 * 1e6) / ops, 0);
    return {
      name: task.name,
      status: 'ok',
      opsPerIteration: ops,
      nsPerOp: ns,
      meanNsPerOp: (r.latency.mean * 1e6) / ops,
      p99NsPerOp: (r.latency.p99 * 1e6) / ops,
      rme: r.latency.rme,
      samples: r.latency.samplesCount,
      ratio: refNs > 0 ? ns / refNs : 0,
    };
  }
  const error = r.state === 'errored' ? errText(r.error) : `task ${r.state}`;
  return { name: task.name, status: 'error', error, opsPerIteration: ops, nsPerOp: 0, meanNsPerOp: 0, p99NsPerOp: 0, rme: 0, samples: 0, ratio: 0 };
}

function fmtNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}

export interface RunOptions {
  suitesDir: string;
  filter?: RegExp;
  timeMs: number;
  log: (line: string) => void;
}

export async function runSuites(opts: RunOptions): Promise<BenchResults> {
  const started = Date.now();
  const files = readdirSync(opts.suitesDir)
    .filter((f) => f.endsWith('.js'))
    .filter((f) => !opts.filter || opts.filter.test(f))
    .sort();
  const suites: SuiteResult[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const file of files) {
    const t0 = Date.now();
    gc?.();
    const bench = new Bench({ name: file, time: opts.timeMs, warmupTime: Math.max(50, opts.timeMs / 4), subtractTimerOverhead: true, throws: false });
    addReferences(bench);
    const suite: SuiteResult = { file, status: 'ok', refNs: 0, refTasks: [], tasks: [], durationMs: 0 };
    try {
      const mod = (await import(pathToFileURL(join(opts.suitesDir, file)).href)) as { default?: unknown };
      if (typeof mod.default !== 'function') throw new Error('no default export register(bench)');
      await (mod.default as (b: Bench) => unknown)(bench);
    } catch (e) {
      suite.status = 'error';
      suite.error = `register failed: ${errText(e)}`;
    }
    if (suite.status === 'ok') {
      try {
        await bench.run();
      } catch (e) {
        suite.status = 'error';
        suite.error = `run failed: ${errText(e)}`;
      }
    }
    const refs = bench.tasks.filter((t) => (REF_TASKS as readonly string[]).includes(t.name)).map((t) => taskResult(t, 0));
    const okRefs = refs.filter((r) => r.status === 'ok' && r.nsPerOp > 0);
    suite.refNs = okRefs.length ? Math.exp(okRefs.reduce((s, r) => s + Math.log(r.nsPerOp), 0) / okRefs.length) : 0;
    suite.refTasks = refs.map((r) => ({ ...r, ratio: suite.refNs > 0 ? r.nsPerOp / suite.refNs : 0 }));
    suite.tasks =
      suite.status === 'ok' ? bench.tasks.filter((t) => !(REF_TASKS as readonly string[]).includes(t.name)).map((t) => taskResult(t, suite.refNs)) : [];
    suite.durationMs = Date.now() - t0;
    suites.push(suite);
    opts.log(`\n${file}  (${(suite.durationMs / 1000).toFixed(1)} s, reference ${fmtNs(suite.refNs)})`);
    if (suite.error) opts.log(`  SUITE ERROR: ${suite.error}`);
    for (const t of suite.tasks) {
      opts.log(
        t.status === 'ok'
          ? `  ${t.name.padEnd(52)} ${fmtNs(t.nsPerOp).padStart(11)}/op  p99 ${fmtNs(t.p99NsPerOp).padStart(11)}  ratio ${t.ratio.toFixed(4)}  ±${t.rme.toFixed(1)}%`
          : `  ${t.name.padEnd(52)} ERROR ${t.error ?? ''}`,
      );
    }
  }
  return {
    format: RESULTS_FORMAT,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    timeMs: opts.timeMs,
    suites,
  };
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write('usage: npm run bench [-- --filter REGEX] [--time MS] [--out DIR] [--no-write]\n');
    return 0;
  }
  const filter = argValue(argv, '--filter');
  const timeMs = Number(argValue(argv, '--time') ?? process.env['BENCH_TIME_MS'] ?? 400);
  const out = resolve(argValue(argv, '--out') ?? join(ROOT, 'bench', 'results'));
  if (!(globalThis as { gc?: unknown }).gc) process.stderr.write('note: run with node --expose-gc (npm run bench does) to collect garbage between suites\n');
  const results = await runSuites({
    suitesDir: join(here, 'suites'),
    ...(filter ? { filter: new RegExp(filter) } : {}),
    timeMs,
    log: (l) => process.stdout.write(l + '\n'),
  });
  const errors =
    results.suites.filter((s) => s.status === 'error').length + results.suites.reduce((n, s) => n + s.tasks.filter((t) => t.status === 'error').length, 0);
  process.stdout.write(`\n${results.suites.length} suites in ${(results.durationMs / 1000).toFixed(1)} s, ${errors} error(s)\n`);
  if (!argv.includes('--no-write')) {
    mkdirSync(out, { recursive: true });
    const stamp = results.startedAt.replace(/[:.]/g, '-');
    const text = JSON.stringify(results, null, 1) + '\n';
    writeFileSync(join(out, `${stamp}.json`), text);
    writeFileSync(join(out, 'latest.json'), text);
    process.stdout.write(`wrote ${join(out, `${stamp}.json`)} and latest.json; compare: npm run bench:compare\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench: ${errText(e)}\n`);
      process.exit(1);
    },
  );
}
