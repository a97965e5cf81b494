/**
 * Position modes at start (issue 13): `tickwire run` (the compiled CLI) reads the account's mode before anything
 * trades. A hedge-mode account (Binance USD-M dualSidePosition, Bybit linear positionIdx 1/2) or a Bybit classic
 * account is refused: exit 1, the message names the mode, the field that says so and how to switch it, and the
 * exchange saw no order. The same config on a one-way account trades. Asserted on the simulator's side.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { accountProfileOf } from '../../src/sim/core/types.js';
import { rmDir, tmpDir } from '../core/helpers.js';
import { rest } from '../sim/binance/helpers.js';
import { signedGet } from '../sim/bybit/helpers.js';
import { built, killLeftovers, runCli } from './helpers.js';

const root = tmpDir('accountmode');
let sim: SimHandle;
let n = 0;

beforeAll(async () => {
  sim = await startSim({ symbols: ['BTCUSDT'], seed: 11, rate: 500 });
});
afterAll(async () => {
  await sim?.close();
  rmDir(root);
});
afterEach(() => killLeftovers());
beforeEach(() => {
  expect(built(), 'run `npm run build` first').toBe(true);
  Object.assign(accountProfileOf(sim.ctx), { binanceUsdmHedge: false, bybitLinearHedge: false, bybitUnified: true });
});

/** A config trading `venue` BTCUSDT with the market maker on the test's simulator (endpoints in the config). */
function config(venue: 'binanceUsdm' | 'bybitLinear'): { file: string; dir: string; env: Record<string, string> } {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  const b = sim.endpoints.binanceUsdm!;
  const y = sim.endpoints.bybit!;
  const exchanges =
    venue === 'binanceUsdm'
      ? {
          binance: { preset: 'sim', endpoints: { futuresRest: b.restBaseUrl, futuresWs: b.wsStreamBaseUrl, futuresWsApi: b.wsApiUrl } },
          bybit: { enabled: false },
        }
      : {
          bybit: {
            preset: 'sim',
            endpoints: { futuresRest: y.restBaseUrl, futuresWs: y.wsStreamBaseUrl, futuresWsApi: y.wsApiUrl, privateWs: y.wsPrivateUrl },
          },
          binance: { enabled: false },
        };
  const cfg = {
    exchanges,
    instruments: [{ venue, symbol: 'BTCUSDT' }],
    strategy: { name: 'marketMaker', marketMaker: { venue, symbol: 'BTCUSDT', halfSpreadBps: 5, size: 0.002, maxInventory: 0.01, requoteTicks: 1 } },
    signals: { funding: false, openInterest: false },
    persistence: { dir: join(dir, 'data'), batchMs: 2, fsync: 'never' },
    shutdown: { cancelTimeoutMs: 5000 },
    control: { enabled: false },
    log: { level: 'info', destinations: [{ to: join(dir, 'engine.log'), level: 'info' }] },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg));
  const env =
    venue === 'binanceUsdm'
      ? { TICKWIRE_BINANCE_API_KEY: b.apiKey, TICKWIRE_BINANCE_API_SECRET: b.apiSecret }
      : { TICKWIRE_BYBIT_API_KEY: y.apiKey, TICKWIRE_BYBIT_API_SECRET: y.apiSecret };
  return { file, dir, env };
}

async function usdmOrders(): Promise<number> {
  const r = await rest(sim.endpoints.binanceUsdm!, 'GET', '/fapi/v1/allOrders', { symbol: 'BTCUSDT' }, { signed: true });
  return (r.json as unknown[]).length;
}
async function bybitOrders(): Promise<number> {
  const r = await signedGet(sim.endpoints.bybit!, '/v5/order/history', 'category=linear&symbol=BTCUSDT&limit=50');
  const open = await signedGet(sim.endpoints.bybit!, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
  return r.json.result.list.length + open.json.result.list.length;
}

describe('tickwire run: the account position mode at start', () => {
  it('Binance USD-M in hedge mode: refused before any order, exit 1 naming dualSidePosition and the switch', { timeout: 40_000 }, async () => {
    accountProfileOf(sim.ctx).binanceUsdmHedge = true;
    const before = await usdmOrders();
    const c = config('binanceUsdm');
    const life = runCli(['--config', c.file, '--duration', '30'], c.dir, c.env);
    expect(await life.exited).toBe(1);
    expect(life.stderr()).toMatch(/account mode/);
    expect(life.stderr()).toMatch(/hedge mode \(GET \/fapi\/v1\/positionSide\/dual: dualSidePosition=true\)/);
    expect(life.stderr()).toMatch(/POST \/fapi\/v1\/positionSide\/dual dualSidePosition=false/);
    expect(await usdmOrders()).toBe(before);
  });

  it('Bybit linear in hedge mode: refused before any order, exit 1 naming positionIdx and switch-mode', { timeout: 40_000 }, async () => {
    accountProfileOf(sim.ctx).bybitLinearHedge = true;
    const before = await bybitOrders();
    const c = config('bybitLinear');
    const life = runCli(['--config', c.file, '--duration', '30'], c.dir, c.env);
    expect(await life.exited).toBe(1);
    expect(life.stderr()).toMatch(/BTCUSDT in hedge mode \(GET \/v5\/position\/list: positionIdx 1\/2/);
    expect(life.stderr()).toMatch(/\/v5\/position\/switch-mode/);
    expect(await bybitOrders()).toBe(before);
  });

  it('a Bybit classic (non-unified) account: refused, naming unifiedMarginStatus', { timeout: 40_000 }, async () => {
    accountProfileOf(sim.ctx).bybitUnified = false;
    const before = await bybitOrders();
    const c = config('bybitLinear');
    const life = runCli(['--config', c.file, '--duration', '30'], c.dir, c.env);
    expect(await life.exited).toBe(1);
    expect(life.stderr()).toMatch(/not a unified trading account \(GET \/v5\/account\/info: unifiedMarginStatus=1/);
    expect(await bybitOrders()).toBe(before);
  });

  it('one-way accounts trade: the same configs place orders and stop with nothing open', { timeout: 60_000 }, async () => {
    for (const venue of ['binanceUsdm', 'bybitLinear'] as const) {
      const count = venue === 'binanceUsdm' ? usdmOrders : bybitOrders;
      const before = await count();
      const c = config(venue);
      const life = runCli(['--config', c.file, '--duration', '4'], c.dir, c.env);
      expect(await life.exited, `${venue}: ${life.stderr()}`).toBe(0);
      expect(await count(), venue).toBeGreaterThan(before);
    }
    const open = await rest(sim.endpoints.binanceUsdm!, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
    expect(open.json).toEqual([]);
    const bo = await signedGet(sim.endpoints.bybit!, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
    expect(bo.json.result.list).toEqual([]);
  });
});
