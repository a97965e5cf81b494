/** The filters exchangeInfo advertises are enforced with the venues' codes and messages (issue 13): Spot
 * PRICE_FILTER / PERCENT_PRICE_BY_SIDE / NOTIONAL max / MAX_NUM_ORDERS (-1013), USD-M PERCENT_PRICE (-4016 / -4024),
 * max price (-4002), MAX_NUM_ORDERS (-2025), MAX_NUM_ALGO_ORDERS (-4045); each accepted just inside and rejected just
 * outside, over REST and the WS API. The reference price is the book's mid (the sim's mark). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { connect, rest, startTestSim, wsSigned, type TestSim } from './helpers.js';

const spx = (ticks: number): string => (ticks / 100).toFixed(2); // spot BTCUSDT: tick 0.01
const upx = (ticks: number): string => (ticks / 10).toFixed(1); // usdm BTCUSDT: tick 0.1
const mid = (b: MatchingBook): number => (b.bestBidPrice() + b.bestAskPrice()) / 2;

describe('binance sim: advertised filters are enforced', () => {
  let t: TestSim;
  let sb: MatchingBook;
  let ub: MatchingBook;
  beforeAll(async () => {
    // order-rate limits raised so MAX_NUM_ORDERS (200 open orders) is reachable in one test
    t = await startTestSim({ limits: { orders10s: 100_000, ordersLong: 1_000_000 } });
    sb = t.sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    ub = t.sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
  });
  afterAll(async () => t?.sim.close());

  const spot = (p: Record<string, string | number>) =>
    rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', type: 'LIMIT', timeInForce: 'GTC', ...p }, { signed: true });
  const usdm = (p: Record<string, string | number>) =>
    rest(t.usdm, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', type: 'LIMIT', timeInForce: 'GTC', ...p }, { signed: true });
  const cancelAll = async () => {
    await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
    await rest(t.usdm, 'DELETE', '/fapi/v1/allOpenOrders', { symbol: 'BTCUSDT' }, { signed: true });
  };

  it('Spot PERCENT_PRICE_BY_SIDE: 0.2x..5x the mid, REST and WS API', async () => {
    const ref = mid(sb);
    const lo = Math.ceil(ref * 0.2);
    const hi = Math.floor(ref * 5);
    const ok1 = await spot({ side: 'BUY', quantity: '0.00100', price: spx(lo) });
    expect(ok1.status, ok1.text).toBe(200);
    const bad1 = await spot({ side: 'BUY', quantity: '0.00100', price: spx(lo - 1) });
    expect(bad1.json).toEqual({ code: -1013, msg: 'Filter failure: PERCENT_PRICE_BY_SIDE' });
    // the example: a limit buy at 10 % of the bid
    const tenth = await spot({ side: 'BUY', quantity: '0.00100', price: spx(Math.round(sb.bestBidPrice() / 10)) });
    expect(tenth.json).toEqual({ code: -1013, msg: 'Filter failure: PERCENT_PRICE_BY_SIDE' });
    const ok2 = await spot({ side: 'SELL', quantity: '0.00100', price: spx(hi) });
    expect(ok2.status, ok2.text).toBe(200);
    const bad2 = await spot({ side: 'SELL', quantity: '0.00100', price: spx(hi + 1) });
    expect(bad2.json).toEqual({ code: -1013, msg: 'Filter failure: PERCENT_PRICE_BY_SIDE' });
    const api = await connect(t.spot.wsApiUrl);
    try {
      const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.00100' };
      api.send({ id: 'in', method: 'order.place', params: wsSigned(t.spot, { ...base, price: spx(lo) }) });
      api.send({ id: 'out', method: 'order.place', params: wsSigned(t.spot, { ...base, price: spx(lo - 1) }) });
      expect(await api.next((j) => j.id === 'in')).toMatchObject({ status: 200 });
      expect(await api.next((j) => j.id === 'out')).toMatchObject({ status: 400, error: { code: -1013, msg: 'Filter failure: PERCENT_PRICE_BY_SIDE' } });
    } finally {
      api.close();
    }
    await cancelAll();
  });

  it('Spot PRICE_FILTER maxPrice and NOTIONAL maxNotional', async () => {
    const r = await spot({ side: 'SELL', quantity: '0.00100', price: '1000000.01' });
    expect(r.json).toEqual({ code: -1013, msg: 'Filter failure: PRICE_FILTER' });
    const px = Math.floor(mid(sb) * 5); // inside the percent band; 9,000,000 USDT max notional
    const n = Math.floor(9_000_000 / (px / 100)); // whole BTC just inside
    const ok = await spot({ side: 'SELL', quantity: n.toFixed(5), price: spx(px) });
    expect(ok.status, ok.text).toBe(200);
    const bad = await spot({ side: 'SELL', quantity: (n + 1).toFixed(5), price: spx(px) });
    expect(bad.json).toEqual({ code: -1013, msg: 'Filter failure: NOTIONAL' });
    await cancelAll();
  });

  it('Spot MAX_NUM_ORDERS: the 201st open order on a symbol is rejected, one more after a cancel is accepted', async () => {
    const api = await connect(t.spot.wsApiUrl);
    try {
      const px = spx(Math.ceil(mid(sb) * 0.5));
      const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.00100', price: px, newOrderRespType: 'ACK' };
      for (let i = 0; i < 200; i++) api.send({ id: `o${i}`, method: 'order.place', params: wsSigned(t.spot, { ...base, newClientOrderId: `mx${i}` }) });
      for (let i = 0; i < 200; i++) expect(await api.next((j) => j.id === `o${i}`)).toMatchObject({ status: 200 });
      api.send({ id: 'over', method: 'order.place', params: wsSigned(t.spot, { ...base, newClientOrderId: 'mx200' }) });
      expect(await api.next((j) => j.id === 'over')).toMatchObject({ status: 400, error: { code: -1013, msg: 'Filter failure: MAX_NUM_ORDERS' } });
      const c = await rest(t.spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'mx0' }, { signed: true });
      expect(c.status, c.text).toBe(200);
      const again = await spot({ side: 'BUY', quantity: '0.00100', price: px, newClientOrderId: 'mx201' });
      expect(again.status, again.text).toBe(200);
    } finally {
      api.close();
    }
    await cancelAll();
  });

  it('USD-M PERCENT_PRICE: 0.95..1.05 of the mark (-4016 / -4024 with the bound), on place and modify', async () => {
    const ref = mid(ub);
    const hi = Math.floor(ref * 1.05);
    const lo = Math.ceil(ref * 0.95);
    const ok1 = await usdm({ side: 'SELL', quantity: '0.002', price: upx(hi) });
    expect(ok1.status, ok1.text).toBe(200);
    const bad1 = await usdm({ side: 'SELL', quantity: '0.002', price: upx(hi + 1) });
    expect(bad1.json).toEqual({ code: -4016, msg: `Limit price can't be higher than ${upx(hi)}.` });
    const ok2 = await usdm({ side: 'BUY', quantity: '0.002', price: upx(lo), newClientOrderId: 'pp-lo' });
    expect(ok2.status, ok2.text).toBe(200);
    const bad2 = await usdm({ side: 'BUY', quantity: '0.002', price: upx(lo - 1) });
    expect(bad2.json).toEqual({ code: -4024, msg: `Limit price can't be lower than ${upx(lo)}.` });
    // the example: a limit buy at 50 %
    const half = await usdm({ side: 'BUY', quantity: '0.004', price: upx(Math.round(ref / 2)) });
    expect(half.json).toEqual({ code: -4024, msg: `Limit price can't be lower than ${upx(lo)}.` });
    const mod = await rest(
      t.usdm,
      'PUT',
      '/fapi/v1/order',
      { symbol: 'BTCUSDT', origClientOrderId: 'pp-lo', side: 'BUY', quantity: '0.002', price: upx(lo - 1) },
      { signed: true },
    );
    expect(mod.json).toEqual({ code: -4024, msg: `Limit price can't be lower than ${upx(lo)}.` });
    const big = await usdm({ side: 'SELL', quantity: '0.002', price: '1000000.1' });
    expect(big.json).toEqual({ code: -4002, msg: 'Price greater than max price.' });
    const api = await connect(t.usdm.wsApiUrl);
    try {
      api.send({
        id: 'ws-out',
        method: 'order.place',
        params: wsSigned(t.usdm, { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: upx(hi + 1) }),
      });
      expect(await api.next((j) => j.id === 'ws-out')).toMatchObject({ status: 400, error: { code: -4016 } });
    } finally {
      api.close();
    }
    await cancelAll();
  });

  it('USD-M MAX_NUM_ORDERS (-2025) and MAX_NUM_ALGO_ORDERS (-4045)', async () => {
    const api = await connect(t.usdm.wsApiUrl);
    try {
      const px = upx(Math.ceil(mid(ub) * 0.96));
      const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: px, newOrderRespType: 'ACK' };
      for (let i = 0; i < 200; i++) api.send({ id: `o${i}`, method: 'order.place', params: wsSigned(t.usdm, base) });
      for (let i = 0; i < 200; i++) expect(await api.next((j) => j.id === `o${i}`)).toMatchObject({ status: 200 });
      const over = await usdm({ side: 'BUY', quantity: '0.002', price: px });
      expect(over.json).toEqual({ code: -2025, msg: 'Reach max open order limit.' });
    } finally {
      api.close();
    }
    await cancelAll();
    const trig = upx(Math.ceil(mid(ub) * 1.02));
    const algo = () =>
      rest(
        t.usdm,
        'POST',
        '/fapi/v1/algoOrder',
        { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'BUY', type: 'STOP_MARKET', triggerPrice: trig, quantity: '0.002' },
        { signed: true },
      );
    for (let i = 0; i < 10; i++) {
      const r = await algo();
      expect(r.status, r.text).toBe(200);
    }
    expect((await algo()).json).toEqual({ code: -4045, msg: 'Reach max stop order limit.' });
    await rest(t.usdm, 'DELETE', '/fapi/v1/algoOpenOrders', { symbol: 'BTCUSDT' }, { signed: true });
    expect((await algo()).status).toBe(200);
  });
});
