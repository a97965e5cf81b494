// Bybit REST conformance: envelopes and shapes, signatures and recv window, Bybit's error codes for bad input,
// order flows (rest, partial fill, fill, cancel, cancel-all, 110072, reduce-only, min notional, post-only),
// rate-limit headers and 10006, injected HTTP statuses, IP limit.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startBybitSim, publicGet, signedGet, signedPost, shapeDiff, shapeSubset, fixture, type BybitSim } from './helpers.js';
import { DOC_INSTRUMENT_LINEAR, DOC_INSTRUMENT_SPOT, DOC_OPEN_ORDER, DOC_POSITION, DOC_TIME, DOC_WALLET } from './docs-examples.js';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';

let s: BybitSim;
const LOOSE = { create: { linear: 1000, spot: 1000 }, cancel: { linear: 1000, spot: 1000 }, cancelAll: { linear: 1000, spot: 1000 } };
beforeAll(async () => {
  // Bybit's real 10 creates/s per UID would throttle this file's own flows: the limit test uses its own venue
  s = await startBybitSim({ rateLimits: LOOSE });
});
afterAll(async () => {
  await s.close();
});

function book(cat: 'spot' | 'linear', sym: string): MatchingBook {
  return s.sim.books.get(cat === 'spot' ? 'bybitSpot' : 'bybitLinear')!.get(sym)!;
}
function fmt(cat: 'spot' | 'linear', sym: string): InstrumentFmt {
  return new InstrumentFmt(book(cat, sym).instrument, cat);
}
const ENVELOPE_KEYS = ['retCode', 'retMsg', 'result', 'retExtInfo', 'time'];
let linkSeq = 0;
const link = (p: string) => `${p}-${Date.now().toString(36)}-${++linkSeq}`;

describe('REST market data', () => {
  it('server time, instruments-info (linear and spot) and orderbook have Bybit shapes', async () => {
    const t = await publicGet(s.ep, '/v5/market/time');
    expect(t.status).toBe(200);
    expect(shapeDiff(DOC_TIME, t.json)).toEqual([]);
    expect(BigInt(t.json.result.timeNano) / 1_000_000n).toBe(BigInt(t.json.time));
    const li = await publicGet(s.ep, '/v5/market/instruments-info', 'category=linear&symbol=BTCUSDT');
    expect(Object.keys(li.json)).toEqual(ENVELOPE_KEYS);
    expect(li.json.result.list).toHaveLength(1);
    expect(shapeDiff(DOC_INSTRUMENT_LINEAR, li.json.result.list[0])).toEqual([]);
    expect(li.json.result.list[0].priceFilter.tickSize).toBe(book('linear', 'BTCUSDT').instrument.tickSize);
    const si = await publicGet(s.ep, '/v5/market/instruments-info', 'category=spot');
    expect(si.json.result.list.length).toBe(2);
    for (const it of si.json.result.list) expect(shapeDiff(DOC_INSTRUMENT_SPOT, it)).toEqual([]);
    const ob = await publicGet(s.ep, '/v5/market/orderbook', 'category=spot&symbol=ETHUSDT&limit=5');
    expect(ob.json.retCode).toBe(0);
    expect(Object.keys(ob.json.result)).toEqual(['s', 'b', 'a', 'ts', 'u', 'seq', 'cts']);
    expect(ob.json.result.b).toHaveLength(5);
    expect(typeof ob.json.result.u).toBe('number');
    const dflt = await publicGet(s.ep, '/v5/market/orderbook', 'category=linear&symbol=ETHUSDT');
    expect(dflt.json.result.b).toHaveLength(25);
  });

  it('bad market-data input gets 10001, unknown path 404, never a crash', async () => {
    const a = await publicGet(s.ep, '/v5/market/orderbook', 'category=linear&symbol=NOPEUSDT');
    expect(a.json.retCode).toBe(10001);
    const b = await publicGet(s.ep, '/v5/market/orderbook', 'category=futures&symbol=BTCUSDT');
    expect(b.json.retCode).toBe(10001);
    const c = await publicGet(s.ep, '/v5/market/orderbook', 'category=linear&symbol=BTCUSDT&limit=5000');
    expect(c.json.retCode).toBe(10001);
    const d = await publicGet(s.ep, '/v5/market/instruments-info', '');
    expect(d.json.retCode).toBe(10001);
    const e = await publicGet(s.ep, '/v5/market/nothing');
    expect(e.status).toBe(404);
    const t = await publicGet(s.ep, '/v5/market/time');
    expect(t.json.retCode).toBe(0);
  });
});

