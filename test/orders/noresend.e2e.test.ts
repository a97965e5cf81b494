/**
 * A stop must leave nothing open, also when an order's send met a 5xx just before it: the gateway queries such an
 * order and, proven absent, sends it again with the same client id. During a stop that resend could land after the
 * stop's cancel-all was verified (seen once in CI: one order open after a stop whose first requests met 503s).
 * While everything is being cancelled (`stopResends`, called by cancelAndVerify) the proven-absent order is rejected
 * instead, and the venue never sees it; without it, the same order is resent and rests on the venue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OrderManager } from '../../src/orders/manager.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { bbo, instrumentOf, manager, untilState, binanceGatewayOn } from './harness.js';

let s: SimHandle | undefined;
let m: OrderManager | undefined;
afterEach(async () => {
  await m?.stop();
  await s?.close();
  m = undefined;
  s = undefined;
});

async function rig(): Promise<{ m: OrderManager; s: SimHandle; place: () => string }> {
  s = await startSim({ venues: ['binanceSpot'], seed: 7, symbols: ['BTCUSDT'], rate: 100 });
  const i = instrumentOf(s, 'binanceSpot');
  const gw = binanceGatewayOn(s, 'binanceSpot', { transport: 'rest', recovery: { queryDelayMs: 100 } });
  m = manager(i, gw).m;
  await m.start();
  const mgr = m;
  const sim = s;
  const place = (): string => {
    const { bid } = bbo(sim, 'binanceSpot');
    // a resting buy well under the bid (inside the price band): it stays open if it reaches the venue
    return mgr.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.round(bid * 0.99), qty: 2 * 10 ** Math.max(0, i.qtyDecimals - 3) })!;
  };
  return { m: mgr, s: sim, place };
}

describe('an order whose send met a 503', () => {
  it('during a stop: proven absent, it is rejected and never resent; nothing reaches the venue', async () => {
    const r = await rig();
    r.s.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 503, count: 1 });
    const id = r.place();
    r.m.stopResends('stop'); // what cancelAndVerify does first
    await untilState(r.m, id, ['REJECTED'], 5000);
    expect(r.m.order(id)!.reason).toMatch(/NOT_FOUND_NOT_RESENT/);
    expect((await r.m.openOrders('binanceSpot')).length).toBe(0);
  });

  it('while trading: proven absent, it is resent with the same client id and rests on the venue', async () => {
    const r = await rig();
    r.s.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 503, count: 1 });
    const id = r.place();
    await untilState(r.m, id, ['ACKED'], 5000);
    expect((await r.m.openOrders('binanceSpot')).map((o) => o.clientOrderId)).toContain(id);
  });
});
