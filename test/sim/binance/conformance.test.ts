/**
 * Conformance of every Binance message the simulator sends to the recorded real messages in
 * ../shared/exchange/fixtures/binance (same keys, same JSON types), and the sequencing rules of the documented
 * local-order-book algorithms (Spot: U == prev u + 1; USD-M: pu == prev u; REST lastUpdateId lines up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { captureFrames, connect, fixture, rest, shapeDiff, startTestSim, wsSigned, type TestSim } from './helpers.js';

type Depth = { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
type Diff = { e: string; U: number; u: number; pu?: number; b: [string, string][]; a: [string, string][] };

const spotCap = captureFrames('spot_capture_2021-10-12_cryptofeed.ndjson');
const usdmCap = captureFrames('usdm_capture_2021-07-22_cryptofeed.ndjson');
function cap(frames: ReturnType<typeof captureFrames>, suffix: string): unknown {
  const f = frames.find((x) => x.kind === 'ws' && x.stream!.endsWith(suffix));
  if (!f) throw new Error('no recorded ' + suffix);
  return f.data;
}
function capHttp(frames: ReturnType<typeof captureFrames>): unknown {
  return frames.find((x) => x.kind === 'http')!.data;
}
/** the inner event of a fixture that wraps it in {"stream","data"} */
function inner(name: string): unknown {
  return (fixture(name) as { data: unknown }).data;
}

/** Local book per the documented algorithm; returns the top `n` levels as strings. */
class LocalBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  id = 0;
  constructor(snap: Depth) {
    for (const [p, q] of snap.bids) this.bids.set(p, q);
    for (const [p, q] of snap.asks) this.asks.set(p, q);
    this.id = snap.lastUpdateId;
  }
  apply(d: Diff): void {
    for (const [p, q] of d.b) Number(q) === 0 ? this.bids.delete(p) : this.bids.set(p, q);
    for (const [p, q] of d.a) Number(q) === 0 ? this.asks.delete(p) : this.asks.set(p, q);
    this.id = d.u;
  }
  top(n: number): { bids: [string, string][]; asks: [string, string][] } {
    const b = [...this.bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, n);
    const a = [...this.asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, n);
    return { bids: b, asks: a };
  }
}

