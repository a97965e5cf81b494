/** Spot stop orders in the simulator (issue 13): STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT wait
 * outside the book as NEW (openOrders, order query, executionReport w=false), trigger when the market reaches the stop
 * price and then work as MARKET / LIMIT under the same ids; cancel and cancel-all cancel them; a stop price already
 * reached is -2010 "Order would trigger immediately."; trailingDelta is refused (allowTrailingStop false);
 * MAX_NUM_ALGO_ORDERS (5) is -2010 "Filter failure: MAX_NUM_ALGO_ORDERS", over REST and the WS API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { connect, rest, startTestSim, wsSigned, type TestSim, type WsClient } from './helpers.js';

const spx = (ticks: number): string => (ticks / 100).toFixed(2); // spot BTCUSDT: tick 0.01

interface Er {
  e: string;
  i: number;
  c: string;
  C: string;
  o: string;
  x: string;
  X: string;
  P: string;
  w: boolean;
  W?: number;
}

describe('binance sim: spot stop orders', () => {
  let t: TestSim;
  let book: MatchingBook;
  let ud: WsClient;
  beforeAll(async () => {
    t = await startTestSim();
    book = t.sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    ud = await connect(t.spot.wsApiUrl);
    ud.send({ id: 'sub', method: 'userDataStream.subscribe.signature', params: wsSigned(t.spot, {}) });
    await ud.next((j) => j.id === 'sub' && j.status === 200);
  });
  afterAll(async () => {
    ud?.close();
    await t?.sim.close();
  });

  const place = (p: Record<string, string | number>) =>
    rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', quantity: '0.01000', ...p }, { signed: true });
  const er = (pred: (e: Er) => boolean): Promise<Er> => ud.next<{ event: Er }>((j) => j.event?.e === 'executionReport' && pred(j.event)).then((j) => j.event);
  const openOrders = async (): Promise<Array<Record<string, unknown>>> =>
    (await rest(t.spot, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true })).json as Array<Record<string, unknown>>;
  /** move the book: down puts the best ask at `to` and the best bid just below; up the best bid at `to`, the ask above */
  const move = (dir: 'up' | 'down', to: number): void => {
    book.setSynthetic(dir === 'up' ? 'BUY' : 'SELL', to, 1_000_000);
    book.setSynthetic(dir === 'up' ? 'SELL' : 'BUY', dir === 'up' ? to + 10 : to - 10, 1_000_000);
  };

  it('STOP_LOSS_LIMIT sell rests outside the book, is listed and queried, then triggers into a LIMIT under the same ids', async () => {
    const bid = book.bestBidPrice();
    const stop = bid - 500;
    const r = await place({ side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', price: spx(stop + 100), stopPrice: spx(stop), newClientOrderId: 'sl1' });
    expect(r.status, r.text).toBe(200);
    // non-LIMIT/MARKET types answer ACK by default (spot-docs newOrderRespType)
    const ack = r.json as { orderId: number; clientOrderId: string };
    expect(Object.keys(ack).sort()).toEqual(['clientOrderId', 'orderId', 'orderListId', 'symbol', 'transactTime']);
    const n = await er((e) => e.c === 'sl1');
    expect(n).toMatchObject({ i: ack.orderId, o: 'STOP_LOSS_LIMIT', x: 'NEW', X: 'NEW', P: spx(stop) + '000000', w: false });
    expect(n.W).toBeUndefined();
    const list = await openOrders();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      orderId: ack.orderId,
      type: 'STOP_LOSS_LIMIT',
      status: 'NEW',
      stopPrice: spx(stop) + '000000',
      isWorking: false,
      workingTime: -1,
    });
    const qr = await rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'sl1' }, { signed: true });
    expect(qr.json).toMatchObject({ orderId: ack.orderId, type: 'STOP_LOSS_LIMIT', isWorking: false });
    // nothing in the book yet
    expect(book.openOrders(t.spot.apiKey)).toHaveLength(0);

    move('down', stop); // best bid now below the stop; the limit (above it) rests
    const w = await er((e) => e.c === 'sl1');
    expect(w).toMatchObject({ i: ack.orderId, o: 'STOP_LOSS_LIMIT', x: 'NEW', X: 'NEW', w: true });
    expect(w.W).toBeGreaterThan(0);
    const after = await openOrders();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ orderId: ack.orderId, type: 'STOP_LOSS_LIMIT', isWorking: true, price: spx(stop + 100) + '000000' });
    expect(book.openOrders(t.spot.apiKey).map((o) => o.orderId)).toEqual([String(ack.orderId)]);
    // a triggered stop is an ordinary order for cancel (by client id)
    const c = await rest(t.spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'sl1' }, { signed: true });
    expect(c.json).toMatchObject({ orderId: ack.orderId, status: 'CANCELED', type: 'STOP_LOSS_LIMIT' });
    await er((e) => e.i === ack.orderId && e.x === 'CANCELED');
  });

  it('STOP_LOSS sell triggers into a MARKET order that fills; TAKE_PROFIT buy triggers when the market falls to it', async () => {
    let bid = book.bestBidPrice();
    const r = await place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: spx(bid - 200), newClientOrderId: 'sm1' });
    expect(r.status, r.text).toBe(200);
    await er((e) => e.c === 'sm1' && e.x === 'NEW' && !e.w);
    move('down', bid - 200);
    const fill = await er((e) => e.c === 'sm1' && e.x === 'TRADE');
    expect(fill).toMatchObject({ o: 'STOP_LOSS', X: 'FILLED' });
    const q = await rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: fill.i }, { signed: true });
    expect(q.json).toMatchObject({ status: 'FILLED', type: 'STOP_LOSS', stopPrice: spx(bid - 200) + '000000' });

    const ask = book.bestAskPrice();
    const tp = await place({
      side: 'BUY',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: spx(ask - 300),
      stopPrice: spx(ask - 300),
      newClientOrderId: 'tp1',
    });
    expect(tp.status, tp.text).toBe(200);
    await er((e) => e.c === 'tp1' && !e.w);
    move('down', ask - 400); // asks now from ask-400: the best ask is at/below the stop
    await er((e) => e.c === 'tp1' && (e.x === 'TRADE' || e.w));
    bid = book.bestBidPrice();
    expect(bid).toBeGreaterThan(0);
    await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
  });

  it('a stop price the market has reached is -2010 "Order would trigger immediately."; trailingDelta is refused', async () => {
    const bid = book.bestBidPrice();
    const ask = book.bestAskPrice();
    expect((await place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: spx(bid + 100) })).json).toEqual({
      code: -2010,
      msg: 'Order would trigger immediately.',
    });
    expect((await place({ side: 'BUY', type: 'STOP_LOSS', stopPrice: spx(ask - 100) })).json).toEqual({ code: -2010, msg: 'Order would trigger immediately.' });
    expect((await place({ side: 'SELL', type: 'TAKE_PROFIT', stopPrice: spx(bid - 100) })).json).toEqual({
      code: -2010,
      msg: 'Order would trigger immediately.',
    });
    const tr = await place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: spx(bid - 100), trailingDelta: 100 });
    expect(tr.json).toEqual({ code: -2010, msg: 'Trailing stop orders are not supported for this symbol.' });
    const info = (await rest(t.spot, 'GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT' })).json as { symbols: Array<{ allowTrailingStop: boolean }> };
    expect(info.symbols[0]!.allowTrailingStop).toBe(false);
    // the _LIMIT types need timeInForce and price, the market ones refuse them; stopPrice is mandatory
    expect((await place({ side: 'SELL', type: 'STOP_LOSS_LIMIT', price: spx(bid - 200), stopPrice: spx(bid - 100) })).json).toMatchObject({ code: -1102 });
    expect((await place({ side: 'SELL', type: 'STOP_LOSS', price: spx(bid - 200), stopPrice: spx(bid - 100) })).json).toMatchObject({ code: -1106 });
    expect((await place({ side: 'SELL', type: 'STOP_LOSS' })).json).toMatchObject({ code: -1102 });
    expect(await openOrders()).toEqual([]);
  });

  it('cancel and cancel-all cancel waiting stop orders (REST and WS API), each with its executionReport', async () => {
    const bid = book.bestBidPrice();
    const a = await place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: spx(bid - 1000), newClientOrderId: 'ca' });
    const b = await place({
      side: 'SELL',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: spx(bid + 1000),
      stopPrice: spx(bid + 1000),
      newClientOrderId: 'cb',
    });
    const lim = await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: spx(bid - 1000), newClientOrderId: 'cl' });
    for (const r of [a, b, lim]) expect(r.status, r.text).toBe(200);
    // a regular order may not reuse a waiting stop's client id
    expect((await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: spx(bid - 1000), newClientOrderId: 'ca' })).json).toEqual({
      code: -2010,
      msg: 'Duplicate order sent.',
    });
    const c = await rest(
      t.spot,
      'DELETE',
      '/api/v3/order',
      { symbol: 'BTCUSDT', orderId: (a.json as { orderId: number }).orderId, newClientOrderId: 'cx' },
      { signed: true },
    );
    expect(c.json).toMatchObject({ origClientOrderId: 'ca', clientOrderId: 'cx', status: 'CANCELED', type: 'STOP_LOSS' });
    expect(await er((e) => e.C === 'ca')).toMatchObject({ x: 'CANCELED', c: 'cx', o: 'STOP_LOSS' });
    const gone = await rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'ca' }, { signed: true });
    expect(gone.json).toMatchObject({ status: 'CANCELED', type: 'STOP_LOSS' });
    const api = await connect(t.spot.wsApiUrl);
    try {
      api.send({ id: 'all', method: 'openOrders.cancelAll', params: wsSigned(t.spot, { symbol: 'BTCUSDT' }) });
      const res = await api.next<{ status: number; result: Array<{ origClientOrderId: string; type: string }> }>((j) => j.id === 'all');
      expect(res.status).toBe(200);
      expect(res.result.map((o) => `${o.origClientOrderId}:${o.type}`).sort()).toEqual(['cb:TAKE_PROFIT_LIMIT', 'cl:LIMIT']);
    } finally {
      api.close();
    }
    await er((e) => e.C === 'cb' && e.x === 'CANCELED');
    expect(await openOrders()).toEqual([]);
  });

  it('MAX_NUM_ALGO_ORDERS: the 6th waiting stop order is -2010 (REST and WS API order.place); one more after a cancel', async () => {
    const bid = book.bestBidPrice();
    const stop = (i: number) => ({ side: 'SELL', type: 'STOP_LOSS', stopPrice: spx(bid - 1000 - i * 10), newClientOrderId: `mx${i}` });
    for (let i = 0; i < 5; i++) {
      const r = await place(stop(i));
      expect(r.status, r.text).toBe(200);
    }
    const sixth = await place(stop(5));
    expect(sixth.status).toBe(400);
    expect(sixth.json).toEqual({ code: -2010, msg: 'Filter failure: MAX_NUM_ALGO_ORDERS' });
    // ordinary orders are not algo orders
    expect((await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: spx(bid - 1000) })).status).toBe(200);
    const api = await connect(t.spot.wsApiUrl);
    try {
      api.send({ id: 'p6', method: 'order.place', params: wsSigned(t.spot, { symbol: 'BTCUSDT', quantity: '0.01000', ...stop(5) }) });
      expect(await api.next((j) => j.id === 'p6')).toMatchObject({ status: 400, error: { code: -2010, msg: 'Filter failure: MAX_NUM_ALGO_ORDERS' } });
      await rest(t.spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'mx0' }, { signed: true });
      api.send({ id: 'p6b', method: 'order.place', params: wsSigned(t.spot, { symbol: 'BTCUSDT', quantity: '0.01000', ...stop(5) }) });
      expect(await api.next((j) => j.id === 'p6b')).toMatchObject({ status: 200, result: { clientOrderId: 'mx5' } });
    } finally {
      api.close();
    }
    expect((await openOrders()).filter((o) => o['type'] === 'STOP_LOSS')).toHaveLength(5);
    await rest(t.spot, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
    expect(await openOrders()).toEqual([]);
  });
});