describe('REST auth', () => {
  it('a correctly signed GET and POST are accepted; tampered -> 10004; stale or future -> 10002; bad key -> 10003', async () => {
    const ok = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
    expect(ok.json.retCode).toBe(0);
    const okPost = await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', symbol: 'ETHUSDT' });
    expect(okPost.json.retCode).toBe(0);
    const bad = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT', { tamper: true });
    expect(bad.json.retCode).toBe(10004);
    expect(Object.keys(bad.json)).toEqual(ENVELOPE_KEYS);
    const badPost = await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', symbol: 'ETHUSDT' }, { secret: 'wrong' });
    expect(badPost.json.retCode).toBe(10004);
    const stale = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT', { timestamp: Date.now() - 6000 });
    expect(stale.json.retCode).toBe(10002);
    const wide = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT', { timestamp: Date.now() - 6000, recvWindow: '20000' });
    expect(wide.json.retCode).toBe(0);
    const future = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT', { timestamp: Date.now() + 5000 });
    expect(future.json.retCode).toBe(10002);
    const key = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT', { apiKey: 'nope' });
    expect(key.json.retCode).toBe(10003);
    const none = await fetch(`${s.ep.restBaseUrl}/v5/order/realtime?category=linear&symbol=BTCUSDT`);
    expect(((await none.json()) as { retCode: number }).retCode).toBe(10003);
  });

  it('a body over 64 KiB gets 413, the server keeps serving', async () => {
    const r = await signedPost(s.ep, '/v5/order/create', JSON.stringify({ category: 'linear', pad: 'x'.repeat(70_000) }));
    expect(r.status).toBe(413);
    expect((await publicGet(s.ep, '/v5/market/time')).status).toBe(200);
  });

  it('the signature covers the exact raw query string (reordered params -> 10004)', async () => {
    const q1 = 'category=linear&symbol=BTCUSDT';
    const ts = String(Date.now());
    const { createHmac } = await import('node:crypto');
    const sig = createHmac('sha256', s.ep.apiSecret)
      .update(ts + s.ep.apiKey + '5000' + q1)
      .digest('hex');
    const r = await fetch(`${s.ep.restBaseUrl}/v5/order/realtime?symbol=BTCUSDT&category=linear`, {
      headers: { 'X-BAPI-API-KEY': s.ep.apiKey, 'X-BAPI-TIMESTAMP': ts, 'X-BAPI-SIGN': sig },
    });
    expect(((await r.json()) as { retCode: number }).retCode).toBe(10004);
  });
});

