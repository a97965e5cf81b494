/**
 * The engine's REST weight table (`binanceRestCost`, src/exchange/binance/trade/rest.ts: what the gateway books before
 * each call) against the simulator's own charge (the `X-MBX-USED-WEIGHT-1M` delta of that call), for every call the
 * table prices, Spot and USD-M, sent through the gateway's own `signed` / `unsigned` (the path every engine REST call
 * takes). Every table entry must be exercised here, so a call added to the engine without a case fails this test.
 * Spot order-path calls (place, cancel, cancel-all) cost 0 when they succeed and 1 when they fail (spot-docs
 * CHANGELOG 2026-03-27): the engine books the failure's weight before sending; both outcomes are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import { binanceRestCalls, binanceRestCost, type BinanceRestGateway } from '../../src/exchange/binance/trade/rest.js';
import type { RestResponse } from '../../src/net/rest.js';
import type { MatchingBook } from '../../src/sim/core/book.js';
import { startTestSim, type TestSim } from '../sim/binance/helpers.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
/** one call: method, path, params, unsigned (with the API key or not), and whether it must succeed */
interface Case {
  m: Method;
  path: string;
  params?: string;
  unsigned?: 'key' | 'none';
  ok: boolean;
}

/** Spot calls free when they succeed (binance.md section 0, 2026-04-02: place, cancel, cancel-all; an amend is not) */
const FREE_ON_SUCCESS = new Set(['POST /api/v3/order', 'DELETE /api/v3/order', 'DELETE /api/v3/openOrders']);

const dec = (units: number, decimals: number): string => (units / 10 ** decimals).toFixed(decimals);

