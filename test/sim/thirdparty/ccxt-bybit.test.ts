/**
 * ccxt (4.5.x) `bybit`, a client written for the real Bybit v5, against the simulator with only its REST host
 * swapped (issue 2). Spot and linear through one unified account. No client-side workarounds: ccxt probes the account
 * type (GET /v5/user/query-api + /v5/account/info) and loads currencies (GET /v5/asset/coin/query-info) as it does
 * against the real venue.
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { rebase } from './helpers.js';

type Ex = InstanceType<typeof ccxt.bybit>;

function client(ep: SimVenueEndpoints): Ex {
  const options: Record<string, unknown> = { fetchMarkets: { types: ['spot', 'linear'] } };
  const ex = new ccxt.bybit({ apiKey: ep.apiKey, secret: ep.apiSecret, options });
  rebase(ex.urls['api'] as Record<string, unknown>, ep.restBaseUrl);
  return ex;
}

function takeCost(levels: Array<[number, number]>, lots: number, pxDec: number, qtyDec: number): number {
  let left = lots;
  let tl = 0;
  for (const [px, q] of levels) {
    const n = Math.min(q, left);
    tl += px * n;
    left -= n;
    if (left === 0) break;
  }
  expect(left).toBe(0);
  return tl / 10 ** (pxDec + qtyDec);
}

describe('ccxt bybit against the simulator', () => {
  let sim: SimHandle;
  let ep: SimVenueEndpoints;
  let sb: MatchingBook;
  let lb: MatchingBook;
  beforeAll(async () => {
    sim = await startSim({ venues: ['bybit'], seed: 11, generatorMode: 'manual', symbols: ['BTCUSDT', 'ETHUSDT'], depthIntervalMs: 0 });
    if (!sim.endpoints.bybit) throw new Error('bybit venue failed: ' + JSON.stringify(sim.venueErrors));
    ep = sim.endpoints.bybit;
    sb = sim.books.get('bybitSpot')!.get('BTCUSDT')!;
    lb = sim.books.get('bybitLinear')!.get('BTCUSDT')!;
  });
  afterAll(async () => sim?.close());

  it('loadMarkets (spot + linear instruments-info), fetchTime, fetchOrderBook', async () => {
    const ex = client(ep);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'BTC/USDT:USDT', 'ETH/USDT', 'ETH/USDT:USDT']);
    for (const [sym, book] of [
      ['BTC/USDT', sb],
      ['BTC/USDT:USDT', lb],
    ] as const) {
      const m = markets[sym]!;
      expect(m.id).toBe('BTCUSDT');
      expect(m.precision.price).toBe(Number(book.instrument.tickSize));
      expect(m.precision.amount).toBe(Number(book.instrument.stepSize));
      const ob = await ex.fetchOrderBook(sym, 5);
      const d = book.depth(5);
      const pd = book.instrument.priceDecimals;
      const qd = book.instrument.qtyDecimals;
      expect(ob.bids).toEqual(d.bids.map(([p, q]) => [p / 10 ** pd, q / 10 ** qd]));
      expect(ob.asks).toEqual(d.asks.map(([p, q]) => [p / 10 ** pd, q / 10 ** qd]));
    }
    expect(markets['BTC/USDT:USDT']).toMatchObject({ linear: true, swap: true, settle: 'USDT' });
    const t = await ex.fetchTime();
    expect(Math.abs(t! - Date.now())).toBeLessThan(60_000);
  });

  it('spot: limit rests, marketable limit and market fill against the book; fetchOpenOrders, cancelOrder, cancelAllOrders, fetchBalance', async () => {
    const ex = client(ep);
    await ex.loadMarkets();
    const pd = sb.instrument.priceDecimals;
    const qd = sb.instrument.qtyDecimals;
    const bal0 = await ex.fetchBalance();
    const btc0 = bal0['BTC']?.total ?? 0;
    expect(bal0['USDT']!.free).toBeGreaterThan(1000);

    const restPx = (sb.bestBidPrice() - 100_000) / 10 ** pd;
    const o1 = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, restPx);
    expect(o1.id).toMatch(/^[0-9]+$/);
    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((o) => [o.id, o.status, o.price, o.amount, o.filled])).toEqual([[o1.id, 'open', restPx, 0.001, 0]]);
    const c1 = await ex.cancelOrder(o1.id!, 'BTC/USDT');
    expect(c1.id).toBe(o1.id);
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);
    expect((await ex.fetchCanceledAndClosedOrders('BTC/USDT')).find((o) => o.id === o1.id)?.status).toBe('canceled');

    const ask = sb.bestAsk()!;
    const lots = Math.min(ask.qtyLots, 100);
    const o2 = await ex.createOrder('BTC/USDT', 'limit', 'buy', lots / 10 ** qd, ask.priceTicks / 10 ** pd);
    const d = sb.depth(3);
    const mLots = d.asks[0]![1] + Math.ceil(d.asks[1]![1] / 2);
    const want = takeCost(d.asks, mLots, pd, qd);
    const o3 = await ex.createOrder('BTC/USDT', 'market', 'buy', mLots / 10 ** qd);
    const closed = await ex.fetchCanceledAndClosedOrders('BTC/USDT');
    const c2 = closed.find((o) => o.id === o2.id)!;
    const c3 = closed.find((o) => o.id === o3.id)!;
    expect(c2).toMatchObject({ status: 'closed', filled: lots / 10 ** qd, average: ask.priceTicks / 10 ** pd });
    expect(c3).toMatchObject({ status: 'closed', filled: mLots / 10 ** qd, type: 'market' });
    expect(c3.cost).toBeCloseTo(want, 6);

    const bal1 = await ex.fetchBalance();
    // net of the taker fee (0.1 %) Bybit charges a spot buy in the base coin
    expect(bal1['BTC']!.total! - btc0).toBeCloseTo(((lots + mLots) / 10 ** qd) * (1 - 0.001), 8);

    const a = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, restPx);
    const b = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.002, restPx - 1);
    expect((await ex.fetchOpenOrders('BTC/USDT')).map((o) => o.id).sort()).toEqual([a.id, b.id].sort());
    const all = await ex.cancelAllOrders('BTC/USDT');
    expect(all.map((o) => o.id).sort()).toEqual([a.id, b.id].sort());
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);
  });

  it('linear: orders, fetchPositions, reduce-only close, cancelAllOrders', async () => {
    const ex = client(ep);
    await ex.loadMarkets();
    const S = 'BTC/USDT:USDT';
    const pd = lb.instrument.priceDecimals;
    const qd = lb.instrument.qtyDecimals;
    const flat = await ex.fetchPositions([S]);
    expect(flat.every((p) => !p.contracts)).toBe(true);

    const restPx = (lb.bestBidPrice() - 10_000 * 10 ** (pd - 1)) / 10 ** pd; // 1000 USDT under the best bid
    const o1 = await ex.createOrder(S, 'limit', 'buy', 0.002, restPx);
    expect((await ex.fetchOpenOrders(S)).map((o) => [o.id, o.status, o.price])).toEqual([[o1.id, 'open', restPx]]);
    await ex.cancelOrder(o1.id!, S);
    expect(await ex.fetchOpenOrders(S)).toEqual([]);

    const dd = lb.depth(3);
    const lots = Math.max(dd.asks[0]![1] + 1, 2);
    const want = takeCost(dd.asks, lots, pd, qd);
    const amount = lots / 10 ** qd;
    const o2 = await ex.createOrder(S, 'market', 'buy', amount);
    const c2 = (await ex.fetchCanceledAndClosedOrders(S)).find((o) => o.id === o2.id)!;
    expect(c2).toMatchObject({ status: 'closed', filled: amount });
    expect(c2.cost).toBeCloseTo(want, 4);

    const pos = (await ex.fetchPositions([S])).filter((p) => p.contracts);
    expect(pos.length).toBe(1);
    expect(pos[0]).toMatchObject({ symbol: S, side: 'long', contracts: amount });
    expect(pos[0]!.entryPrice).toBeCloseTo(want / amount, 1);

    await ex.createOrder(S, 'limit', 'buy', 0.002, restPx);
    await ex.createOrder(S, 'limit', 'sell', 0.002, (lb.bestAskPrice() + 10_000 * 10 ** (pd - 1)) / 10 ** pd);
    expect((await ex.fetchOpenOrders(S)).length).toBe(2);
    expect((await ex.cancelAllOrders(S)).length).toBe(2);
    expect(await ex.fetchOpenOrders(S)).toEqual([]);

    await ex.createOrder(S, 'market', 'sell', amount, undefined, { reduceOnly: true });
    expect((await ex.fetchPositions([S])).filter((p) => p.contracts)).toEqual([]);
    expect((await ex.fetchBalance())['USDT']!.total).toBeGreaterThan(0);
  });

  it('default ccxt client: loadMarkets with a key, fetchBalance, createOrder, cancelAllOrders', async () => {
    const ex = client(ep);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets)).toContain('BTC/USDT');
    expect(ex.currencies['USDT']).toBeDefined();
    expect((await ex.fetchBalance())['USDT']!.free).toBeGreaterThan(0);
    const o = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, (sb.bestBidPrice() - 100_000) / 100);
    expect((await ex.cancelAllOrders('BTC/USDT')).map((x) => x.id)).toEqual([o.id]);
  });

  it('market data and account endpoints ccxt users call', async () => {
    const ex = client(ep);
    await ex.loadMarkets();
    const S = 'BTC/USDT:USDT';
    const pd = 10 ** lb.instrument.priceDecimals;
    const tk = await ex.fetchTicker(S);
    expect(tk.bid).toBe(lb.bestBidPrice() / pd);
    expect(tk.ask).toBe(lb.bestAskPrice() / pd);
    expect(Array.isArray(await ex.fetchTrades(S))).toBe(true);
    expect(Array.isArray(await ex.fetchOHLCV(S, '1m'))).toBe(true);
    expect((await ex.fetchTradingFee(S)).symbol).toBe(S);
    await ex.setLeverage(5, S);
    expect((await ex.fetchLeverage(S)).longLeverage).toBe(5);
    const pre = (await (await fetch(ep.restBaseUrl + '/v5/market/instruments-info?category=linear&status=PreLaunch')).json()) as {
      result: { list: unknown[] };
    };
    expect(pre.result.list).toEqual([]);
  });
});
