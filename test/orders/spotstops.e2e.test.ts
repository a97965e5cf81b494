/**
 * Binance Spot stop orders (STOP_LOSS[_LIMIT], TAKE_PROFIT[_LIMIT]) placed by hand on the engine's account do not
 * confuse the order owner (issue 13): the start-up reconciliation treats a waiting stop order like any other open
 * order (ours: adopted or cancelled per the orphan policy; foreign: cancelled), and the kill switch's cancel-all plus
 * re-query leaves none on the venue. Against the simulator over real sockets; the venue's view is asked of it directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import { blankStartupReport, type OrderManager } from '../../src/orders/manager.js';
import type { SimVenueEndpoints } from '../../src/sim/core/types.js';
import { rest } from '../sim/binance/helpers.js';
import { bbo, instrumentOf, manager, sim, untilState, type SimHandle } from './harness.js';

describe('binanceSpot: stop orders placed by hand meet the order owner', () => {
  const venue = 'binanceSpot';
  let s: SimHandle;
  let ep: SimVenueEndpoints;
  let m: OrderManager;

  beforeAll(async () => {
    s = await sim([venue]);
    ep = s.endpoints[venue]!;
    const i = instrumentOf(s, venue);
    const gw = createBinanceGateway({
      venue,
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: ep.wsApiUrl,
      wsStreamBaseUrl: ep.wsStreamBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      ed25519ApiKey: ep.ed25519ApiKey!,
      ed25519PrivateKeyPem: ep.ed25519PrivateKeyPem!,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'rest',
      timeoutMs: 2000,
      recovery: { queryDelayMs: 10 },
    });
    ({ m } = manager(i, gw));
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  const px = (units: number): string => (units / 100).toFixed(2); // BTCUSDT tick 0.01
  /** a stop order placed by hand (not through the engine), far from the market */
  const handStop = async (clientId: string, type: 'STOP_LOSS' | 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT'): Promise<void> => {
    const { bid, ask } = bbo(s, venue);
    const p: Record<string, string> = { symbol: 'BTCUSDT', side: 'SELL', type, quantity: '0.00100', newClientOrderId: clientId };
    if (type === 'TAKE_PROFIT_LIMIT') Object.assign(p, { timeInForce: 'GTC', price: px(Math.round(ask * 1.2)), stopPrice: px(Math.round(ask * 1.2)) });
    else if (type === 'STOP_LOSS_LIMIT') Object.assign(p, { timeInForce: 'GTC', price: px(Math.round(bid * 0.7)), stopPrice: px(Math.round(bid * 0.7)) });
    else p['stopPrice'] = px(Math.round(bid * 0.7));
    const r = await rest(ep, 'POST', '/api/v3/order', p, { signed: true });
    expect(r.status, r.text).toBe(200);
  };
  /** the venue's open orders, asked of the simulator (type per client id) */
  const venueOpen = async (): Promise<Record<string, string>> => {
    const r = await rest(ep, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
    expect(r.status, r.text).toBe(200);
    return Object.fromEntries((r.json as Array<{ clientOrderId: string; type: string }>).map((o) => [o.clientOrderId, o.type]));
  };

  it('start-up reconciliation (orphans: cancel): a stop order of ours is adopted then cancelled, a foreign one cancelled', async () => {
    const ours = m.ids.base + 'stop1';
    await handStop(ours, 'STOP_LOSS_LIMIT');
    await handStop('hand-stop-1', 'STOP_LOSS');
    expect(await venueOpen()).toEqual({ [ours]: 'STOP_LOSS_LIMIT', 'hand-stop-1': 'STOP_LOSS' });
    const report = blankStartupReport();
    await m.reconcile(venue, { orphans: 'cancel', report });
    expect(report.canceled.sort()).toEqual([ours, 'hand-stop-1'].sort());
    expect(report.adopted).toEqual([]);
    await untilState(m, ours, ['CANCELED']);
    expect(m.order('hand-stop-1')).toBeUndefined(); // foreign: never tracked
    expect(await venueOpen()).toEqual({});
    expect(m.store.openCount()).toBe(0);
  });

  it('orphans: adopt keeps our stop order tracked; the kill switch then leaves no order, stop or not, on the venue', async () => {
    const ours = m.ids.base + 'stop2';
    await handStop(ours, 'TAKE_PROFIT_LIMIT');
    const report = blankStartupReport();
    await m.reconcile(venue, { orphans: 'adopt', report });
    expect(report.adopted).toEqual([ours]);
    expect(m.order(ours)?.state).toBe('ACKED');
    // more by hand after the start, and one of the engine's own
    await handStop('hand-stop-2', 'STOP_LOSS_LIMIT');
    await handStop('hand-stop-3', 'STOP_LOSS');
    const { bid } = bbo(s, venue);
    const mine = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.round(bid * 0.9), qty: 100 })!;
    await untilState(m, mine, ['ACKED']);
    expect(Object.keys(await venueOpen()).sort()).toEqual([ours, 'hand-stop-2', 'hand-stop-3', mine].sort());
    expect(await m.cancelAllEverywhere()).toEqual([{ venue, remaining: 0 }]);
    expect(await venueOpen()).toEqual({});
    await untilState(m, ours, ['CANCELED']);
    await untilState(m, mine, ['CANCELED']);
    expect(m.store.openCount()).toBe(0);
  });
});
