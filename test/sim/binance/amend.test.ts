/** Binance amend/modify: USD-M PUT /fapi/v1/order + WS order.modify (ORDER_TRADE_UPDATE x=AMENDMENT), Spot
 * PUT /api/v3/order/amend/keepPriority + WS order.amend.keepPriority (executionReport x=REPLACED), via SimBook.amend. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { connect, rest, startTestSim, wsSigned, type TestSim } from './helpers.js';

const spx = (ticks: number): string => (ticks / 100).toFixed(2); // spot BTCUSDT: tick 0.01
const upx = (ticks: number): string => (ticks / 10).toFixed(1); // usdm BTCUSDT: tick 0.1

describe('binance sim amend / modify', () => {
  let t: TestSim;
  let sb: MatchingBook;
  let ub: MatchingBook;
  beforeAll(async () => {
    t = await startTestSim();
    sb = t.sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    ub = t.sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
  });
  afterAll(async () => t?.sim.close());

  it('USD-M PUT /fapi/v1/order: new price and quantity, modifyId echoed, AMENDMENT event, errors', async () => {
    const lk = ((await rest(t.usdm, 'POST', '/fapi/v1/listenKey')).json as { listenKey: string }).listenKey;
    const priv = await connect(`${t.usdm.wsStreamBaseUrl}/private/ws?listenKey=${lk}`);
    try {
      const bid = ub.bestBidPrice();
      const p0 = await rest(
        t.usdm,
        'POST',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.05', price: upx(bid - 800), newClientOrderId: 'mod-1' },
        { signed: true },
      );
      expect(p0.status).toBe(200);
      const id = /"orderId":(\d+)/.exec(p0.text)![1]!; // exact text: USD-M ids exceed 2^53
      await priv.next((j) => j.e === 'ORDER_TRADE_UPDATE' && j.o.c === 'mod-1' && j.o.x === 'NEW');
      const m = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: '0.06', price: upx(bid - 900), modifyId: 7 },
        { signed: true },
      );
      expect(m.status, m.text).toBe(200);
      expect(/"orderId":(\d+)/.exec(m.text)![1]).toBe(id);
      expect(m.json).toMatchObject({ clientOrderId: 'mod-1', status: 'NEW', price: upx(bid - 900), origQty: '0.060', executedQty: '0.000', modifyId: 7 });
      expect(m.json).not.toHaveProperty('avgPrice'); // 2026-07 shape
      const ev = await priv.next<{ o: { x: string; X: string; p: string; q: string; c: string } }>(
        (j) => j.e === 'ORDER_TRADE_UPDATE' && j.o.x === 'AMENDMENT',
      );
      expect(ev.o).toMatchObject({ X: 'NEW', p: upx(bid - 900), q: '0.060', c: 'mod-1' });
      const q = await rest(t.usdm, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'mod-1' }, { signed: true });
      expect(q.json).toMatchObject({ price: upx(bid - 900), origQty: '0.060', status: 'NEW' });
      // nothing to change, wrong side, unknown order, bad tick
      const same = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: '0.06', price: upx(bid - 900) },
        { signed: true },
      );
      expect((same.json as { code: number }).code).toBe(-5027);
      const side = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: id, side: 'SELL', quantity: '0.06', price: upx(bid - 900) },
        { signed: true },
      );
      expect((side.json as { code: number }).code).toBe(-1130);
      const unk = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: 12345, side: 'BUY', quantity: '0.06', price: upx(bid - 900) },
        { signed: true },
      );
      expect(unk.json).toEqual({ code: -2013, msg: 'Order does not exist.' });
      const tick = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: '0.06', price: (bid / 10 - 90.05).toFixed(2) },
        { signed: true },
      );
      expect((tick.json as { code: number }).code).toBeLessThan(0);
      const noPx = await rest(t.usdm, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: '0.06' }, { signed: true });
      expect((noPx.json as { code: number }).code).toBe(-1102);
      // a crossing price trades at once (TRADE after the AMENDMENT)
      const ask = ub.bestAskPrice();
      const x = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', origClientOrderId: 'mod-1', side: 'BUY', quantity: '0.002', price: upx(ask) },
        { signed: true },
      );
      expect(x.status, x.text).toBe(200);
      expect((x.json as { status: string }).status).toBe('FILLED');
      await priv.next((j) => j.e === 'ORDER_TRADE_UPDATE' && j.o.c === 'mod-1' && j.o.x === 'TRADE' && j.o.X === 'FILLED');
      const closed = await rest(
        t.usdm,
        'PUT',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: '0.06', price: upx(bid - 900) },
        { signed: true },
      );
      expect((closed.json as { code: number }).code).toBe(-2013);
      // flatten the position the fill opened
      await rest(
        t.usdm,
        'POST',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002', reduceOnly: 'true' },
        { signed: true },
      );
    } finally {
      priv.close();
    }
  });

  it('USD-M WS API order.modify', async () => {
    const u = await connect(t.usdm.wsApiUrl);
    try {
      const bid = ub.bestBidPrice();
      u.send({
        id: 1,
        method: 'order.place',
        params: wsSigned(t.usdm, {
          symbol: 'BTCUSDT',
          side: 'SELL',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.05',
          price: upx(ub.bestAskPrice() + 800),
          newClientOrderId: 'wsmod-1',
        }),
      });
      // (USD-M order ids exceed 2^53: JSON.parse rounds them, so address the order by its client id)
      const placed = await u.next<{ result: { orderId: number } }>((j) => j.id === 1);
      u.send({
        id: 2,
        method: 'order.modify',
        params: wsSigned(t.usdm, {
          symbol: 'BTCUSDT',
          origClientOrderId: 'wsmod-1',
          side: 'SELL',
          quantity: '0.055',
          price: upx(ub.bestAskPrice() + 900),
          modifyId: 42,
        }),
      });
      const r = await u.next<{ status: number; result: Record<string, unknown> }>((j) => j.id === 2);
      expect(r.status, JSON.stringify(r) + JSON.stringify(placed)).toBe(200);
      expect(r.result).toMatchObject({ clientOrderId: 'wsmod-1', origQty: '0.055', status: 'NEW', modifyId: 42 });
      u.send({ id: 3, method: 'order.modify', params: wsSigned(t.usdm, { symbol: 'BTCUSDT', orderId: 1, side: 'SELL', quantity: '0.015', price: upx(bid) }) });
      const e = await u.next<{ status: number; error: { code: number } }>((j) => j.id === 3);
      expect(e.error.code).toBe(-2013);
      await rest(t.usdm, 'DELETE', '/fapi/v1/allOpenOrders', { symbol: 'BTCUSDT' }, { signed: true });
    } finally {
      u.close();
    }
  });

  it('Spot keepPriority (REST and WS API): quantity decrease only, queue kept, REPLACED event, new client id', async () => {
    const api = await connect(t.spot.wsApiUrl);
    try {
      api.send({ id: 1, method: 'userDataStream.subscribe.signature', params: wsSigned(t.spot, {}) });
      await api.next((j) => j.id === 1 && j.status === 200);
      const px = sb.bestBidPrice() - 5000;
      // a foreign order ahead of ours and one behind at the same price
      sb.submit({ accountId: 'other', clientOrderId: 'ahead', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: px, qtyLots: 100, reduceOnly: false });
      const p0 = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.00500', price: spx(px), newClientOrderId: 'kp-1' },
        { signed: true },
      );
      const id = (p0.json as { orderId: number }).orderId;
      sb.submit({ accountId: 'other', clientOrderId: 'behind', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: px, qtyLots: 100, reduceOnly: false });
      await api.next((j) => j.event?.x === 'NEW' && j.event.c === 'kp-1');
      const a = await rest(
        t.spot,
        'PUT',
        '/api/v3/order/amend/keepPriority',
        { symbol: 'BTCUSDT', orderId: id, newQty: '0.00300', newClientOrderId: 'kp-2' },
        { signed: true },
      );
      expect(a.status, a.text).toBe(200);
      const body = a.json as { transactTime: number; executionId: number; amendedOrder: Record<string, unknown> };
      expect(body.executionId).toBeGreaterThan(0);
      expect(body.amendedOrder).toMatchObject({
        symbol: 'BTCUSDT',
        orderId: id,
        orderListId: -1,
        origClientOrderId: 'kp-1',
        clientOrderId: 'kp-2',
        qty: '0.00300000',
        executedQty: '0.00000000',
        status: 'NEW',
        type: 'LIMIT',
        side: 'BUY',
      });
      console.log(
        api
          .raw()
          .filter((m) => m.includes('executionReport'))
          .join('\n'),
      );
      const ev = await api.next<{ event: Record<string, unknown> }>((j) => j.event?.x === 'REPLACED');
      expect(ev.event).toMatchObject({ c: 'kp-2', C: 'kp-1', X: 'NEW', q: '0.00300000', i: id, I: body.executionId });
      // the lock follows the smaller order (3000 lots... 0.003 BTC at px)
      const acct = (await rest(t.spot, 'GET', '/api/v3/account', {}, { signed: true })).json as { balances: Array<{ asset: string; locked: string }> };
      expect(Number(acct.balances.find((b) => b.asset === 'USDT')!.locked)).toBeCloseTo((px / 100) * 0.003, 6);
      // queue kept: a seller of 100 + 300 lots fills 'ahead' then all of ours, 'behind' untouched
      // (the bids above px go first)
      const above = sb
        .depth(1000)
        .bids.filter(([p]) => p > px)
        .reduce((n, [, q]) => n + q, 0);
      sb.submit({ accountId: 'other', clientOrderId: 'hit', side: 'SELL', type: 'LIMIT', tif: 'IOC', priceTicks: px, qtyLots: above + 400, reduceOnly: false });
      const f = await api.next<{ event: { X: string; c: string } }>((j) => j.event?.x === 'TRADE');
      expect(f.event).toMatchObject({ X: 'FILLED', c: 'kp-2' });
      expect(sb.getOrder('other', { clientOrderId: 'behind' })!.filledLots).toBe(0);
      sb.cancel('other', { clientOrderId: 'behind' });
      // errors: increase, no change, unknown, closed
      const p1 = await rest(
        t.spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.00500', price: spx(px - 100), newClientOrderId: 'kp-3' },
        { signed: true },
      );
      const id1 = (p1.json as { orderId: number }).orderId;
      const inc = await rest(t.spot, 'PUT', '/api/v3/order/amend/keepPriority', { symbol: 'BTCUSDT', orderId: id1, newQty: '0.006' }, { signed: true });
      expect(inc.json).toEqual({ code: -2038, msg: 'Order amend (quantity increase) is not supported.' });
      const same = await rest(t.spot, 'PUT', '/api/v3/order/amend/keepPriority', { symbol: 'BTCUSDT', orderId: id1, newQty: '0.005' }, { signed: true });
      expect((same.json as { code: number }).code).toBe(-2038);
      const unk = await rest(t.spot, 'PUT', '/api/v3/order/amend/keepPriority', { symbol: 'BTCUSDT', orderId: 1, newQty: '0.001' }, { signed: true });
      expect(unk.json).toEqual({ code: -2013, msg: 'Order does not exist.' });
      const done = await rest(t.spot, 'PUT', '/api/v3/order/amend/keepPriority', { symbol: 'BTCUSDT', orderId: id, newQty: '0.001' }, { signed: true });
      expect((done.json as { code: number }).code).toBe(-2013);
      // WS API, by client id, no newClientOrderId: a generated one
      api.send({ id: 2, method: 'order.amend.keepPriority', params: wsSigned(t.spot, { symbol: 'BTCUSDT', origClientOrderId: 'kp-3', newQty: '0.004' }) });
      const w = await api.next<{ status: number; result: { amendedOrder: { clientOrderId: string; origClientOrderId: string; qty: string } } }>(
        (j) => j.id === 2,
      );
      expect(w.status).toBe(200);
      expect(w.result.amendedOrder).toMatchObject({ origClientOrderId: 'kp-3', qty: '0.00400000' });
      expect(w.result.amendedOrder.clientOrderId).not.toBe('kp-3');
      const q = await rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: w.result.amendedOrder.clientOrderId }, { signed: true });
      expect(q.json).toMatchObject({ orderId: id1, origQty: '0.00400000' });
      await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
    } finally {
      api.close();
    }
  });
});