describe('Binance REST weights: the engine books what the venue charges', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(async () => t?.sim.close());

  const gateway = (venue: 'binanceSpot' | 'binanceUsdm'): BinanceRestGateway => {
    const ep = venue === 'binanceSpot' ? t.spot : t.usdm;
    const ins = t.sim.ctx.instruments.get(venue)!.find((i) => i.symbol === 'BTCUSDT')!;
    // not started: no keep-alive pings, clock syncs, dead man's switch or user stream calls besides the ones sent here
    return createBinanceGateway({
      venue,
      restBaseUrl: ep.restBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: 'BTCUSDT', priceDecimals: ins.priceDecimals, qtyDecimals: ins.qtyDecimals }],
      transport: 'rest',
      userStream: false,
      deadManSwitch: false,
      timeoutMs: 2000,
    });
  };

  /** send each case in turn; the charge of a call is the change of the used-weight header since the call before */
  async function check(spot: boolean, gw: BinanceRestGateway, cases: Case[]): Promise<void> {
    const used = (r: RestResponse): number => {
      const v = r.headers['x-mbx-used-weight-1m'];
      const n = Number(Array.isArray(v) ? v[0] : v);
      expect(Number.isInteger(n), 'used-weight header').toBe(true);
      return n;
    };
    let prev = used(await gw.unsigned('GET', spot ? '/api/v3/time' : '/fapi/v1/time'));
    const rows: string[] = [];
    for (const c of cases) {
      const r = c.unsigned ? await gw.unsigned(c.m, c.path, c.unsigned === 'key') : await gw.signed(c.m, c.path, c.params ?? '');
      const now = used(r);
      const charged = now >= prev ? now - prev : now; // the venue's minute window turned over
      prev = now;
      expect(r.status === 200, `${c.m} ${c.path} ${c.params ?? ''}: ${r.status} ${r.text}`).toBe(c.ok);
      const cost = binanceRestCost(spot, c.m, c.path, c.params ?? '');
      // Spot place / cancel / cancel-all: free when it succeeds, the booked (failure) weight when it fails
      const want = spot && FREE_ON_SUCCESS.has(`${c.m} ${c.path}`) && c.ok ? 0 : cost.weight;
      if (charged !== want) rows.push(`${c.m} ${c.path}?${c.params ?? ''} (${c.ok ? 'ok' : 'fails'}): engine ${want}, venue ${charged}`);
    }
    expect(rows).toEqual([]);
    // every priced call was exercised, and every call free on success also in its failing (charged) form
    const seen = new Set(cases.map((c) => `${c.m} ${c.path}`));
    expect(binanceRestCalls(spot).filter((k) => !seen.has(k))).toEqual([]);
    const failed = new Set(cases.filter((c) => !c.ok).map((c) => `${c.m} ${c.path}`));
    if (spot) expect([...FREE_ON_SUCCESS].filter((k) => !failed.has(k))).toEqual([]);
  }

  it('Spot', async () => {
    const gw = gateway('binanceSpot');
    try {
      const book: MatchingBook = t.sim.books.get('binanceSpot')!.get('BTCUSDT')!;
      const ins = book.instrument;
      const px = dec(Math.round(book.bestBidPrice() * 0.9), ins.priceDecimals);
      const order = (id: string, qty = '0.00200'): string =>
        `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=${qty}&price=${px}&newClientOrderId=${id}&newOrderRespType=ACK`;
      const cases: Case[] = [
        { m: 'GET', path: '/api/v3/ping', unsigned: 'none', ok: true },
        { m: 'GET', path: '/api/v3/time', unsigned: 'none', ok: true },
        { m: 'GET', path: '/api/v3/exchangeInfo', unsigned: 'none', ok: true },
        { m: 'GET', path: '/api/v3/account', ok: true },
        { m: 'POST', path: '/api/v3/order', params: order('w1'), ok: true },
        { m: 'POST', path: '/api/v3/order', params: order('w1'), ok: false }, // duplicate client id
        { m: 'GET', path: '/api/v3/order', params: 'symbol=BTCUSDT&origClientOrderId=w1', ok: true },
        { m: 'GET', path: '/api/v3/openOrders', params: 'symbol=BTCUSDT', ok: true },
        { m: 'GET', path: '/api/v3/openOrders', ok: true },
        { m: 'PUT', path: '/api/v3/order/amend/keepPriority', params: 'symbol=BTCUSDT&origClientOrderId=w1&newQty=0.00100&newClientOrderId=w1b', ok: true },
        { m: 'GET', path: '/api/v3/allOrders', params: 'symbol=BTCUSDT', ok: true },
        { m: 'GET', path: '/api/v3/myTrades', params: 'symbol=BTCUSDT', ok: true },
        { m: 'GET', path: '/api/v3/myTrades', params: 'symbol=BTCUSDT&orderId=1', ok: true },
        { m: 'DELETE', path: '/api/v3/order', params: 'symbol=BTCUSDT&origClientOrderId=w1b', ok: true },
        { m: 'DELETE', path: '/api/v3/order', params: 'symbol=BTCUSDT&origClientOrderId=w1b', ok: false }, // gone
        { m: 'POST', path: '/api/v3/order', params: order('w2'), ok: true },
        { m: 'DELETE', path: '/api/v3/openOrders', params: 'symbol=BTCUSDT', ok: true },
        { m: 'DELETE', path: '/api/v3/openOrders', params: 'symbol=BTCUSDT', ok: false }, // none open
      ];
      await check(true, gw, cases);
    } finally {
      await gw.stop();
    }
  });

  it('USD-M', async () => {
    const gw = gateway('binanceUsdm');
    try {
      const book: MatchingBook = t.sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
      const ins = book.instrument;
      const p = (f: number): string => dec(Math.round((book.bestBidPrice() * f) / 10) * 10, ins.priceDecimals);
      const order = (id: string): string => `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=${p(0.97)}&newClientOrderId=${id}`;
      const S = 'symbol=BTCUSDT';
      const cases: Case[] = [
        { m: 'GET', path: '/fapi/v1/ping', unsigned: 'none', ok: true },
        { m: 'GET', path: '/fapi/v1/time', unsigned: 'none', ok: true },
        { m: 'GET', path: '/fapi/v1/exchangeInfo', unsigned: 'none', ok: true },
        { m: 'POST', path: '/fapi/v1/listenKey', unsigned: 'key', ok: true },
        { m: 'PUT', path: '/fapi/v1/listenKey', unsigned: 'key', ok: true },
        { m: 'DELETE', path: '/fapi/v1/listenKey', unsigned: 'key', ok: true },
        { m: 'POST', path: '/fapi/v1/order', params: order('u1'), ok: true },
        { m: 'POST', path: '/fapi/v1/order', params: order('u1'), ok: false },
        { m: 'PUT', path: '/fapi/v1/order', params: `${S}&origClientOrderId=u1&side=BUY&quantity=0.010&price=${p(0.96)}`, ok: true },
        { m: 'GET', path: '/fapi/v1/order', params: `${S}&origClientOrderId=u1`, ok: true },
        { m: 'GET', path: '/fapi/v1/openOrder', params: `${S}&origClientOrderId=u1`, ok: true },
        { m: 'GET', path: '/fapi/v1/openOrders', params: S, ok: true },
        { m: 'GET', path: '/fapi/v1/openOrders', ok: true },
        { m: 'DELETE', path: '/fapi/v1/order', params: `${S}&origClientOrderId=u1`, ok: true },
        { m: 'DELETE', path: '/fapi/v1/order', params: `${S}&origClientOrderId=u1`, ok: false },
        { m: 'POST', path: '/fapi/v1/order', params: order('u2'), ok: true },
        { m: 'DELETE', path: '/fapi/v1/allOpenOrders', params: S, ok: true },
        {
          m: 'POST',
          path: '/fapi/v1/algoOrder',
          params: `algoType=CONDITIONAL&${S}&side=BUY&type=STOP_MARKET&quantity=0.010&triggerPrice=${p(1.03)}&clientAlgoId=a1`,
          ok: true,
        },
        { m: 'GET', path: '/fapi/v1/openAlgoOrders', params: S, ok: true },
        { m: 'GET', path: '/fapi/v1/openAlgoOrders', ok: true },
        { m: 'DELETE', path: '/fapi/v1/algoOrder', params: `${S}&clientAlgoId=a1`, ok: true },
        { m: 'DELETE', path: '/fapi/v1/algoOpenOrders', params: S, ok: true },
        { m: 'GET', path: '/fapi/v1/allOrders', params: S, ok: true },
        { m: 'GET', path: '/fapi/v1/userTrades', params: S, ok: true },
        { m: 'GET', path: '/fapi/v2/positionRisk', ok: true },
        { m: 'GET', path: '/fapi/v3/positionRisk', ok: true },
        { m: 'GET', path: '/fapi/v2/account', ok: true },
        { m: 'GET', path: '/fapi/v3/account', ok: true },
        { m: 'GET', path: '/fapi/v2/balance', ok: true },
        { m: 'GET', path: '/fapi/v3/balance', ok: true },
        { m: 'POST', path: '/fapi/v1/countdownCancelAll', params: `${S}&countdownTime=0`, ok: true },
        { m: 'GET', path: '/fapi/v1/positionSide/dual', ok: true },
        { m: 'GET', path: '/fapi/v1/commissionRate', params: S, ok: true },
        { m: 'POST', path: '/fapi/v1/leverage', params: `${S}&leverage=20`, ok: true },
        { m: 'POST', path: '/fapi/v1/marginType', params: `${S}&marginType=ISOLATED`, ok: true },
      ];
      await check(false, gw, cases);
    } finally {
      await gw.stop();
    }
  });
});
