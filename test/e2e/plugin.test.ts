/**
 * Plug-in strategies (`tickwire run --strategy FILE`, `strategy.module`): a module that does not load, exports no
 * valid strategy or throws in start fails the start (no order, the error names the file); a strategy that throws in
 * a handler is halted (trading stopped, its orders cancelled, the error counted); parameters come from
 * strategy.params and a reload that the strategy refuses changes nothing. Paper venue (in process), except where the
 * CLI's exit code is the point.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runEngine, StartError } from '../../src/app/run.js';
import { ConfigError } from '../../src/config/load.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = tmpDir('e2e-plugin');
afterAll(() => rmDir(dir));
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };

/** a module file in the test's dir */
function mod(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const g = globalThis as unknown as Record<string, unknown>;

function run(strategyFile: string, extra: Record<string, unknown> = {}, o: Parameters<typeof runEngine>[0] = {}) {
  return runEngine({
    paper: true,
    durationSec: 10,
    print: false,
    signals: false,
    env: {},
    strategyFile,
    overrides: { ...quiet, persistence: { dir: join(dir, 'data') }, ...extra },
    ...o,
  });
}

describe('a plug-in that cannot run fails the start, naming the file', () => {
  it('a file that is not there is a config error naming --strategy', async () => {
    await expect(run(join(dir, 'nope.js'))).rejects.toThrow(ConfigError);
    await expect(run(join(dir, 'nope.js'))).rejects.toThrow(/--strategy.*nope\.js does not exist/);
    await expect(run(join(dir, 'strategy.ts'))).rejects.toThrow(/not an ES module file/);
  });

  it.each([
    ['throws on import', 'throw new Error("no import for you");', /cannot be imported: no import for you/],
    ['exports nothing', 'export const x = 1;', /exports no strategy/],
    ['exports a number', 'export default 42;', /expected a strategy object, got number/],
    ['builds something without a name', 'export default () => ({ onBook() {} });', /no `name`/],
    ['handles no event', 'export default () => ({ name: "deaf" });', /handles no event/],
    ['has a handler that is not a function', 'export default () => ({ name: "x", onBook: 3 });', /`onBook` must be a function/],
    [
      'throws while it is built',
      'export default (p) => { throw new Error("bad params " + JSON.stringify(p)); };',
      /building the strategy threw: bad params \{"k":1\}/,
    ],
    ['returns a promise', 'export default async () => ({ name: "x", onBook() {} });', /returned a Promise/],
  ])('a module that %s', async (_what, text, why) => {
    const f = mod(`bad-${Math.random().toString(36).slice(2)}.mjs`, text);
    const p = run(f, { strategy: { params: { k: 1 } } });
    await expect(p).rejects.toThrow(StartError);
    await expect(run(f, { strategy: { params: { k: 1 } } })).rejects.toThrow(new RegExp(`strategy module ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await expect(run(f, { strategy: { params: { k: 1 } } })).rejects.toThrow(why);
  });

  it('a strategy that throws in start: its order is refused, the start fails naming the step and the file', async () => {
    const f = mod(
      'throws-in-start.mjs',
      `export default class Boom {
        name = 'boom';
        start(ctx) {
          const slot = ctx.slotOf('binanceSpot', 'BTCUSDT');
          const t = ctx.market.top(slot);
          globalThis.__boomPlaced = ctx.orders.place({ slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: t.bidPx, qty: 1000 });
          throw new Error('cannot start today');
        }
        onBook() {}
      }`,
    );
    g['__boomPlaced'] = 'not called';
    const err = await run(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).step).toContain('strategy start (boom');
    expect((err as StartError).step).toContain(f);
    expect((err as Error).message).toContain('cannot start today');
    expect((err as StartError).cancelVerified).toBe(true);
    expect(g['__boomPlaced']).toBe(null); // refused: nothing was sent
  });

  it('the CLI exits 1 naming the file (and 2 for a file that is not there)', () => {
    expect(existsSync(join(ROOT, 'dist/src/cli/tickwire.js')), 'run `npm run build` first').toBe(true);
    const f = mod('cli-bad.mjs', 'export default 7;');
    const env = { ...process.env, TICKWIRE__PERSISTENCE__DIR: join(dir, 'cli-data'), TICKWIRE__LOG__LEVEL: 'silent' };
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/tickwire.js'), 'run', '--paper', '--strategy', f, '--duration', '5'], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`strategy module ${f}`);
    const missing = spawnSync(process.execPath, [join(ROOT, 'bin/tickwire.js'), 'run', '--paper', '--strategy', join(dir, 'gone.js')], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--strategy');
  });
});

describe('a plug-in that runs', () => {
  it('throws in a handler: halted at strategy.maxErrors, trading stopped, its orders cancelled, the error counted', async () => {
    const f = mod(
      'throws-later.mjs',
      `export default function create(params) {
        let ctx, slot, books = 0;
        return {
          name: 'later',
          start(c) { ctx = c; slot = c.slotOf(params.venue, params.symbol); },
          onBook(s) {
            if (s !== slot) return;
            const t = ctx.market.top(s);
            if (!t.tradable) return;
            books++;
            // a resting bid 20 ticks under the touch, then a bug
            if (books === 1) globalThis.__laterId = ctx.orders.place({ slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: t.bidPx - 20 * ctx.instruments[slot].tickUnits, qty: 1000 });
            if (books === 5) throw new Error('index out of range');
          },
          stop() { globalThis.__laterStopped = true; },
        };
      }`,
    );
    g['__laterId'] = undefined;
    g['__laterStopped'] = false;
    let errorsTotal = -1;
    let tradingWhenHalted = '';
    const r = await run(
      f,
      { strategy: { params: { venue: 'binanceSpot', symbol: 'BTCUSDT' } } },
      {
        stopWhen: (e) => {
          errorsTotal = e.runner?.errorsTotal ?? -1;
          const halted = e.runner?.disabled === true && e.store.openCount() === 0;
          if (halted) tradingWhenHalted = e.trading; // the run's own stop sets 'stopped' too: read it before
          return halted;
        },
      },
    );
    expect(r.code).toBe(0);
    expect(typeof g['__laterId']).toBe('string');
    expect(tradingWhenHalted).toBe('stopped');
    expect(r.summary.strategy).toBe('later (disabled)');
    expect(r.summary.strategyErrors).toBe(1);
    expect(errorsTotal).toBe(1);
    expect(r.summary.orders.canceled).toBeGreaterThanOrEqual(1);
    expect(r.summary.orders.openAtEnd).toBe(0);
    expect(g['__laterStopped']).toBe(true);
    expect(r.summary.durationSec).toBeLessThan(10); // stopWhen, not the duration: halting is observable at once
  });

  it('gets strategy.params, reads top of book and risk headroom, and a reload it refuses changes nothing', async () => {
    const cfgFile = join(dir, 'reload.json');
    mod(
      'params.mjs',
      `export default function create(params) {
        let ctx;
        const s = {
          name: 'params',
          seen: params,
          start(c) { ctx = c; },
          onTick() {
            const slot = ctx.slotOf('binanceSpot', 'BTCUSDT');
            globalThis.__paramsHeadroom = ctx.risk.headroom(slot, 'BUY');
            globalThis.__paramsTop = { ...ctx.market.top(slot) };
          },
          setParams(p) {
            if (typeof p.level !== 'number') throw new Error('params.level must be a number');
            s.seen = p;
            globalThis.__paramsSeen = p;
          },
        };
        globalThis.__paramsSeen = params;
        return s;
      }`,
    );
    const write = (params: unknown) =>
      writeFileSync(cfgFile, JSON.stringify({ ...quiet, persistence: { dir: join(dir, 'data-reload') }, strategy: { module: './params.mjs', params } }));
    write({ level: 1 });
    let control: { url: string } | undefined;
    const token = 'reload-token-0123456789abcdef';
    const results: Array<{ status: number; body: string }> = [];
    const r = await runEngine({
      paper: true,
      config: cfgFile,
      durationSec: 10,
      print: false,
      signals: false,
      env: { TICKWIRE_CONTROL_TOKEN: token },
      onReady: ({ control: c }) => {
        control = c;
        void (async () => {
          const post = async () => {
            const res = await fetch(`${control!.url}/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
            results.push({ status: res.status, body: await res.text() });
          };
          write({ level: 'high' });
          await post();
          write({ level: 2 });
          await post();
        })();
      },
      stopWhen: () => results.length === 2 && g['__paramsTop'] !== undefined,
    });
    expect(r.code).toBe(0);
    expect(results[0]!.status).toBe(400);
    expect(results[0]!.body).toContain('params.level must be a number');
    expect(results[1]!.status).toBe(200);
    expect(g['__paramsSeen']).toEqual({ level: 2 });
    const top = g['__paramsTop'] as { bidPx: number; askPx: number; mid: number; tradable: boolean };
    expect(top.tradable).toBe(true);
    expect(top.bidPx).toBeLessThan(top.askPx);
    expect(top.mid).toBe((top.bidPx + top.askPx) / 2);
    // risk default maxOrderQty 0.01 BTC = 10000 units at qtyDecimals 6 (or the smaller notional / position room)
    expect(g['__paramsHeadroom']).toBeGreaterThan(0);
    expect(g['__paramsHeadroom']).toBeLessThanOrEqual(10_000_000);
  });
});