describe('REST orders', () => {
  it('bad order input gets Bybit codes: 10001 param errors, unknown symbol, malformed JSON', async () => {
    const cases: Array<[unknown, number]> = [
      [{ category: 'linear', symbol: 'NOPEUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '1' }, 10001],
      [{ category: 'linear', symbol: 'BTCUSDT', orderType: 'Limit', qty: '0.01', price: '1000' }, 10001],
      [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01' }, 10001],
      [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Stop', qty: '0.01', price: '1000' }, 10001],
      [{ symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '1000' }, 10001],
      [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.0001', price: '95000' }, 10001],
      [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '95000', positionIdx: 1 }, 10001],
      [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.001', price: '95000' }, 110094],
      [{ category: 'spot', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.000001', price: '95000' }, 170137],
      [{ category: 'spot', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.00001', price: '95000.001' }, 170134],
      [{ category: 'spot', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.00002', price: '95000' }, 170140],
      [{ category: 'linear', symbol: 'ETHUSDT', side: 'Sell', orderType: 'Market', qty: '0.1', reduceOnly: true }, 110017],
      [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01', triggerPrice: '99000', triggerDirection: 3 }, 10001],
      ['{"category":"linear",', 10001],
      ['[1,2]', 10001],
    ];
    for (const [body, code] of cases) {
      const r = await signedPost(s.ep, '/v5/order/create', body);
      expect([JSON.stringify(body), r.json.retCode]).toEqual([JSON.stringify(body), code]);
      expect(Object.keys(r.json)).toEqual(ENVELOPE_KEYS);
      expect(r.json.result).toEqual({});
    }
  });

  it('create (rests), realtime by id/link, duplicate orderLinkId 110072, cancel, cancel again 110001', async () => {
    const f = fmt('linear', 'BTCUSDT');
    const bid = book('linear', 'BTCUSDT').bestBid()!;
    const px = f.price(bid.priceTicks - 500 * f.tickUnits);
    const id = link('rest');
    const c = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.01',
      price: px,
      orderLinkId: id,
      timeInForce: 'GTC',
      positionIdx: 0,
    });
    expect(c.json.retCode).toBe(0);
    expect(Object.keys(c.json.result)).toEqual(['orderId', 'orderLinkId']);
    expect(c.json.result.orderLinkId).toBe(id);
    for (const h of ['x-bapi-limit', 'x-bapi-limit-status', 'x-bapi-limit-reset-timestamp']) expect(c.headers.get(h)).toMatch(/^\d+$/);
    const rt = await signedGet(s.ep, '/v5/order/realtime', `category=linear&symbol=BTCUSDT`);
    expect(rt.json.retCode).toBe(0);
    const mine = rt.json.result.list.find((o: any) => o.orderLinkId === id);
    expect(mine).toBeDefined();
    expect(shapeSubset(DOC_OPEN_ORDER, mine)).toEqual([]);
    expect(mine.orderStatus).toBe('New');
    expect(mine.price).toBe(px);
    expect(mine.qty).toBe('0.010');
    expect(Object.keys(rt.json.result).sort()).toEqual(['category', 'list', 'nextPageCursor']);
    const byLink = await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderLinkId=${id}`);
    expect(byLink.json.result.list[0].orderId).toBe(c.json.result.orderId);
    const dup = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.01',
      price: px,
      orderLinkId: id,
    });
    expect(dup.json.retCode).toBe(110072);
    const x = await signedPost(s.ep, '/v5/order/cancel', { category: 'linear', symbol: 'BTCUSDT', orderLinkId: id });
    expect(x.json.retCode).toBe(0);
    expect(x.json.result).toEqual({ orderId: c.json.result.orderId, orderLinkId: id });
    const again = await signedPost(s.ep, '/v5/order/cancel', { category: 'linear', symbol: 'BTCUSDT', orderId: c.json.result.orderId });
    expect(again.json.retCode).toBe(110001);
    const spotMissing = await signedPost(s.ep, '/v5/order/cancel', { category: 'spot', symbol: 'BTCUSDT', orderId: '123' });
    expect(spotMissing.json.retCode).toBe(170213);
    const dupAfter = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.01',
      price: px,
      orderLinkId: id,
    });
    expect(dupAfter.json.retCode).toBe(110072);
    const closed = await signedGet(s.ep, '/v5/order/realtime', `category=linear&symbol=BTCUSDT&openOnly=1`);
    const cl = closed.json.result.list.find((o: any) => o.orderLinkId === id);
    expect(cl.orderStatus).toBe('Cancelled');
    expect(cl.cancelType).toBe('CancelByUser');
  });

  it('partial fill then fill by crossing the synthetic liquidity; executions and position follow', async () => {
    const b = book('linear', 'ETHUSDT');
    const f = fmt('linear', 'ETHUSDT');
    const ask = b.bestAsk()!;
    const qtyLots = ask.qtyLots + 5 * f.stepUnits;
    const id = link('pf');
    const c = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'ETHUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: f.qty(qtyLots),
      price: f.price(ask.priceTicks),
      orderLinkId: id,
    });
    expect(c.json.retCode).toBe(0);
    const o = (await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderId=${c.json.result.orderId}`)).json.result.list[0];
    expect(o.orderStatus).toBe('PartiallyFilled');
    expect(o.cumExecQty).toBe(f.qty(ask.qtyLots));
    expect(o.leavesQty).toBe(f.qty(5 * f.stepUnits));
    expect(o.avgPrice).toBe(f.price(ask.priceTicks));
    // the rest rests at the top of the bid side; a market sell of ours elsewhere is not needed: cancel it
    const x = await signedPost(s.ep, '/v5/order/cancel', { category: 'linear', symbol: 'ETHUSDT', orderId: c.json.result.orderId });
    expect(x.json.retCode).toBe(0);
    const mkt = await signedPost(s.ep, '/v5/order/create', { category: 'linear', symbol: 'ETHUSDT', side: 'Buy', orderType: 'Market', qty: '0.010' });
    expect(mkt.json.retCode).toBe(0);
    const m = (await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderId=${mkt.json.result.orderId}`)).json.result.list[0];
    expect(m.orderStatus).toBe('Filled');
    expect(m.cumExecQty).toBe('0.010');
    const ex = await signedGet(s.ep, '/v5/execution/list', `category=linear&symbol=ETHUSDT`);
    expect(ex.json.retCode).toBe(0);
    const item = ex.json.result.list.find((e: any) => e.orderId === mkt.json.result.orderId);
    const { category: _c, ...docExec } = fixture('docs_private_execution_message.json').data[0];
    expect(shapeDiff(docExec, item)).toEqual([]);
    expect(item.execQty).toBe('0.010');
    const pos = await signedGet(s.ep, '/v5/position/list', 'category=linear&symbol=ETHUSDT');
    expect(pos.json.retCode).toBe(0);
    expect(shapeSubset(DOC_POSITION, pos.json.result.list[0])).toEqual([]);
    expect(pos.json.result.list[0].side).toBe('Buy');
    expect(Number(pos.json.result.list[0].size)).toBeGreaterThan(0);
    const reduce = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'ETHUSDT',
      side: 'Sell',
      orderType: 'Market',
      qty: '0.010',
      reduceOnly: true,
    });
    expect(reduce.json.retCode).toBe(0);
    const wal = await signedGet(s.ep, '/v5/account/wallet-balance', 'accountType=UNIFIED&coin=USDT');
    expect(wal.json.retCode).toBe(0);
    expect(shapeSubset(DOC_WALLET, wal.json.result.list[0])).toEqual([]);
    expect(wal.json.result.list[0].coin).toHaveLength(1);
    const badWal = await signedGet(s.ep, '/v5/account/wallet-balance', 'accountType=SPOT');
    expect(badWal.json.retCode).toBe(10001);
  });

  it('spot market buy spends a quote amount; PostOnly that would take is accepted then Cancelled', async () => {
    const mk = await signedPost(s.ep, '/v5/order/create', { category: 'spot', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '200' });
    expect(mk.json.retCode).toBe(0);
    const o = (await signedGet(s.ep, '/v5/order/realtime', `category=spot&orderId=${mk.json.result.orderId}`)).json.result.list[0];
    expect(o.orderStatus).toBe('Filled');
    expect(Number(o.cumExecValue)).toBeGreaterThan(190);
    expect(Number(o.cumExecValue)).toBeLessThanOrEqual(200);
    const b = book('spot', 'BTCUSDT');
    const f = fmt('spot', 'BTCUSDT');
    const po = await signedPost(s.ep, '/v5/order/create', {
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.001',
      price: f.price(b.bestAsk()!.priceTicks),
      timeInForce: 'PostOnly',
    });
    expect(po.json.retCode).toBe(0);
    const p = (await signedGet(s.ep, '/v5/order/realtime', `category=spot&orderId=${po.json.result.orderId}`)).json.result.list[0];
    expect(p.orderStatus).toBe('Cancelled');
    expect(p.rejectReason).toBe('EC_PostOnlyWillTakeLiquidity');
  });

  it('cancel-all cancels every open order of the symbol; linear without symbol/settleCoin -> 10001', async () => {
    const f = fmt('linear', 'BTCUSDT');
    const bid = book('linear', 'BTCUSDT').bestBid()!;
    for (let i = 0; i < 3; i++) {
      const r = await signedPost(s.ep, '/v5/order/create', {
        category: 'linear',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.01',
        price: f.price(bid.priceTicks - (300 + i) * f.tickUnits),
      });
      expect(r.json.retCode).toBe(0);
    }
    const missing = await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear' });
    expect(missing.json.retCode).toBe(10001);
    const all = await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', symbol: 'BTCUSDT' });
    expect(all.json.retCode).toBe(0);
    expect(all.json.result.success).toBe('1');
    expect(all.json.result.list.length).toBe(3);
    for (const it of all.json.result.list) expect(Object.keys(it)).toEqual(['orderId', 'orderLinkId']);
    const rt = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
    expect(rt.json.result.list).toEqual([]);
    const settle = await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', settleCoin: 'USDT' });
    expect(settle.json.retCode).toBe(0);
  });

  it('order history lists closed and open orders, newest first, filterable by orderLinkId', async () => {
    const id = link('hist');
    const c = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'ETHUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '0.010',
      orderLinkId: id,
    });
    expect(c.json.retCode).toBe(0);
    const h = await signedGet(s.ep, '/v5/order/history', 'category=linear&symbol=ETHUSDT&limit=50');
    expect(h.json.retCode).toBe(0);
    expect(h.json.result.list[0].orderId).toBe(c.json.result.orderId);
    expect(h.json.result.list[0].orderStatus).toBe('Filled');
    expect(shapeSubset(DOC_OPEN_ORDER, h.json.result.list[0])).toEqual([]);
    const one = await signedGet(s.ep, '/v5/order/history', `category=linear&orderLinkId=${id}`);
    expect(one.json.result.list).toHaveLength(1);
  });

  it('realtime pages with limit and cursor', async () => {
    const f = fmt('linear', 'ETHUSDT');
    const bid = book('linear', 'ETHUSDT').bestBid()!;
    for (let i = 0; i < 5; i++) {
      await signedPost(s.ep, '/v5/order/create', {
        category: 'linear',
        symbol: 'ETHUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.01',
        price: f.price(bid.priceTicks - (200 + i) * f.tickUnits),
      });
    }
    const p1 = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=ETHUSDT&limit=3');
    expect(p1.json.result.list).toHaveLength(3);
    expect(p1.json.result.nextPageCursor).not.toBe('');
    const p2 = await signedGet(s.ep, '/v5/order/realtime', `category=linear&symbol=ETHUSDT&limit=3&cursor=${p1.json.result.nextPageCursor}`);
    expect(p2.json.result.list).toHaveLength(2);
    expect(p2.json.result.nextPageCursor).toBe('');
    await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', symbol: 'ETHUSDT' });
  });
});

describe('REST limits and injected faults', () => {
  it('per-UID per-endpoint limit: headers count down, then 10006 "Too many visits!"', async () => {
    const t = await startBybitSim({
      rateLimits: { windowMs: 60_000, create: { linear: 3, spot: 3 }, cancel: { linear: 3, spot: 3 }, cancelAll: { linear: 3, spot: 3 } },
    });
    try {
      const statuses: string[] = [];
      let last: any;
      for (let i = 0; i < 4; i++) {
        last = await signedPost(t.ep, '/v5/order/create', {
          category: 'linear',
          symbol: 'BTCUSDT',
          side: 'Buy',
          orderType: 'Limit',
          qty: '0.01',
          price: '90000',
        });
        statuses.push(last.headers.get('x-bapi-limit-status'));
      }
      expect(statuses).toEqual(['2', '1', '0', '0']);
      expect(last.json.retCode).toBe(10006);
      expect(last.json.retMsg).toBe('Too many visits!');
      expect(last.headers.get('x-bapi-limit')).toBe('3');
      expect(Number(last.headers.get('x-bapi-limit-reset-timestamp'))).toBeGreaterThan(Date.now() - 1000);
      // other endpoints have their own budget
      const q = await signedGet(t.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
      expect(q.json.retCode).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('httpStatus faults answer 429/5xx; the IP limit answers 403', async () => {
    const t = await startBybitSim({ rateLimits: { ipPer5s: 4 } });
    try {
      t.sim.inject({ kind: 'httpStatus', market: 'bybitLinear', status: 503 });
      const a = await publicGet(t.ep, '/v5/market/time');
      expect(a.status).toBe(503);
      t.sim.inject({ kind: 'httpStatus', market: 'bybitLinear', status: 429, retryAfterSec: 2 });
      const b = await signedGet(t.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
      expect(b.status).toBe(429);
      const c = await publicGet(t.ep, '/v5/market/time');
      expect(c.status).toBe(200);
      await publicGet(t.ep, '/v5/market/time');
      const d = await publicGet(t.ep, '/v5/market/time');
      expect(d.status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('latencyMs delays order answers without changing them; clockSkewMs moves the recv window', async () => {
    s.sim.inject({ kind: 'latencyMs', market: 'bybitLinear', ms: 50 });
    const r = await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', symbol: 'BTCUSDT' });
    expect(r.json.retCode).toBe(0);
    s.sim.inject({ kind: 'clockSkewMs', market: 'bybitLinear', ms: 10_000 });
    const skewed = await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT');
    expect(skewed.json.retCode).toBe(10002);
    const t = await publicGet(s.ep, '/v5/market/time', '');
    expect(t.json.time).toBeGreaterThan(Date.now() + 5000);
    s.sim.clear();
  });
});

describe('REST amend', () => {
  it('amend keeps the orderId, changes price and qty, keeps fills; 110063, 110001, unchanged -> 10001', async () => {
    const b = book('linear', 'ETHUSDT');
    const f = fmt('linear', 'ETHUSDT');
    const ask = b.bestAsk()!;
    // partially filled resting buy
    const c = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'ETHUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: f.qty(ask.qtyLots + 10 * f.stepUnits),
      price: f.price(ask.priceTicks),
      orderLinkId: link('am'),
    });
    expect(c.json.retCode).toBe(0);
    const id = c.json.result.orderId;
    const before = (await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderId=${id}`)).json.result.list[0];
    expect(before.orderStatus).toBe('PartiallyFilled');
    const lower = f.price(b.bestBid()!.priceTicks - 50 * f.tickUnits);
    const newQty = f.qty(ask.qtyLots + 20 * f.stepUnits);
    const am = await signedPost(s.ep, '/v5/order/amend', { category: 'linear', symbol: 'ETHUSDT', orderId: id, price: lower, qty: newQty });
    expect(am.json.retCode).toBe(0);
    expect(am.json.result).toEqual({ orderId: id, orderLinkId: c.json.result.orderLinkId });
    const after = (await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderId=${id}`)).json.result.list[0];
    expect(after.price).toBe(lower);
    expect(after.qty).toBe(newQty);
    expect(after.cumExecQty).toBe(before.cumExecQty);
    expect(after.leavesQty).toBe(f.qty(20 * f.stepUnits));
    expect(after.orderStatus).toBe('PartiallyFilled');
    expect(after.createdTime).toBe(before.createdTime);
    const open = (await signedGet(s.ep, '/v5/order/realtime', 'category=linear&symbol=ETHUSDT')).json.result.list;
    expect(open.filter((o: any) => o.orderId === id)).toHaveLength(1);
    const same = await signedPost(s.ep, '/v5/order/amend', { category: 'linear', symbol: 'ETHUSDT', orderId: id, price: lower });
    expect(same.json.retCode).toBe(10001);
    const tooSmall = await signedPost(s.ep, '/v5/order/amend', { category: 'linear', symbol: 'ETHUSDT', orderId: id, qty: before.cumExecQty });
    expect(tooSmall.json.retCode).toBe(110063);
    const again = await signedPost(s.ep, '/v5/order/amend', {
      category: 'linear',
      symbol: 'ETHUSDT',
      orderLinkId: c.json.result.orderLinkId,
      qty: f.qty(ask.qtyLots + 30 * f.stepUnits),
    });
    expect(again.json.retCode).toBe(0);
    expect(again.json.result.orderId).toBe(id);
    const x = await signedPost(s.ep, '/v5/order/cancel', { category: 'linear', symbol: 'ETHUSDT', orderId: id });
    expect(x.json.retCode).toBe(0);
    const gone = await signedPost(s.ep, '/v5/order/amend', { category: 'linear', symbol: 'ETHUSDT', orderId: id, qty: '1' });
    expect(gone.json.retCode).toBe(110001);
    const closed = (await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderId=${id}`)).json.result.list[0];
    expect(closed.orderStatus).toBe('Cancelled');
    expect(closed.cumExecQty).toBe(before.cumExecQty);
  });
});

describe('REST batch', () => {
  it('create-batch / amend-batch / cancel-batch: list + retExtInfo.list per item, failures in place', async () => {
    const f = fmt('linear', 'BTCUSDT');
    const bid = book('linear', 'BTCUSDT').bestBid()!;
    const px = (k: number) => f.price(bid.priceTicks - k * f.tickUnits);
    const l1 = link('b1');
    const cb = await signedPost(s.ep, '/v5/order/create-batch', {
      category: 'linear',
      request: [
        { symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px(300), orderLinkId: l1 },
        { symbol: 'NOPEUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px(300) },
        { symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px(301) },
      ],
    });
    expect(cb.json.retCode).toBe(0);
    const doc = {
      retCode: 0,
      retMsg: 'OK',
      result: { list: [{ category: 'linear', symbol: 'BTCUSDT', orderId: 'x', orderLinkId: 'y', createAt: '1' }] },
      retExtInfo: { list: [{ code: 0, msg: 'OK' }] },
      time: 1,
    };
    expect(shapeDiff(doc, cb.json)).toEqual([]);
    expect(cb.json.retExtInfo.list.map((x: any) => x.code)).toEqual([0, 10001, 0]);
    expect(cb.json.result.list[1].orderId).toBe('');
    const [a, , c] = cb.json.result.list;
    const ab = await signedPost(s.ep, '/v5/order/amend-batch', { category: 'linear', request: [{ symbol: 'BTCUSDT', orderId: a.orderId, qty: '0.02' }] });
    expect(ab.json.retExtInfo.list[0].code).toBe(0);
    expect(Object.keys(ab.json.result.list[0])).toEqual(['category', 'symbol', 'orderId', 'orderLinkId']);
    const xb = await signedPost(s.ep, '/v5/order/cancel-batch', {
      category: 'linear',
      request: [
        { symbol: 'BTCUSDT', orderId: a.orderId },
        { symbol: 'BTCUSDT', orderLinkId: l1 },
        { symbol: 'BTCUSDT', orderId: c.orderId },
      ],
    });
    expect(xb.json.retExtInfo.list.map((x: any) => x.code)).toEqual([0, 110001, 0]);
    const tooMany = await signedPost(s.ep, '/v5/order/create-batch', { category: 'spot', request: Array.from({ length: 11 }, () => ({ symbol: 'BTCUSDT' })) });
    expect(tooMany.json.retCode).toBe(10001);
  });
});
