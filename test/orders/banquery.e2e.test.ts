/**
 * A 418 bans the IP whichever request meets it. Before, only an order or a cancel that met the 418 said so (the
 * venue_halt line, the halt count): a ban met by a query (open orders, an order status, a keep-alive) only set the
 * limiter, so the operator heard nothing and a test waiting for the line could wait forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBybitGateways } from '../../src/exchange/bybit/trade/index.js';
import type { OrderManager } from '../../src/orders/manager.js';
import type { BaseGateway } from '../../src/orders/basegw.js';
import type { VenueGateway } from '../../src/orders/gateway.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { binanceGatewayOn, instrumentOf, manager } from './harness.js';

let s: SimHandle | undefined;
let m: OrderManager | undefined;
afterEach(async () => {
  await m?.stop();
  await s?.close();
  m = undefined;
  s = undefined;
});

describe('a ban met by a query', () => {
  it('binanceSpot (REST): a 418 on openOrders halts the venue until the Retry-After, counted once', async () => {
    s = await startSim({ venues: ['binanceSpot'], seed: 7, symbols: ['BTCUSDT'], rate: 100 });
    const i = instrumentOf(s, 'binanceSpot');
    const gw = binanceGatewayOn(s, 'binanceSpot', { transport: 'rest' }) as unknown as BaseGateway & VenueGateway;
    m = manager(i, gw).m;
    await m.start();
    expect(gw.isHalted()).toBe(false);
    const halts0 = gw.counts.halts;
    s.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 418, count: 1, retryAfterSec: 30 });
    await gw.openOrders('BTCUSDT').catch(() => undefined);
    expect(gw.limiter.counts.got418).toBe(1);
    expect(gw.isHalted()).toBe(true);
    expect(gw.counts.halts).toBe(halts0 + 1);
    // a second answer inside the same ban is not a second halt
    await gw.openOrders('BTCUSDT').catch(() => undefined);
    expect(gw.counts.halts).toBe(halts0 + 1);
  });

  it('bybit (REST): a 403 (IP limit) on a query halts the venue, counted', async () => {
    s = await startSim({ venues: ['bybit'], seed: 7, symbols: ['BTCUSDT'], rate: 100 });
    const ep = s.endpoints.bybit!;
    const i = instrumentOf(s, 'bybitLinear');
    const gws = createBybitGateways([
      {
        category: 'linear',
        restBaseUrl: ep.restBaseUrl,
        wsApiUrl: ep.wsApiUrl,
        wsPrivateUrl: ep.wsPrivateUrl!,
        apiKey: ep.apiKey,
        apiSecret: ep.apiSecret,
        instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
        transport: 'rest',
        timeoutMs: 2000,
      },
    ]) as unknown as Array<BaseGateway & VenueGateway>;
    const gw = gws[0]!;
    m = manager(i, gw).m;
    await m.start();
    const halts0 = gw.counts.halts;
    s.inject({ kind: 'httpStatus', market: 'bybitLinear', status: 403, count: 1 } as never);
    await gw.openOrders('BTCUSDT').catch(() => undefined);
    expect(gw.isHalted()).toBe(true);
    expect(gw.counts.halts).toBe(halts0 + 1);
  });
});
