/**
 * A 418 with a Retry-After bans the IP for that long, no longer (issue 11's fault campaign: a ~1 s ban halted Binance
 * Spot for the rest of the run and 78 orders were refused as "venue halted"). The order that meets the 418 is
 * rejected, orders are refused during the ban, and acknowledged again after it, without an operator.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runEngine } from '../../src/app/run.js';
import type { Engine } from '../../src/engine/engine.js';
import { F } from '../../src/model/botstate.js';
import type { OrderEvent } from '../../src/model/orders.js';
import type { SimHandle } from '../../src/sim/index.js';
import type { VenueGateway } from '../../src/orders/gateway.js';
import { request } from 'undici';
import { rmDir, sleep, tmpDir, until } from '../core/helpers.js';

const dir = tmpDir('e2e-banresume');
afterAll(() => rmDir(dir));

describe('an IP ban with a Retry-After', () => {
  it('rejects the order that met it, refuses orders until it ends, then trades again (no operator resume)', { timeout: 60_000 }, async () => {
    const outcome = new Map<string, string>();
    let done = false;
    let failure: unknown;
    const order = (e: Engine): string | null => {
      const bid = e.state.get(0, F.bidPx);
      // a resting buy 0.2 % under the bid: inside the price band, never filled
      return e.placeManual({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.round(bid * 0.998), qty: 200 }).id;
    };
    const r = await runEngine({
      durationSec: 40,
      simRate: 500,
      print: false,
      signals: false,
      env: {},
      simProcess: 'inline',
      overrides: {
        log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
        persistence: { dir: join(dir, 'data') },
        instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
        exchanges: { bybit: { enabled: false } },
        strategy: { name: 'none' },
      },
      stopWhen: () => done,
      onReady: ({ engine, wiring }) => {
        const prev = engine.onAfterEvent;
        engine.onAfterEvent = (ev: OrderEvent) => {
          prev?.(ev);
          if (ev.kind === 'ack' || ev.kind === 'reject') outcome.set(ev.clientOrderId, ev.kind === 'ack' ? 'ack' : `reject ${ev.reason}`);
        };
        const sim = wiring.sim as SimHandle;
        void (async () => {
          try {
            await until(() => engine.state.tradable(0), 10_000, 'a tradable book');
            const first = order(engine)!;
            await until(() => outcome.has(first), 10_000, 'the first ack');
            expect(outcome.get(first)).toBe('ack');
            // the next REST request (this order's) is answered 418 with Retry-After 1 s
            sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 418, count: 1, retryAfterSec: 1 });
            const banned = order(engine)!;
            await until(() => outcome.has(banned), 10_000, 'the banned order answered');
            expect(outcome.get(banned)).toMatch(/^reject BANNED/);
            // during the ban: refused before sending
            const during = order(engine);
            if (during !== null) await until(() => outcome.has(during), 10_000, 'the refusal during the ban');
            if (during !== null) expect(outcome.get(during)).not.toBe('ack');
            // after the ban: acknowledged again
            await sleep(1_500);
            const after = order(engine)!;
            await until(() => outcome.has(after), 10_000, 'the order after the ban');
            expect(outcome.get(after)).toBe('ack');
          } catch (e) {
            failure = e;
          } finally {
            done = true;
          }
        })();
      },
    });
    if (failure) throw failure;
    expect(r.code).toBe(0);
    expect(r.summary.orders.openAtEnd).toBe(0);
  });

  it('a halt that waits for an operator (auth failure) ends with POST /start, which names the venue it resumed', { timeout: 60_000 }, async () => {
    let failure: unknown;
    let done = false;
    await runEngine({
      durationSec: 30,
      simRate: 300,
      print: false,
      signals: false,
      env: { TICKWIRE_CONTROL_TOKEN: 'banresume-test-token-0123456789' },
      simProcess: 'inline',
      overrides: {
        log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
        persistence: { dir: join(dir, 'data-auth') },
        instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
        exchanges: { bybit: { enabled: false } },
        strategy: { name: 'none' },
      },
      stopWhen: () => done,
      onReady: ({ engine, control }) => {
        void (async () => {
          try {
            const gw = engine.orders.gateway('binanceSpot') as VenueGateway & { halt(reason: string): void };
            gw.halt('auth: Invalid API-key (test)');
            expect(gw.isHalted()).toBe(true);
            const res = await request(`${control!.url}/start`, { method: 'POST', headers: { authorization: 'Bearer banresume-test-token-0123456789' } });
            expect(res.statusCode).toBe(200);
            expect(await res.body.json()).toMatchObject({ trading: 'running', resumedVenues: ['binanceSpot'] });
            expect(gw.isHalted()).toBe(false);
          } catch (e) {
            failure = e;
          } finally {
            done = true;
          }
        })();
      },
    });
    if (failure) throw failure;
  });
});
