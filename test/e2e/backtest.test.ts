/**
 * `tickwire backtest`: the real USD-M capture (../shared/exchange/fixtures) replayed through the market maker against
 * the simulator's matching core.
 * - determinism: two backtests of the same inputs give the same report.json outside `wallClock`, byte for byte; a
 *   time-compressed slice gives the same report at `--speed recorded` (real-time pacing) as at `--speed max`;
 * - the report is real: fills (maker, with the fee table's USDT fees), PnL marked to mid, a stop that leaves nothing
 *   open, files 0600 in a 0700 directory, inputs hashed;
 * - the HTML page is self-contained and parses in Chromium both as HTML and as XML (polyglot markup), with its plots;
 * - the CLI: --help, usage and config errors (exit 2).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, resolveStrategySpec, runBacktest } from '../../src/app/backtest.js';
import { deterministicPart, type BacktestReport } from '../../src/app/backtestreport.js';
import { findChromium } from '../../src/util/plot.js';
import { dispatch } from '../../src/cli/commands.js';

const CAPTURE = fileURLToPath(new URL('../../../shared/exchange/fixtures/binance/usdm_capture_2021-07-22_cryptofeed.ndjson', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tw-backtest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Market maker on SUSHIUSDT, one tick inside the touch: the recorded market trades through its quotes. */
const CONFIG = join(tmp, 'mm.json');
writeFileSync(
  CONFIG,
  JSON.stringify({
    risk: { maxOrderQty: 100, maxPositionPerSymbol: 500, maxOrderNotional: 5000, maxTotalNotional: 50000 },
    strategy: {
      marketMaker: {
        venue: 'binanceUsdm',
        symbol: 'SUSHIUSDT',
        halfSpreadBps: 1,
        size: 20,
        maxInventory: 200,
        requoteTicks: 1,
        minRequoteMs: 200,
        skewBpsPerUnit: 0.05,
      },
    },
  }),
);

const readReport = (dir: string): BacktestReport => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as BacktestReport;

/**
 * A capture made from the fixture with every recorded time (line `ts`, a trade's `T`) compressed `factor` times
 * towards the first line's: the same market in a shorter span, so that a `--speed recorded` run takes seconds.
 */
function compressed(file: string, factor: number): string {
  const lines = readFileSync(CAPTURE, 'utf8').split('\n');
  let t0: number | undefined;
  const out = lines.map((line) => {
    if (line.trim() === '') return line;
    const o = JSON.parse(line) as { ts?: number; data?: string };
    if (typeof o.ts !== 'number') return line;
    t0 ??= o.ts;
    o.ts = t0 + (o.ts - t0) / factor;
    if (typeof o.data === 'string' && o.data.includes('"aggTrade"')) {
      const d = JSON.parse(o.data) as { data?: { T?: number } };
      if (d.data && typeof d.data.T === 'number') d.data.T = Math.round(t0 * 1000 + (d.data.T - t0 * 1000) / factor);
      o.data = JSON.stringify(d);
    }
    return JSON.stringify(o);
  });
  writeFileSync(file, out.join('\n'));
  return file;
}

