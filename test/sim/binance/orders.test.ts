/** Order flows over REST and the WS API with their user-data events, limits (429 -> 418), dead-man switch, algo
 * orders, listenKey expiry and stream faults. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { connect, ed25519, fixture, rest, shapeDiff, sleep, startTestSim, wsSigned, type TestSim } from './helpers.js';

const spx = (ticks: number): string => (ticks / 100).toFixed(2); // spot BTCUSDT: tick 0.01
const upx = (ticks: number): string => (ticks / 10).toFixed(1); // usdm BTCUSDT: tick 0.1

describe('binance sim order flows', () => {
  let t: TestSim;
  let sb: MatchingBook;
  let ub: MatchingBook;
  beforeAll(async () => {
    t = await startTestSim({ pingIntervalMs: 100 });
    sb = t.sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    ub = t.sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
  });
  afterAll(async () => t?.sim.close());

  it('Spot REST: partial fill, fill by crossing synthetic liquidity, cancel, cancel-all, with executionReports', async () => {
    const api = await connect(t.spot.wsApiUrl);
    try {
      api.send({ id: 1, method: 'userDataStream.subscribe.signature', params: wsSigned(t.spot, {}) });
      await api.next((j) => j.id === 1 && j.status === 200);
      const ask = sb.bestAsk()!;
      const lots = ask.qtyLots + 100; // 100 lots more than the best level holds
      const r = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: (lots / 1e5).toFixed(5),
          price: spx(ask.priceTicks),
          newClientOrderId: 'flow-1',
        },
        { signed: true },
      );
      expect(r.status).toBe(200);
      const o = r.json as { orderId: number; status: string; executedQty: string; fills: unknown[] };
      expect(o.status).toBe('PARTIALLY_FILLED');
      expect(o.fills.length).toBe(1);
      expect(o.executedQty).toBe((ask.qtyLots / 1e5).toFixed(8));
      await api.next((j) => j.event?.x === 'NEW' && j.event.c === 'flow-1');
      await api.next((j) => j.event?.x === 'TRADE' && j.event.X === 'PARTIALLY_FILLED');
      // the market moves through our resting remainder
      sb.setSynthetic('SELL', ask.priceTicks, 1000);
      const fill = await api.next<{ event: { X: string; z: string; l: string } }>((j) => j.event?.x === 'TRADE' && j.event.X === 'FILLED');
      expect(fill.event.z).toBe((lots / 1e5).toFixed(8));
      expect(fill.event.l).toBe((100 / 1e5).toFixed(8));
      const q = await rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'flow-1' }, { signed: true });
      expect(q.json).toMatchObject({ status: 'FILLED', clientOrderId: 'flow-1' });
      // two resting orders, cancel one by client id, then cancel-all
      const bid = sb.bestBidPrice();
      for (const id of ['rest-a', 'rest-b', 'rest-c']) {
        const x = await rest(
          t.spot,
          'POST',
          '/api/v3/order',
          { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: spx(bid - 5000), newClientOrderId: id },
          { signed: true },
        );
        expect(x.status).toBe(200);
      }
      const dup = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: spx(bid - 5000), newClientOrderId: 'rest-a' },
        { signed: true },
      );
      expect(dup.json).toEqual({ code: -2010, msg: 'Duplicate order sent.' });
      const c1 = await rest(t.spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'rest-a', newClientOrderId: 'cx-1' }, { signed: true });
      expect(c1.json).toMatchObject({ status: 'CANCELED', origClientOrderId: 'rest-a', clientOrderId: 'cx-1' });
      const open = (await rest(t.spot, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true })).json as unknown[];
      expect(open.length).toBe(2);
      const all = await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
      expect((all.json as Array<{ status: string }>).map((x) => x.status)).toEqual(['CANCELED', 'CANCELED']);
      const none = await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
      expect((none.json as { code: number }).code).toBe(-2011);
      // IOC remainder and FOK expire (Spot answers 200 EXPIRED)
      const fok = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', quantity: '5', price: spx(sb.bestAskPrice()) },
        { signed: true },
      );
      expect(fok.json).toMatchObject({ status: 'EXPIRED' });
      expect(fok.status).toBe(200);
      expect(fok.json).toMatchObject({ status: 'EXPIRED', executedQty: '0.00000000' });
      await api.next((j) => j.event?.x === 'EXPIRED');
      const qq = await rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: '100' }, { signed: true });
      expect(qq.json).toMatchObject({ status: 'FILLED', type: 'MARKET' });
      expect(Number((qq.json as { cummulativeQuoteQty: string }).cummulativeQuoteQty)).toBeLessThanOrEqual(100);
      expect(Number((qq.json as { cummulativeQuoteQty: string }).cummulativeQuoteQty)).toBeGreaterThan(99);
      const mk = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT_MAKER', quantity: '0.001', price: spx(sb.bestAskPrice()) },
        { signed: true },
      );
      expect(mk.json).toEqual({ code: -2010, msg: 'Order would immediately match and take.' });
      const ack = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: spx(bid - 5000), newOrderRespType: 'ACK' },
        { signed: true },
      );
      expect(Object.keys(ack.json as object).sort()).toEqual(['clientOrderId', 'orderId', 'orderListId', 'symbol', 'transactTime']);
    } finally {
      api.close();
    }
  });

  it('WS API: order.place / order.status / order.cancel / openOrders.status / openOrders.cancelAll (Spot) and USD-M', async () => {
    const s = await connect(t.spot.wsApiUrl);
    const u = await connect(t.usdm.wsApiUrl);
    try {
      await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
      const bid = sb.bestBidPrice();
      s.send({
        id: 'p1',
        method: 'order.place',
        params: wsSigned(t.spot, {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.001',
          price: spx(bid - 4000),
          newClientOrderId: 'ws-1',
        }),
      });
      const p1 = await s.next<{ result: { orderId: number } }>((j) => j.id === 'p1');
      s.send({ id: 'st', method: 'order.status', params: wsSigned(t.spot, { symbol: 'BTCUSDT', orderId: p1.result.orderId }) });
      expect((await s.next<{ result: { status: string } }>((j) => j.id === 'st')).result.status).toBe('NEW');
      s.send({ id: 'oo', method: 'openOrders.status', params: wsSigned(t.spot, { symbol: 'BTCUSDT' }) });
      expect((await s.next<{ result: unknown[] }>((j) => j.id === 'oo')).result.length).toBe(1);
      s.send({ id: 'ca', method: 'openOrders.cancelAll', params: wsSigned(t.spot, { symbol: 'BTCUSDT' }) });
      const ca = await s.next<{ result: Array<{ status: string }>; rateLimits: unknown[] }>((j) => j.id === 'ca');
      expect(ca.result.map((x) => x.status)).toEqual(['CANCELED']);
      expect(ca.rateLimits.length).toBeGreaterThan(0);

      const ubid = ub.bestBidPrice();
      u.send({
        id: 1,
        method: 'order.place',
        params: wsSigned(t.usdm, {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.01',
          price: upx(ubid - 500),
          newClientOrderId: 'u-1',
        }),
      });
      const up = await u.next<{ status: number; result: { orderId: number; status: string } }>((j) => j.id === 1);
      expect(up.result.status).toBe('NEW');
      u.send({
        id: 2,
        method: 'order.place',
        params: wsSigned(t.usdm, {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.01',
          price: upx(ubid - 500),
          newClientOrderId: 'u-1',
        }),
      });
      expect((await u.next<{ error: { code: number } }>((j) => j.id === 2)).error.code).toBe(-4116);
      u.send({
        id: 3,
        method: 'order.place',
        params: wsSigned(t.usdm, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.01', price: upx(ub.bestAskPrice()) }),
      });
      expect((await u.next<{ error: { code: number } }>((j) => j.id === 3)).error.code).toBe(-5022);
      u.send({
        id: 4,
        method: 'order.place',
        params: wsSigned(t.usdm, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', quantity: '900', price: upx(ub.bestAskPrice()) }),
      });
      expect((await u.next<{ error: { code: number } }>((j) => j.id === 4)).error.code).toBe(-5021);
      u.send({
        id: 5,
        method: 'order.place',
        params: wsSigned(t.usdm, { symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '1', reduceOnly: 'true' }),
      });
      expect((await u.next<{ error: { code: number; msg: string } }>((j) => j.id === 5)).error).toEqual({ code: -2022, msg: 'ReduceOnly Order is rejected.' });
      u.send({ id: 6, method: 'order.status', params: wsSigned(t.usdm, { symbol: 'BTCUSDT', origClientOrderId: 'u-1' }) });
      expect((await u.next<{ result: { status: string } }>((j) => j.id === 6)).result.status).toBe('NEW');
      u.send({ id: 7, method: 'order.cancel', params: wsSigned(t.usdm, { symbol: 'BTCUSDT', orderId: up.result.orderId }) });
      expect((await u.next<{ result: { status: string } }>((j) => j.id === 7)).result.status).toBe('CANCELED');
      u.send({ id: 8, method: 'order.cancel', params: wsSigned(t.usdm, { symbol: 'BTCUSDT', orderId: up.result.orderId }) });
      expect((await u.next<{ error: { code: number } }>((j) => j.id === 8)).error.code).toBe(-2011);
      u.send({ id: 9, method: 'userDataStream.start', params: { apiKey: t.usdm.apiKey } });
      expect((await u.next<{ result: { listenKey: string } }>((j) => j.id === 9)).result.listenKey).toMatch(/^[A-Za-z0-9]{64}$/);
    } finally {
      s.close();
      u.close();
    }
  });

  it('USD-M: cancel-all, countdownCancelAll fires (and 0 disarms), algo cancel', async () => {
    const lk = ((await rest(t.usdm, 'POST', '/fapi/v1/listenKey')).json as { listenKey: string }).listenKey;
    const priv = await connect(`${t.usdm.wsStreamBaseUrl}/private/stream?listenKey=${lk}&events=ORDER_TRADE_UPDATE/ALGO_UPDATE`);
    try {
      const bid = ub.bestBidPrice();
      const place = (cid: string) =>
        rest(
          t.usdm,
          'POST',
          '/fapi/v1/order',
          { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: upx(bid - 800), newClientOrderId: cid },
          { signed: true },
        );
      expect((await place('cd-1')).status).toBe(200);
      expect((await place('cd-2')).status).toBe(200);
      const all = await rest(t.usdm, 'DELETE', '/fapi/v1/allOpenOrders', { symbol: 'BTCUSDT' }, { signed: true });
      expect(all.json).toEqual({ code: 200, msg: 'The operation of cancel all open order is done.' });
      await priv.next((j) => j.stream === lk && j.data.o?.c === 'cd-2' && j.data.o.X === 'CANCELED');
      // disarmed timer never fires
      expect((await place('cd-3')).status).toBe(200);
      expect((await rest(t.usdm, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: 150 }, { signed: true })).json).toEqual({
        symbol: 'BTCUSDT',
        countdownTime: '150',
      });
      expect((await rest(t.usdm, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: 0 }, { signed: true })).status).toBe(200);
      await sleep(300);
      expect(((await rest(t.usdm, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' }, { signed: true })).json as unknown[]).length).toBe(1);
      // armed timer cancels every order of the account on the symbol
      expect((await rest(t.usdm, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: 100 }, { signed: true })).status).toBe(200);
      const cx = await priv.next<{ data: { o: { X: string } } }>((j) => j.data.o?.c === 'cd-3' && j.data.o.X === 'CANCELED', 3000);
      expect(cx.data.o.X).toBe('CANCELED');
      expect((await rest(t.usdm, 'GET', '/fapi/v1/openOrder', { symbol: 'BTCUSDT', origClientOrderId: 'cd-3' }, { signed: true })).json).toMatchObject({
        code: -2013,
      });
      // algo: place, list, cancel by clientAlgoId, cancel-all
      const ask = ub.bestAskPrice();
      const a = await rest(
        t.usdm,
        'POST',
        '/fapi/v1/algoOrder',
        {
          algoType: 'CONDITIONAL',
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'STOP_MARKET',
          quantity: '0.01',
          triggerPrice: upx(ask + 1000),
          clientAlgoId: 'algo-1',
        },
        { signed: true },
      );
      expect(a.json).toMatchObject({ clientAlgoId: 'algo-1', algoStatus: 'NEW', orderType: 'STOP_MARKET' });
      const imm = await rest(
        t.usdm,
        'POST',
        '/fapi/v1/algoOrder',
        { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'BUY', type: 'STOP_MARKET', quantity: '0.01', triggerPrice: upx(ask - 10) },
        { signed: true },
      );
      expect((imm.json as { code: number }).code).toBe(-2021);
      const c = await rest(t.usdm, 'DELETE', '/fapi/v1/algoOrder', { symbol: 'BTCUSDT', clientAlgoId: 'algo-1' }, { signed: true });
      expect(c.json).toMatchObject({ clientAlgoId: 'algo-1', code: '200', msg: 'success' });
      await priv.next((j) => j.data.e === 'ALGO_UPDATE' && j.data.o.X === 'CANCELED');
      expect(
        (
          await rest(
            t.usdm,
            'POST',
            '/fapi/v1/algoOrder',
            { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'BUY', type: 'STOP', quantity: '0.01', price: upx(ask + 1000), triggerPrice: upx(ask + 1000) },
            { signed: true },
          )
        ).status,
      ).toBe(200);
      expect((await rest(t.usdm, 'DELETE', '/fapi/v1/algoOpenOrders', { symbol: 'BTCUSDT' }, { signed: true })).status).toBe(200);
      expect((await rest(t.usdm, 'GET', '/fapi/v1/openAlgoOrders', {}, { signed: true })).json).toEqual([]);
    } finally {
      priv.close();
    }
  });

  it('server ping frames arrive on market, private and WS API sockets', async () => {
    const m = await connect(`${t.spot.wsStreamBaseUrl}/ws/btcusdt@trade`);
    const a = await connect(t.usdm.wsApiUrl);
    try {
      for (let i = 0; i < 50 && (m.pings === 0 || a.pings === 0); i++) await sleep(20);
      expect(m.pings).toBeGreaterThan(0);
      expect(a.pings).toBeGreaterThan(0);
    } finally {
      m.close();
      a.close();
    }
  });

  it('stream faults: dropDiff makes a gap, duplicateDiff repeats, malformedFrame breaks JSON, closeConnections closes', async () => {
    const c = await connect(`${t.spot.wsStreamBaseUrl}/ws/btcusdt@depth@100ms`);
    try {
      const frames = (): Array<{ U: number; u: number }> =>
        c
          .raw()
          .filter((x) => x.startsWith('{"e":"depthUpdate"'))
          .map((x) => JSON.parse(x) as { U: number; u: number });
      for (let i = 0; i < 200 && frames().length === 0; i++) {
        t.sim.generator.produce(100);
        await sleep(5);
      }
      await sleep(50);
      c.raw().length = 0;
      t.sim.inject({ kind: 'dropDiff', market: 'binanceSpot', symbol: 'BTCUSDT' });
      for (let i = 0; i < 100 && frames().length < 3; i++) {
        t.sim.generator.produce(100);
        await sleep(10);
      }
      let f = frames();
      expect(f.length).toBeGreaterThan(1);
      c.raw().length = 0;
      t.sim.inject({ kind: 'duplicateDiff', market: 'binanceSpot', symbol: 'BTCUSDT' });
      for (let i = 0; i < 100 && frames().length < 3; i++) {
        t.sim.generator.produce(100);
        await sleep(10);
      }
      f = frames();
      expect(f.some((x, i) => i > 0 && x.u === f[i - 1]!.u)).toBe(true);
      c.raw().length = 0;
      t.sim.inject({ kind: 'malformedFrame', market: 'binanceSpot' });
      for (let i = 0; i < 100 && c.raw().length < 2; i++) {
        t.sim.generator.produce(100);
        await sleep(10);
      }
      expect(
        c.raw().some((x) => {
          try {
            JSON.parse(x);
            return false;
          } catch {
            return true;
          }
        }),
      ).toBe(true);
      t.sim.inject({ kind: 'closeConnections', market: 'binanceSpot', which: 'market' });
      for (let i = 0; i < 50 && !c.closed; i++) await sleep(10);
      expect(c.closed).toBe(true);
    } finally {
      c.close();
    }
  });

  it('reorderDiff swaps two frames, oversizedFrame sends a huge frame, stallStream silences the stream', async () => {
    const c = await connect(`${t.usdm.wsStreamBaseUrl}/public/ws/btcusdt@depth@100ms`);
    try {
      const diffs = (): Array<{ U: number; u: number; pu: number }> =>
        c
          .raw()
          .filter((x) => x.startsWith('{"e":"depthUpdate"'))
          .map((x) => JSON.parse(x) as { U: number; u: number; pu: number });
      const pump = async (until: () => boolean): Promise<void> => {
        for (let i = 0; i < 100 && !until(); i++) {
          t.sim.generator.produce(200);
          await sleep(10);
        }
      };
      t.sim.inject({ kind: 'reorderDiff', market: 'binanceUsdm', symbol: 'BTCUSDT' });
      await pump(() => diffs().length >= 3);
      const f = diffs();
      // somewhere u goes backwards: the held frame came after its successor
      expect(f.some((x, i) => i > 0 && x.u < f[i - 1]!.u)).toBe(true);
      c.raw().length = 0;
      t.sim.inject({ kind: 'oversizedFrame', market: 'binanceUsdm', bytes: 3 * 1024 * 1024 });
      await pump(() => c.raw().some((x) => x.length >= 3 * 1024 * 1024 - 64));
      expect(c.raw().some((x) => x.length >= 3 * 1024 * 1024 - 64)).toBe(true);
      t.sim.inject({ kind: 'stallStream', market: 'binanceUsdm', ms: 60_000 });
      await sleep(20);
      c.raw().length = 0;
      t.sim.generator.produce(2000);
      await sleep(100);
      expect(diffs()).toEqual([]);
      t.sim.clear();
      await pump(() => diffs().length > 0);
      expect(diffs().length).toBeGreaterThan(0);
    } finally {
      c.close();
    }
  });

  it('Spot userDataStream.subscribe after session.logon; unsubscribe ends the stream', async () => {
    const c = await connect(t.spot.wsApiUrl);
    try {
      c.send({ id: 'u0', method: 'userDataStream.subscribe' });
      expect((await c.next<{ status: number }>((j) => j.id === 'u0')).status).toBe(401);
      const ts = Date.now();
      c.send({
        id: 'l',
        method: 'session.logon',
        params: {
          apiKey: t.spot.ed25519ApiKey,
          timestamp: ts,
          signature: ed25519(t.spot.ed25519PrivateKeyPem!, `apiKey=${t.spot.ed25519ApiKey}&timestamp=${ts}`),
        },
      });
      await c.next((j) => j.id === 'l' && j.status === 200);
      c.send({ id: 'u1', method: 'userDataStream.subscribe' });
      const sub = await c.next<{ result: { subscriptionId: number } }>((j) => j.id === 'u1');
      c.send({ id: 'u2', method: 'userDataStream.subscribe' });
      expect((await c.next<{ error: { code: number } }>((j) => j.id === 'u2')).error.code).toBe(-2035);
      const r = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: spx(sb.bestBidPrice() - 3000) },
        { signed: true },
      );
      expect(r.status).toBe(200);
      const ev = await c.next<{ subscriptionId: number; event: { e: string } }>((j) => j.event?.e === 'executionReport');
      expect(ev.subscriptionId).toBe(sub.result.subscriptionId);
      c.send({ id: 'u3', method: 'userDataStream.unsubscribe' });
      await c.next((j) => j.id === 'u3' && j.status === 200);
      await c.next((j) => j.event?.e === 'eventStreamTerminated');
    } finally {
      c.close();
    }
  });

  it('dropDiff is seen by a client as U > prev u + 1', async () => {
    const c = await connect(`${t.spot.wsStreamBaseUrl}/ws/btcusdt@depth@100ms`);
    try {
      const diffs = (): Array<{ U: number; u: number }> =>
        c
          .raw()
          .filter((x) => x.startsWith('{"e":"depthUpdate"'))
          .map((x) => JSON.parse(x) as { U: number; u: number });
      // the generator spreads updates over every book: pump until this one has moved
      const pump = async (n: number): Promise<void> => {
        for (let i = 0; i < 200 && diffs().length < n; i++) {
          t.sim.generator.produce(100);
          await sleep(5);
        }
      };
      await pump(1);
      await sleep(50);
      const before = diffs();
      const prev = before[before.length - 1]!.u;
      c.raw().length = 0;
      t.sim.inject({ kind: 'dropDiff', market: 'binanceSpot', symbol: 'BTCUSDT', count: 1 });
      await pump(1);
      expect(diffs()[0]!.U).toBeGreaterThan(prev + 1);
    } finally {
      c.close();
    }
  });

  it('clockSkewMs moves the server clock (time endpoint, -1021 on a client that did not sync); latencyMs delays order answers', async () => {
    t.sim.inject({ kind: 'clockSkewMs', market: 'binanceSpot', ms: 30_000 });
    try {
      const st = ((await rest(t.spot, 'GET', '/api/v3/time')).json as { serverTime: number }).serverTime;
      expect(st - Date.now()).toBeGreaterThan(25_000);
      const stale = await rest(t.spot, 'GET', '/api/v3/account', {}, { signed: true });
      expect((stale.json as { code: number }).code).toBe(-1021);
      const synced = await rest(t.spot, 'GET', '/api/v3/account', {}, { signed: true, nowMs: Date.now() + 30_000 });
      expect(synced.status).toBe(200);
    } finally {
      t.sim.inject({ kind: 'clockSkewMs', market: 'binanceSpot', ms: 0 });
    }
    t.sim.inject({ kind: 'latencyMs', market: 'binanceUsdm', ms: 200 });
    try {
      const t0 = performance.now();
      const r = await rest(t.usdm, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
      expect(r.status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(150); // a lower bound only: the delay is injected
    } finally {
      t.sim.inject({ kind: 'latencyMs', market: 'binanceUsdm', ms: 0 });
    }
  });

  it('httpStatus fault answers 503 then recovers', async () => {
    t.sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 503, count: 2 });
    expect((await rest(t.spot, 'GET', '/api/v3/time')).status).toBe(503);
    expect((await rest(t.spot, 'GET', '/api/v3/time')).status).toBe(503);
    expect((await rest(t.spot, 'GET', '/api/v3/time')).status).toBe(200);
    t.sim.inject({ kind: 'httpStatus', market: 'binanceUsdm', status: 418, retryAfterSec: 7 });
    const r = await rest(t.usdm, 'GET', '/fapi/v1/time');
    expect(r.status).toBe(418);
    expect(r.headers.get('retry-after')).toBe('7');
    expect((r.json as { code: number }).code).toBe(-1003);
  });
});

describe('binance sim limits and listenKey expiry', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim({ limits: { weightPerMin: 10, banAfter: 2, orders10s: 2 }, listenKeyTtlMs: 300 });
  });
  afterAll(async () => t?.sim.close());

  it('ORDERS limit gives 429 -1015, weight limit gives 429 then 418 with Retry-After; WS API 418 has the real shape', async () => {
    const ub = t.sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
    const px = upx(ub.bestBidPrice() - 500);
    const o = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: px };
    expect((await rest(t.usdm, 'POST', '/fapi/v1/order', o, { signed: true })).status).toBe(200);
    expect((await rest(t.usdm, 'POST', '/fapi/v1/order', o, { signed: true })).status).toBe(200);
    const third = await rest(t.usdm, 'POST', '/fapi/v1/order', o, { signed: true });
    expect(third.status).toBe(429);
    expect((third.json as { code: number }).code).toBe(-1015);
    expect(third.headers.get('x-mbx-order-count-10s')).toBe('2');

    expect((await rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT' })).status).toBe(200); // 5
    const second = await rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT' }); // 10
    expect(second.headers.get('x-mbx-used-weight-1m')).toBe('10');
    const over = await rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT' });
    expect(over.status).toBe(429);
    expect((over.json as { code: number }).code).toBe(-1003);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const ban = await rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT' });
    expect(ban.status).toBe(418);
    expect(Number(ban.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((ban.json as { msg: string }).msg).toMatch(/^Way too much request weight used; IP banned until \d+\./);
    const api = await connect(t.spot.wsApiUrl);
    try {
      const fx = fixture('docs_wsapi_response_ip_banned_418.json') as Record<string, unknown>;
      api.send({ id: fx['id'], method: 'ping' });
      const r = await api.next<{ status: number }>((j) => j.id === fx['id']);
      expect(r.status).toBe(418);
      expect(shapeDiff(fx, r)).toEqual([]);
    } finally {
      api.close();
    }
  });

  it('listenKey expires after its lifetime: listenKeyExpired, then the stream closes and the key is gone', async () => {
    const lk = ((await rest(t.usdm, 'POST', '/fapi/v1/listenKey')).json as { listenKey: string }).listenKey;
    const priv = await connect(`${t.usdm.wsStreamBaseUrl}/private/ws?listenKey=${lk}`);
    try {
      const ev = await priv.next<{ e: string; listenKey: string }>((j) => j.e === 'listenKeyExpired', 3000);
      expect(ev.listenKey).toBe(lk);
      for (let i = 0; i < 50 && !priv.closed; i++) await sleep(10);
      expect(priv.closed).toBe(true);
      expect((await rest(t.usdm, 'PUT', '/fapi/v1/listenKey')).json).toMatchObject({ code: -1125 });
      await expect(connect(`${t.usdm.wsStreamBaseUrl}/private/ws?listenKey=${lk}`)).rejects.toThrow();
    } finally {
      priv.close();
    }
  });
});