describe('binance sim conformance', () => {
  let t: TestSim;
  let spotBook: MatchingBook;
  let usdmBook: MatchingBook;
  beforeAll(async () => {
    t = await startTestSim({}, { rate: 5000 });
    spotBook = t.sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    usdmBook = t.sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
  });
  afterAll(async () => t?.sim.close());

  it('Spot streams: bookTicker, depthUpdate, trade, aggTrade, partial depth match the recorded shapes; U == prev u + 1; the sync algorithm rebuilds the book', async () => {
    const c = await connect(`${t.spot.wsStreamBaseUrl}/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@trade/btcusdt@aggTrade`);
    const raw = await connect(`${t.spot.wsStreamBaseUrl}/ws/btcusdt@depth`);
    try {
      t.sim.generator.produce(300);
      const snap = (await rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 1000 })).json as Depth;
      expect(shapeDiff(capHttp(spotCap), snap)).toEqual([]);
      t.sim.generator.produce(300);
      // a market buy makes public trades
      expect((await rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' }, { signed: true })).status).toBe(
        200,
      );
      const end = (await rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 1000 })).json as Depth;
      const bt = await c.next<{ stream: string; data: unknown }>((j) => j.stream === 'btcusdt@bookTicker');
      expect(shapeDiff(cap(spotCap, '@bookTicker'), bt.data)).toEqual([]);
      const tr = await c.next<{ data: unknown }>((j) => j.stream === 'btcusdt@trade');
      expect(Object.keys(tr.data as object).sort()).toEqual(['E', 'M', 'T', 'e', 'm', 'p', 'q', 's', 't'].sort());
      const ag = await c.next<{ data: unknown }>((j) => j.stream === 'btcusdt@aggTrade');
      expect(shapeDiff(cap(spotCap, '@aggTrade'), ag.data)).toEqual([]);
      // every diff up to the end snapshot
      const diffs: Diff[] = [];
      for (;;) {
        const d = await c.next<{ stream: string; data: Diff }>((j) => j.stream === 'btcusdt@depth@100ms');
        expect(shapeDiff(cap(spotCap, '@depth@100ms'), d.data)).toEqual([]);
        diffs.push(d.data);
        if (d.data.u >= end.lastUpdateId) break;
      }
      for (let i = 1; i < diffs.length; i++) expect(diffs[i]!.U).toBe(diffs[i - 1]!.u + 1);
      // documented algorithm from the first snapshot
      const kept = diffs.filter((d) => d.u > snap.lastUpdateId);
      expect(kept[0]!.U <= snap.lastUpdateId + 1 && snap.lastUpdateId + 1 <= kept[0]!.u).toBe(true);
      const lb = new LocalBook(snap);
      for (const d of kept) {
        expect(d.U).toBe(lb.id + 1);
        lb.apply(d);
      }
      expect(lb.id).toBe(end.lastUpdateId);
      expect(lb.top(20)).toEqual({ bids: end.bids.slice(0, 20), asks: end.asks.slice(0, 20) });
      // the raw connection got the same frames (no wrapper)
      const r = await raw.next<Diff>((j) => j.e === 'depthUpdate');
      expect(r.U).toBe(diffs[0]!.U);
    } finally {
      c.close();
      raw.close();
    }
  });

  it('Spot partial depth and live SUBSCRIBE / LIST_SUBSCRIPTIONS / UNSUBSCRIBE', async () => {
    const c = await connect(`${t.spot.wsStreamBaseUrl}/ws`);
    try {
      c.send({ method: 'SUBSCRIBE', params: ['btcusdt@depth5@100ms', 'ethusdt@bookTicker'], id: 1 });
      expect(await c.next((j) => j.id === 1)).toEqual({ result: null, id: 1 });
      c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
      const l = await c.next<{ result: string[] }>((j) => j.id === 2);
      expect(l.result.sort()).toEqual(['btcusdt@depth5@100ms', 'ethusdt@bookTicker']);
      const p = await c.next<Depth>((j) => j.lastUpdateId !== undefined);
      expect(shapeDiff(capHttp(spotCap), p)).toEqual([]);
      expect(p.bids.length).toBe(5);
      c.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@depth5@100ms'], id: 3 });
      expect(await c.next((j) => j.id === 3)).toEqual({ result: null, id: 3 });
      c.send('not json');
      expect((await c.next<{ error: { code: number } }>((j) => j.error !== undefined)).error.code).toBe(3);
    } finally {
      c.close();
    }
  });

  it('USD-M streams: bookTicker (e,u,E,T), depthUpdate (U,u,pu,E,T) on /public, aggTrade on /market, pu == prev u, wrong route silent', async () => {
    const pub = await connect(`${t.usdm.wsStreamBaseUrl}/public/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms`);
    const mkt = await connect(`${t.usdm.wsStreamBaseUrl}/market/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms`);
    const legacy = await connect(`${t.usdm.wsStreamBaseUrl}/ws/btcusdt@depth@100ms`);
    try {
      t.sim.generator.produce(300);
      const snap = (await rest(t.usdm, 'GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: 1000 })).json as Depth;
      expect(shapeDiff(capHttp(usdmCap), snap)).toEqual([]);
      t.sim.generator.produce(300);
      expect(
        (await rest(t.usdm, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.01' }, { signed: true })).status,
      ).toBe(200);
      const end = (await rest(t.usdm, 'GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: 1000 })).json as Depth;
      const bt = await pub.next<{ data: unknown }>((j) => j.stream === 'btcusdt@bookTicker');
      expect(shapeDiff(cap(usdmCap, '@bookTicker'), bt.data)).toEqual([]);
      const ag = await mkt.next<{ data: unknown }>((j) => j.stream === 'btcusdt@aggTrade');
      expect(shapeDiff(cap(usdmCap, '@aggTrade'), ag.data, { extra: ['nq'] })).toEqual([]);
      const diffs: Diff[] = [];
      for (;;) {
        const d = await pub.next<{ data: Diff }>((j) => j.stream === 'btcusdt@depth@100ms');
        expect(shapeDiff(cap(usdmCap, '@depth@100ms'), d.data)).toEqual([]);
        diffs.push(d.data);
        if (d.data.u >= end.lastUpdateId) break;
      }
      for (let i = 1; i < diffs.length; i++) expect(diffs[i]!.pu).toBe(diffs[i - 1]!.u);
      const kept = diffs.filter((d) => d.u >= snap.lastUpdateId);
      expect(kept[0]!.U <= snap.lastUpdateId && snap.lastUpdateId <= kept[0]!.u).toBe(true);
      const lb = new LocalBook(snap);
      for (const d of kept) lb.apply(d);
      expect(lb.top(20)).toEqual({ bids: end.bids.slice(0, 20), asks: end.asks.slice(0, 20) });
      // book streams on /market and on the legacy URL are accepted but silent
      expect(mkt.raw().filter((m) => m.includes('depthUpdate'))).toEqual([]);
      expect(legacy.raw()).toEqual([]);
    } finally {
      pub.close();
      mkt.close();
      legacy.close();
    }
  });

  it('exchangeInfo: filters and rateLimits look like the real ones', async () => {
    const s = (await rest(t.spot, 'GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT' })).json as {
      rateLimits: Array<{ rateLimitType: string }>;
      symbols: Array<{ symbol: string; filters: Array<Record<string, unknown>> }>;
    };
    expect(s.rateLimits.map((r) => r.rateLimitType)).toEqual(['REQUEST_WEIGHT', 'ORDERS', 'ORDERS', 'RAW_REQUESTS']);
    const f = Object.fromEntries(s.symbols[0]!.filters.map((x) => [x['filterType'], x]));
    expect(f['PRICE_FILTER']).toMatchObject({ tickSize: '0.01000000' });
    expect(f['LOT_SIZE']).toMatchObject({ stepSize: '0.00001000', minQty: '0.00001000' });
    expect(f['NOTIONAL']).toMatchObject({ minNotional: '5.00000000' });
    const u = (await rest(t.usdm, 'GET', '/fapi/v1/exchangeInfo')).json as { symbols: Array<{ symbol: string; filters: Array<Record<string, unknown>> }> };
    const uf = Object.fromEntries(u.symbols.find((x) => x.symbol === 'BTCUSDT')!.filters.map((x) => [x['filterType'], x]));
    expect(uf['PRICE_FILTER']).toMatchObject({ tickSize: '0.10' });
    expect(uf['MIN_NOTIONAL']).toMatchObject({ notional: '100' });
  });

  it('Spot order responses, WS API responses, executionReport and outboundAccountPosition match the recorded shapes', async () => {
    const api = await connect(t.spot.wsApiUrl);
    try {
      api.send({ id: 'sub', method: 'userDataStream.subscribe.signature', params: wsSigned(t.spot, {}) });
      const sub = await api.next<{ result: { subscriptionId: number } }>((j) => j.id === 'sub');
      const sid = sub.result.subscriptionId;
      const bid = spotBook.bestBidPrice();
      const px = ((bid - 100_00) / 100).toFixed(2);
      const ok = fixture('docs_wsapi_order_place_response_ok.json') as Record<string, unknown>;
      api.send({
        id: ok['id'],
        method: 'order.place',
        params: wsSigned(t.spot, {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.001',
          price: px,
          newOrderRespType: 'RESULT',
        }),
      });
      const placed = await api.next<{ result: { orderId: number } }>((j) => j.id === ok['id']);
      expect(shapeDiff(ok, placed)).toEqual([]);
      const wrapped = fixture('docs_spot_execution_report_wrapped.json');
      const erNew = await api.next<{ subscriptionId: number; event: { x: string } }>((j) => j.event?.e === 'executionReport');
      expect(erNew.subscriptionId).toBe(sid);
      expect(shapeDiff(wrapped, erNew, { nullable: ['N'] })).toEqual([]);
      expect(shapeDiff(fixture('docs_spot_execution_report_new.json'), erNew.event, { extra: Object.keys((wrapped as { event: object }).event) })).toEqual([]);
      const cancel = await rest(
        t.spot,
        'DELETE',
        '/api/v3/order',
        { symbol: 'BTCUSDT', orderId: placed.result.orderId, newClientOrderId: 'cancel-1' },
        { signed: true },
      );
      expect(cancel.status).toBe(200);
      expect((cancel.json as { status: string }).status).toBe('CANCELED');
      const erCx = await api.next<{ event: { x: string; c: string; C: string } }>((j) => j.event?.x === 'CANCELED');
      expect(erCx.event.c).toBe('cancel-1');
      expect(erCx.event.C).toBe((placed.result as unknown as { clientOrderId: string }).clientOrderId);
      expect(shapeDiff(fixture('docs_spot_execution_report_canceled.json'), erCx.event, { extra: Object.keys((wrapped as { event: object }).event) })).toEqual(
        [],
      );
      // error reply shape
      const errFx = fixture('docs_wsapi_order_place_response_error_-2010.json') as Record<string, unknown>;
      api.send({
        id: errFx['id'],
        method: 'order.place',
        params: wsSigned(t.spot, {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT_MAKER',
          quantity: '0.001',
          price: ((spotBook.bestAskPrice() + 100) / 100).toFixed(2),
        }),
      });
      const err = await api.next<{ status: number; error: { code: number; msg: string } }>((j) => j.id === errFx['id']);
      expect(shapeDiff(errFx, err)).toEqual([]);
      expect(err.error).toEqual({ code: -2010, msg: 'Order would immediately match and take.' });
      // MARKET FULL over REST: response with fills, TRADE report, account position
      const full = await rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002' }, { signed: true });
      expect(full.status).toBe(200);
      expect(shapeDiff(fixture('docs_spot_rest_new_order_full_response.json'), full.json)).toEqual([]);
      expect(full.headers.get('x-mbx-order-count-10s')).toMatch(/^\d+$/);
      expect(full.headers.get('x-mbx-order-count-1d')).toMatch(/^\d+$/);
      const erTr = await api.next<{ event: { X: string } }>((j) => j.event?.x === 'TRADE');
      expect(
        shapeDiff(fixture('docs_spot_execution_report_trade.json'), erTr.event, { extra: Object.keys((wrapped as { event: object }).event), nullable: ['N'] }),
      ).toEqual([]);
      const pos = await api.next<{ event: { e: string; B: Array<{ a: string; f: string; l: string }> } }>((j) => j.event?.e === 'outboundAccountPosition');
      expect(Object.keys(pos.event).sort()).toEqual(['B', 'E', 'e', 'u']);
      expect(Object.keys(pos.event.B[0]!).sort()).toEqual(['a', 'f', 'l']);
      // REST GET order / openOrders / account
      expect((await rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: placed.result.orderId }, { signed: true })).json).toMatchObject({
        status: 'CANCELED',
        isWorking: false,
      });
    } finally {
      api.close();
    }
  });

  it('USD-M order responses, ORDER_TRADE_UPDATE, TRADE_LITE, ACCOUNT_UPDATE, ALGO_UPDATE match the recorded shapes', async () => {
    const lk = (await rest(t.usdm, 'POST', '/fapi/v1/listenKey')).json as { listenKey: string };
    expect(lk.listenKey).toMatch(/^[A-Za-z0-9]{64}$/);
    const priv = await connect(
      `${t.usdm.wsStreamBaseUrl}/private/ws?listenKey=${lk.listenKey}&events=ORDER_TRADE_UPDATE/TRADE_LITE/ACCOUNT_UPDATE/ALGO_UPDATE`,
    );
    try {
      const bid = usdmBook.bestBidPrice();
      const px = ((bid - 1000) / 10).toFixed(1);
      const placed = await rest(
        t.usdm,
        'POST',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: px, newOrderRespType: 'RESULT' },
        { signed: true },
      );
      expect(placed.status).toBe(200);
      const want = { ...(fixture('docs_usdm_rest_order_response.json') as Record<string, unknown>) };
      delete want['avgPrice'];
      delete want['cumQuote'];
      expect(shapeDiff(want, placed.json)).toEqual([]);
      const otuNew = await priv.next<{ o: { x: string } }>((j) => j.e === 'ORDER_TRADE_UPDATE' && j.o.x === 'NEW');
      expect(shapeDiff(fixture('docs_usdm_order_trade_update_new.json'), otuNew, { extra: ['pm', 'gtd'] })).toEqual([]);
      // GET order keeps avgPrice/cumQuote
      const q = await rest(
        t.usdm,
        'GET',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: String((placed.json as { orderId: number }).orderId) },
        { signed: true },
      );
      expect(shapeDiff(fixture('docs_usdm_rest_order_response.json'), q.json)).toEqual([]);
      const mk = await rest(t.usdm, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.003' }, { signed: true });
      expect(mk.status).toBe(200);
      expect(mk.headers.get('x-mbx-order-count-1m')).toMatch(/^\d+$/);
      const otuTr = await priv.next<{ o: { x: string } }>((j) => j.e === 'ORDER_TRADE_UPDATE' && j.o.x === 'TRADE');
      expect(shapeDiff(fixture('docs_usdm_order_trade_update_trade_partial.json'), otuTr, { extra: ['pm', 'gtd'] })).toEqual([]);
      const lite = await priv.next((j) => j.e === 'TRADE_LITE');
      expect(shapeDiff(fixture('live_usdm_trade_lite.json'), lite)).toEqual([]);
      const au = await priv.next<{ a: { P: Array<{ pa: string }> } }>((j) => j.e === 'ACCOUNT_UPDATE');
      expect(shapeDiff(fixture('docs_usdm_account_update.json'), au)).toEqual([]);
      const pr = (await rest(t.usdm, 'GET', '/fapi/v3/positionRisk', { symbol: 'BTCUSDT' }, { signed: true })).json as Array<{ positionAmt: string }>;
      expect(au.a.P[0]!.pa).toBe(pr[0]!.positionAmt);
      const posBefore = Number(pr[0]!.positionAmt);
      // algo: a take-profit SELL one tick above the best bid, triggered by lifting the bid
      const bb = usdmBook.bestBidPrice();
      const trig = ((bb + 1) / 10).toFixed(1);
      const ao = await rest(
        t.usdm,
        'POST',
        '/fapi/v1/algoOrder',
        { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'SELL', type: 'TAKE_PROFIT_MARKET', quantity: '0.003', triggerPrice: trig },
        { signed: true },
      );
      expect(ao.status).toBe(200);
      expect(ao.json).toMatchObject({ algoType: 'CONDITIONAL', algoStatus: 'NEW', triggerPrice: trig });
      const listed = (await rest(t.usdm, 'GET', '/fapi/v1/openAlgoOrders', { symbol: 'BTCUSDT' }, { signed: true })).json as unknown[];
      expect(listed.length).toBe(1);
      const aNew = await priv.next<{ o: { X: string } }>((j) => j.e === 'ALGO_UPDATE' && j.o.X === 'NEW');
      expect(shapeDiff(inner('live_usdm_algo_update_1_triggering.json'), aNew)).toEqual([]);
      usdmBook.setSynthetic('BUY', bb + 1, 5000);
      const a1 = await priv.next<{ o: { X: string } }>((j) => j.e === 'ALGO_UPDATE' && j.o.X === 'TRIGGERING');
      expect(shapeDiff(inner('live_usdm_algo_update_1_triggering.json'), a1)).toEqual([]);
      const a2 = await priv.next<{ o: { X: string; ai: string } }>((j) => j.e === 'ALGO_UPDATE' && j.o.X === 'TRIGGERED');
      expect(shapeDiff(inner('live_usdm_algo_update_2_triggered.json'), a2)).toEqual([]);
      const a3 = await priv.next<{ o: { X: string; aq: string } }>((j) => j.e === 'ALGO_UPDATE' && j.o.X === 'FINISHED');
      expect(shapeDiff(inner('live_usdm_algo_update_3_finished.json'), a3)).toEqual([]);
      expect(a3.o.aq).toBe('0.003');
      const after = ((await rest(t.usdm, 'GET', '/fapi/v3/positionRisk', { symbol: 'BTCUSDT' }, { signed: true })).json as Array<{ positionAmt: string }>)[0]!
        .positionAmt;
      expect(Number(after)).toBeCloseTo(posBefore - 0.003, 9);
    } finally {
      priv.close();
    }
  });
});