describe('tickwire backtest', () => {
  let a: BacktestReport;

  it('gives the same report.json (outside wallClock) for the same inputs, and the report is real', async () => {
    const ra = await runBacktest({ replay: [CAPTURE], strategy: 'marketMaker', config: CONFIG, out: join(tmp, 'a') });
    const rb = await runBacktest({ replay: [CAPTURE], strategy: 'marketMaker', config: CONFIG, out: join(tmp, 'b') });
    expect(ra.code).toBe(0);
    a = readReport(ra.dir);
    const b = readReport(rb.dir);
    expect(deterministicPart(b)).toBe(deterministicPart(a));
    // the wall-clock section is where the runs may differ, and it is there
    expect(a.wallClock.hops.map((h) => h.hop)).toContain('risk');
    expect(a.wallClock.speed).toBe('max');

    // inputs: the capture's bytes hashed, the strategy and seed named
    expect(a.inputs.captures).toEqual([
      {
        name: 'usdm_capture_2021-07-22_cryptofeed.ndjson',
        sha256: createHash('sha256').update(readFileSync(CAPTURE)).digest('hex'),
        bytes: statSync(CAPTURE).size,
        events: 494,
      },
    ]);
    expect(a.inputs.strategy).toEqual({ kind: 'builtin', name: 'marketMaker' });
    expect(a.inputs.seed).toBe(1);
    expect(a.inputs.configSha256).toMatch(/^[0-9a-f]{64}$/);
    // the whole capture was replayed: both symbols' books, in recorded time
    expect(a.replay.steps).toBe(494);
    expect(a.replay.instruments.map((i) => i.symbol)).toEqual(['SUSHIUSDT', 'AKROUSDT']);
    expect(a.replay.start).toBe('2021-07-22T22:25:41.082Z');
    expect(a.replay.ticks).toBeGreaterThan(3000); // 30 s of 10 ms ticks, in virtual time

    // fills from the matching core: passive quotes the recorded market traded through, at the fee table's maker rate
    expect(a.fills.count).toBeGreaterThan(0);
    expect(a.fills.maker).toBe(a.fills.count);
    const sushi = a.fills.byInstrument['binanceUsdm:SUSHIUSDT']!;
    expect(sushi.fills).toBe(a.fills.count);
    expect(a.fees['USDT']).toBeCloseTo(sushi.quote * 0.0002, 6); // USD-M maker 0.02 %, paid in USDT
    expect(a.orders.sent).toBeGreaterThanOrEqual(a.fills.count);
    expect(a.orders.perFill).toBeCloseTo(a.orders.sent / a.fills.count, 6);
    // PnL: the curve ends where the total ends; drawdown is the worst fall from a peak
    const s = a.pnl.series;
    expect(s.pnl.length).toBe(s.tMs.length);
    expect(s.pnl[s.pnl.length - 1]).toBe(a.pnl.final);
    expect(a.pnl.final).toBeCloseTo(
      Object.values(a.pnl.byInstrument).reduce((x, i) => x + i.pnl, 0),
      6,
    );
    expect(a.drawdown.max).toBeGreaterThanOrEqual(Math.max(...s.drawdown));
    expect(a.drawdown.max).toBeGreaterThanOrEqual(a.drawdown.peak - a.pnl.final - 1e-9);
    // positions booked from the fills
    const pos = a.pnl.byInstrument['binanceUsdm:SUSHIUSDT']!.position;
    expect(s.positions['binanceUsdm:SUSHIUSDT']![s.tMs.length - 1]).toBe(pos);
    // the stop cancelled everything and the query saw nothing open
    expect(a.stop).toEqual({ cancelVerified: true, openAfterStop: 0, errors: [] });

    // private files
    expect(statSync(ra.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(ra.dir, 'report.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(ra.dir, 'report.html')).mode & 0o777).toBe(0o600);
  });

  it('does not depend on the pace: --speed recorded gives the report of --speed max', async () => {
    // 30 s of market compressed into 2 s, played twice: in real time, and as fast as possible
    const cap = compressed(join(tmp, 'fast.ndjson'), 15);
    const rec = await runBacktest({ replay: [cap], strategy: 'marketMaker', config: CONFIG, out: join(tmp, 'rec'), speed: 'recorded', drainMs: 100 });
    const max = await runBacktest({ replay: [cap], strategy: 'marketMaker', config: CONFIG, out: join(tmp, 'max'), speed: 'max', drainMs: 100 });
    const r = readReport(rec.dir);
    const m = readReport(max.dir);
    expect(r.wallClock.speed).toBe('recorded');
    expect(r.wallClock.elapsedMs).toBeGreaterThanOrEqual(1900); // it was paced: the slice spans 2 s
    expect(m.orders.sent).toBeGreaterThan(0);
    expect(deterministicPart(r)).toBe(deterministicPart(m));
  }, 30_000);

  it('runs the example plug-in strategy (examples/mean-reversion.js): it trades, and the same inputs give the same report', async () => {
    const example = fileURLToPath(new URL('../../examples/mean-reversion.js', import.meta.url));
    const cfg = join(tmp, 'mr.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        strategy: { params: { venue: 'binanceUsdm', symbol: 'SUSHIUSDT', size: 20, window: 20, entryTicks: 2, maxPosition: 60 } },
        risk: { maxOrderQty: 100, maxPositionPerSymbol: 500, maxOrderNotional: 5000, maxTotalNotional: 50000, maxOrdersPerSecond: 20 },
      }),
    );
    const r1 = await runBacktest({ replay: [CAPTURE], strategy: example, config: cfg, out: join(tmp, 'mr1') });
    const r2 = await runBacktest({ replay: [CAPTURE], strategy: example, config: cfg, out: join(tmp, 'mr2') });
    expect(r1.code).toBe(0);
    const x = readReport(r1.dir);
    expect(deterministicPart(readReport(r2.dir))).toBe(deterministicPart(x));
    expect(x.inputs.strategy).toEqual({ kind: 'module', name: 'mean-reversion.js', sha256: createHash('sha256').update(readFileSync(example)).digest('hex') });
    expect(x.strategy).toMatchObject({ name: 'meanReversion', errors: 0, disabled: false });
    expect(x.orders.sent).toBeGreaterThan(0);
    expect(x.fills.count).toBeGreaterThan(0);
    expect(x.stop.openAfterStop).toBe(0);
  });

  const chromium = findChromium();
  if (!chromium)
    process.stderr.write('\n!!! test/e2e/backtest.test.ts: HTML parse SKIPPED: /usr/bin/chromium is not installed (apt-get install -y chromium) !!!\n\n');

  it('writes a self-contained HTML page', () => {
    const html = readFileSync(join(tmp, 'a', 'report.html'), 'utf8');
    // nothing to fetch: no script, no external reference
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(4); // PnL, drawdown, position, hops
    expect(html).toContain(`${a.fills.count}`);
    expect(html).toContain(a.inputs.captures[0]!.sha256);
  });

  it.skipIf(!chromium)(
    'the HTML page parses in Chromium as HTML and as XML, with its plots',
    async () => {
      const dump = (file: string): Promise<string> =>
        new Promise((res, rej) =>
          execFile(
            chromium!,
            [
              '--headless',
              '--no-sandbox',
              '--disable-gpu',
              '--disable-dev-shm-usage',
              `--user-data-dir=${join(tmp, 'profile')}`,
              '--dump-dom',
              `file://${file}`,
            ],
            { timeout: 25_000, maxBuffer: 16 << 20 },
            (err, stdout, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout)),
          ),
        );
      const html = join(tmp, 'a', 'report.html');
      const xhtml = join(tmp, 'report.xhtml');
      copyFileSync(html, xhtml);
      for (const dom of [await dump(html), await dump(xhtml)]) {
        expect(dom).not.toContain('parsererror');
        expect(dom).toContain('PnL over time');
        // the plots were parsed into SVG elements with their curves
        expect(dom.match(/<svg /g)?.length).toBeGreaterThanOrEqual(4);
        expect(dom.match(/<path d="M/g)?.length).toBeGreaterThanOrEqual(4);
      }
      // a broken page would show as an XML parse error: the check above can fail
      writeFileSync(join(tmp, 'broken.xhtml'), readFileSync(html, 'utf8').replace('</table>', ''));
      expect(await dump(join(tmp, 'broken.xhtml'))).toContain('parsererror');
    },
    60_000,
  );
});

describe('tickwire backtest CLI', () => {
  const capture = async (argv: string[], run: (a: string[]) => Promise<number> = main): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const w1 = process.stdout.write.bind(process.stdout);
    const w2 = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    try {
      return { code: await run(argv), out, err };
    } finally {
      process.stdout.write = w1;
      process.stderr.write = w2;
    }
  };

  it('--help, usage and config errors', async () => {
    const h = await capture(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('--speed recorded');
    // the dispatcher knows the command: `tickwire help backtest` is its --help
    expect(await capture(['help', 'backtest'], dispatch)).toEqual({ code: 0, out: h.out, err: '' });
    expect((await capture(['--strategy', 'marketMaker'])).code).toBe(2); // no --replay
    expect((await capture(['--replay', CAPTURE, '--strategy', 'marketMaker', '--speed', 'fast'])).code).toBe(2);
    const unknown = await capture(['--replay', CAPTURE, '--strategy', 'martingale']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('--strategy');
    // a module path that is not there: refused naming the option and the file
    const mod = await capture(['--replay', CAPTURE, '--strategy', './my-strategy.js', '--config', CONFIG]);
    expect(mod.code).toBe(2);
    expect(mod.err).toMatch(/--strategy.*my-strategy\.js does not exist/);
    const missing = await capture(['--replay', join(tmp, 'nope.ndjson'), '--strategy', 'none']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('does not exist');
    // the config's strategy must trade a symbol of the captures: refused, naming the field
    const other = await capture(['--replay', CAPTURE, '--strategy', 'marketMaker']);
    expect(other.code).toBe(2);
    expect(other.err).toContain('strategy.marketMaker.symbol');
  });

  it('tells a built-in name from a module path in one place', () => {
    expect(resolveStrategySpec('crossVenue')).toEqual({ kind: 'builtin', name: 'crossVenue' });
    expect(resolveStrategySpec('examples/mean-reversion.js')).toMatchObject({ kind: 'module' });
    expect(() => resolveStrategySpec('./my-strategy.ts')).toThrow(/not an ES module/);
    expect(() => resolveStrategySpec('marketmaker')).toThrow(/unknown strategy/);
  });
});
