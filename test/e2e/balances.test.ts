/**
 * Spot balance reconciliation end to end (issue 13): `tickwire run` against the embedded simulator, which charges its
 * fees. The engine's fills (Binance Spot and Bybit spot, fees in BTC and USDT) leave the account balances exactly where
 * the booked fills net of fees say; a balance changed behind the engine's back (the simulator's control API: a
 * transfer) is an alert below the halt limit, and beyond it trading stops; both are counted in /metrics.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { join } from 'node:path';
import { runEngine } from '../../src/app/run.js';
import type { Engine } from '../../src/engine/engine.js';
import type { BalanceCheck, BalanceReconciler } from '../../src/engine/balances.js';
import type { Wiring } from '../../src/app/wiring.js';
import { F } from '../../src/model/botstate.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const dir = tmpDir('e2e-balances');
afterAll(() => rmDir(dir));
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('spot balance reconciliation (embedded simulator with fees)', () => {
  it('balances match the booked fills net of fees after trading; a transfer behind the back alerts, beyond the limit trading stops', async () => {
    const seen: {
      match?: BalanceCheck;
      alert?: BalanceCheck;
      halt?: BalanceCheck;
      tradingAfterAlert?: string;
      tradingAfterHalt?: string;
      fees?: unknown;
      metrics?: string;
    } = {};
    let done = false;
    let failure: unknown;
    const scenario = async (engine: Engine, wiring: Wiring, balances: BalanceReconciler): Promise<void> => {
      const ctl = wiring.sim!.endpoints.control;
      const transfer = async (wallet: string, asset: string, delta: number): Promise<void> => {
        const r = await request(ctl.url + '/balance', {
          method: 'POST',
          headers: { 'x-sim-token': ctl.token },
          body: JSON.stringify({ wallet, asset, delta }),
        });
        expect(r.statusCode).toBe(200);
        await r.body.text();
      };
      // taker buys then a part sold back on both spot venues: fees in BTC (buys) and USDT (sells)
      for (const [slot, venue] of [
        [engine.slotOf('binanceSpot', 'BTCUSDT'), 'binanceSpot'],
        [engine.slotOf('bybitSpot', 'BTCUSDT'), 'bybitSpot'],
      ] as const) {
        await until(() => engine.state.get(slot, F.askPx) > 0, 5000, `${venue} book`);
        const ins = engine.instrument(slot)!;
        const lots = (x: number): number => Math.round(x * 10 ** ins.qtyDecimals);
        for (const [side, q] of [
          ['BUY', 0.004],
          ['SELL', 0.002],
        ] as const) {
          let id: string | null = null;
          // the book becomes tradable (synced) a moment after the start
          await until(
            () => {
              const px = side === 'BUY' ? engine.state.get(slot, F.askPx) * 1.002 : engine.state.get(slot, F.bidPx) * 0.998;
              id = engine.place({ slot, side, type: 'LIMIT', tif: 'IOC', price: Math.round(px / ins.tickUnits) * ins.tickUnits, qty: lots(q) });
              return id !== null;
            },
            5000,
            `${venue} ${side} accepted (refusal ${String(engine.lastRefusal)})`,
          );
          await until(() => engine.order(id!)?.state === 'FILLED', 5000, `${venue} ${side} filled`);
          await until(() => engine.order(id!)!.filledQty === lots(q), 5000, `${venue} ${side} fills booked`);
        }
      }
      seen.fees = engine.portfolio.feesByAsset();
      seen.match = await balances.check();
      // +5 USDT behind the engine's back: above alertDrift, below the USDT halt limit (50)
      await transfer('binanceSpot', 'USDT', 5);
      seen.alert = await balances.check();
      seen.tradingAfterAlert = engine.trading;
      // -100 USDT more from the Bybit wallet: beyond the limit, trading stops
      await transfer('bybit', 'USDT', -100);
      seen.halt = await balances.check();
      seen.tradingAfterHalt = engine.trading;
      seen.metrics = wiring
        .extraMetrics()
        .filter((m) => m.name.startsWith('tickwire_balance'))
        .map((m) => `${m.name} ${JSON.stringify(m.samples)}`)
        .join('\n');
    };
    const r = await runEngine({
      durationSec: 40,
      simRate: 500,
      stopWhen: () => done,
      print: false,
      signals: false,
      env: {},
      strategy: () => undefined,
      overrides: {
        ...quiet,
        persistence: { dir: join(dir, 'run') },
        instruments: [
          { venue: 'binanceSpot', symbol: 'BTCUSDT' },
          { venue: 'bybitSpot', symbol: 'BTCUSDT' },
        ],
        risk: { maxOrderQty: 0.01, maxPositionPerSymbol: 0.02, maxOpenOrders: 4 },
        reconcile: { balances: { intervalMs: 0, settleMs: 200, alertDrift: 1e-6, haltDrift: { USDT: 50 } } },
      },
      onReady: ({ engine, wiring, balances }) => {
        scenario(engine, wiring, balances!).then(
          () => (done = true),
          (e: unknown) => {
            failure = e;
            done = true;
          },
        );
      },
    });
    if (failure) throw failure;
    expect(r.code).toBe(0);
    // fees were paid in the base asset (buys) and the quote (sells)
    expect(seen.fees).toMatchObject({ BTC: expect.any(Number), USDT: expect.any(Number) });
    // after trading with fees the account is exactly what the booked fills net of fees say
    expect(seen.match).toMatchObject({ wallets: ['binanceSpot', 'bybit'], drifts: [], halted: false, errors: [] });
    // the transfer: an alert on that wallet and asset, trading goes on
    expect(seen.alert!.drifts).toEqual([
      { wallet: 'binanceSpot', asset: 'USDT', expected: expect.any(Number), actual: expect.any(Number), drift: expect.closeTo(5, 6), halt: false },
    ]);
    expect(seen.alert!.halted).toBe(false);
    expect(seen.tradingAfterAlert).toBe('running');
    // beyond the limit: trading stops (the Binance drift is still there, still below its limit)
    expect(seen.halt!.drifts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ wallet: 'binanceSpot', asset: 'USDT', halt: false }),
        expect.objectContaining({ wallet: 'bybit', asset: 'USDT', drift: expect.closeTo(-100, 6), halt: true }),
      ]),
    );
    expect(seen.halt!.halted).toBe(true);
    expect(seen.tradingAfterHalt).toBe('stopped');
    // counted for /metrics
    expect(seen.metrics).toMatch(/tickwire_balance_drift_total .*"wallet":"binanceSpot","asset":"USDT".*"value":2/);
    expect(seen.metrics).toMatch(/tickwire_balance_halts_total .*"wallet":"bybit","asset":"USDT".*"value":1/);
  }, 60_000);

  it('a balance limit that is not above the alert level is refused at start, naming the field', async () => {
    await expect(
      runEngine({
        paper: true,
        durationSec: 1,
        print: false,
        signals: false,
        env: {},
        overrides: { ...quiet, persistence: { dir: join(dir, 'bad') }, reconcile: { balances: { alertDrift: 1, haltDrift: { BTC: 0.5 } } } },
      }),
    ).rejects.toThrow(/reconcile\.balances\.haltDrift\.BTC/);
  });
});
