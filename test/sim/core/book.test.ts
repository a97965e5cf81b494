import { describe, expect, it } from 'vitest';
import { MatchingBook, SYNTHETIC_ACCOUNT } from '../../../src/sim/core/book.js';
import { Accounts } from '../../../src/sim/core/accounts.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimBookListener, SimFill, SimLevelChange, SimNewOrder, SimOrder, SimPublicTrade } from '../../../src/sim/core/types.js';

interface Rec {
  levels: Array<{ changes: SimLevelChange[]; updateId: number }>;
  trades: SimPublicTrade[];
  orders: Array<{ id: string; status: string; filled: number; fill: SimFill | undefined }>;
}

function setup(market: 'binanceUsdm' | 'binanceSpot' = 'binanceUsdm') {
  const accounts = new Accounts([['A'], ['B']]);
  const book = new MatchingBook({ instrument: makeInstrument(market, 'BTCUSDT', { minNotional: '0' }), nowMs: () => 1_700_000_000_000, hooks: accounts });
  const rec: Rec = { levels: [], trades: [], orders: [] };
  const l: SimBookListener = {
    onLevels: (_s, changes, updateId) => rec.levels.push({ changes: changes.map((c) => ({ ...c })), updateId }),
    onTrade: (_s, t) => rec.trades.push(t),
    onOrder: (_s, o: SimOrder, f) => rec.orders.push({ id: o.orderId, status: o.status, filled: o.filledLots, fill: f }),
  };
  book.addListener(l);
  return { book, rec, accounts };
}

function ord(p: Partial<SimNewOrder>): SimNewOrder {
  return { accountId: 'A', clientOrderId: '', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: 1000, qtyLots: 10, reduceOnly: false, ...p };
}

describe('MatchingBook', () => {
  it('rests a GTC order, one batch per mutation, updateId +1 each', () => {
    const { book, rec } = setup();
    const u0 = book.updateId;
    const r = book.submit(ord({ clientOrderId: 'c1' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(BigInt(r.order.orderId) > 2n ** 53n).toBe(true);
    expect(r.order.status).toBe('NEW');
    expect(rec.levels).toEqual([{ changes: [{ side: 'BUY', priceTicks: 1000, qtyLots: 10 }], updateId: u0 + 1 }]);
    expect(book.bestBid()).toEqual({ priceTicks: 1000, qtyLots: 10 });
    expect(book.openOrders('A').map((o) => o.clientOrderId)).toEqual(['c1']);
    expect(book.submit(ord({ clientOrderId: 'c1' }))).toEqual({ ok: false, reason: 'DUPLICATE_CLIENT_ID' });
    expect(book.openOrders('B')).toEqual([]);
    // a batch of synthetic changes: one onLevels call
    book.beginBatch();
    book.setSynthetic('SELL', 1005, 7);
    book.setSynthetic('SELL', 1006, 8);
    book.setSynthetic('BUY', 999, 3);
    book.endBatch();
    expect(rec.levels.length).toBe(2);
    expect(rec.levels[1]).toEqual({
      updateId: u0 + 2,
      changes: [
        { side: 'SELL', priceTicks: 1005, qtyLots: 7 },
        { side: 'SELL', priceTicks: 1006, qtyLots: 8 },
        { side: 'BUY', priceTicks: 999, qtyLots: 3 },
      ],
    });
    expect(book.depth(5)).toEqual({
      bids: [
        [1000, 10],
        [999, 3],
      ],
      asks: [
        [1005, 7],
        [1006, 8],
      ],
      updateId: u0 + 2,
    });
    // no change -> no batch
    book.setSynthetic('SELL', 1005, 7);
    expect(book.updateId).toBe(u0 + 2);
  });

  it('price-time priority and partial fills', () => {
    const { book, rec } = setup();
    const a1 = book.submit(ord({ accountId: 'A', side: 'SELL', priceTicks: 1010, qtyLots: 5, clientOrderId: 'a1' }));
    book.setSynthetic('SELL', 1010, 4); // synthetic arrives after a1 at the same price
    const b1 = book.submit(ord({ accountId: 'B', side: 'SELL', priceTicks: 1010, qtyLots: 5, clientOrderId: 'b1' }));
    book.submit(ord({ accountId: 'B', side: 'SELL', priceTicks: 1009, qtyLots: 2, clientOrderId: 'b0' }));
    expect(book.bestAsk()).toEqual({ priceTicks: 1009, qtyLots: 2 });
    rec.trades.length = 0;
    rec.orders.length = 0;
    const u = book.updateId;
    const t = book.submit(ord({ accountId: 'A', side: 'BUY', priceTicks: 1010, qtyLots: 9, clientOrderId: 't' }));
    expect(t.ok).toBe(true);
    if (!t.ok || !a1.ok || !b1.ok) return;
    // 1009 x2 (b0), then 1010: a1 x5 (first in time), then synthetic x2 of 4
    expect(rec.trades.map((x) => [x.priceTicks, x.qtyLots, x.takerSide])).toEqual([
      [1009, 2, 'BUY'],
      [1010, 5, 'BUY'],
      [1010, 2, 'BUY'],
    ]);
    expect(t.fills.map((f) => [f.priceTicks, f.qtyLots, f.maker])).toEqual([
      [1009, 2, false],
      [1010, 5, false],
      [1010, 2, false],
    ]);
    expect(t.order.status).toBe('FILLED');
    expect(t.order.cumQuoteTL).toBe(1009 * 2 + 1010 * 7);
    expect(book.getOrder('A', { clientOrderId: 'a1' })?.status).toBe('FILLED');
    expect(book.getOrder('B', { orderId: b1.order.orderId })?.status).toBe('NEW');
    expect(book.syntheticQty('SELL', 1010)).toBe(2);
    expect(book.bestAsk()).toEqual({ priceTicks: 1010, qtyLots: 7 });
    expect(book.updateId).toBe(u + 1);
    const last = rec.levels[rec.levels.length - 1]!;
    expect(last.changes).toEqual([
      { side: 'SELL', priceTicks: 1009, qtyLots: 0 },
      { side: 'SELL', priceTicks: 1010, qtyLots: 7 },
    ]);
    // order events: taker NEW, maker fills with maker=true
    expect(rec.orders[0]).toMatchObject({ status: 'NEW', filled: 0 });
    expect(rec.orders.filter((o) => o.fill?.maker).map((o) => [o.status, o.fill?.qtyLots])).toEqual([
      ['FILLED', 2],
      ['FILLED', 5],
    ]);
    // a synthetic sweep trades the synthetic chunk, then fills b1 partially
    rec.orders.length = 0;
    rec.trades.length = 0;
    expect(book.sweepSynthetic('BUY', 4)).toBe(4);
    expect(rec.trades.map((x) => [x.priceTicks, x.qtyLots])).toEqual([
      [1010, 2],
      [1010, 2],
    ]);
    expect(book.getOrder('B', { clientOrderId: 'b1' })).toMatchObject({ status: 'PARTIALLY_FILLED', filledLots: 2 });
    expect(rec.orders.map((o) => [o.status, o.fill?.maker])).toEqual([['PARTIALLY_FILLED', true]]);
  });

  it('IOC, FOK, MARKET and POST_ONLY', () => {
    const { book, rec } = setup();
    book.beginBatch();
    book.setSynthetic('SELL', 1001, 3);
    book.setSynthetic('SELL', 1002, 3);
    book.setSynthetic('BUY', 999, 3);
    book.endBatch();
    const u = book.updateId;
    // FOK needing more than available within the limit: nothing happens
    const f1 = book.submit(ord({ tif: 'FOK', priceTicks: 1001, qtyLots: 4 }));
    expect(f1).toMatchObject({ ok: false, reason: 'FOK_NOT_FILLED', order: { status: 'EXPIRED' } });
    expect(book.updateId).toBe(u);
    expect(rec.trades.length).toBe(0);
    // FOK within 1002 fills completely
    const f2 = book.submit(ord({ tif: 'FOK', priceTicks: 1002, qtyLots: 4, clientOrderId: 'fok' }));
    expect(f2.ok && f2.order.status).toBe('FILLED');
    // IOC: fills what it can at its limit, remainder expires, nothing rests
    const i1 = book.submit(ord({ tif: 'IOC', priceTicks: 1002, qtyLots: 5, clientOrderId: 'ioc' }));
    expect(i1.ok && [i1.order.status, i1.order.filledLots]).toEqual(['EXPIRED', 2]);
    expect(book.bestAsk()).toBeUndefined();
    expect(book.openOrders('A')).toEqual([]);
    // POST_ONLY crossing is refused; not crossing rests
    book.setSynthetic('SELL', 1005, 2);
    expect(book.submit(ord({ tif: 'POST_ONLY', priceTicks: 1005 }))).toMatchObject({ ok: false, reason: 'POST_ONLY_WOULD_TAKE' });
    const p = book.submit(ord({ tif: 'POST_ONLY', priceTicks: 1004, clientOrderId: 'po' }));
    expect(p.ok && p.order.status).toBe('NEW');
    // MARKET sells sweep the bids; remainder expires
    const m = book.submit(ord({ type: 'MARKET', side: 'SELL', priceTicks: 0, qtyLots: 100, accountId: 'B' }));
    expect(m.ok && m.order.status).toBe('EXPIRED');
    expect(m.ok && m.fills.map((x) => [x.priceTicks, x.qtyLots])).toEqual([
      [1004, 10],
      [999, 3],
    ]);
    expect(book.bestBid()).toBeUndefined();
  });

  it('reduce-only against the futures position', () => {
    const { book, accounts } = setup();
    expect(book.submit(ord({ reduceOnly: true, side: 'SELL' }))).toEqual({ ok: false, reason: 'REDUCE_ONLY' });
    book.setSynthetic('SELL', 1001, 50);
    book.submit(ord({ tif: 'IOC', priceTicks: 1001, qtyLots: 6 })); // long 6
    expect(accounts.positionLots('A', book.instrument)).toBe(6);
    expect(accounts.get('A')?.positions.get('binanceUsdm:BTCUSDT')).toMatchObject({ sizeLots: 6, entryPriceTicks: 1001 });
    expect(book.submit(ord({ reduceOnly: true, side: 'BUY' }))).toEqual({ ok: false, reason: 'REDUCE_ONLY' });
    book.setSynthetic('BUY', 1011, 50);
    const r = book.submit(ord({ reduceOnly: true, side: 'SELL', type: 'MARKET', priceTicks: 0, qtyLots: 10 }));
    expect(r.ok && [r.order.qtyLots, r.order.filledLots, r.order.status]).toEqual([6, 6, 'FILLED']);
    const pos = accounts.get('A')?.positions.get('binanceUsdm:BTCUSDT');
    expect(pos?.sizeLots).toBe(0);
    expect(pos?.realizedPnlQuote).toBeCloseTo(10 * 0.1 * 6 * 0.001, 9);
    // spot refuses reduce-only
    const spot = setup('binanceSpot');
    expect(spot.book.submit(ord({ reduceOnly: true }))).toEqual({ ok: false, reason: 'REDUCE_ONLY' });
  });

  it('spot fills move balances, net of the taker fee paid in the base asset bought', () => {
    const { book, accounts } = setup('binanceSpot');
    book.setSynthetic('SELL', 9_700_000, 100_000); // 97000.00 x 1 BTC
    const before = accounts.get('A')!.balances.get('USDT')!.free;
    const r = book.submit(ord({ tif: 'IOC', priceTicks: 9_700_000, qtyLots: 50_000 })); // 0.5 BTC
    // default Binance Spot taker rate 0.1 %: 0.0005 BTC
    expect(r.ok && r.fills.map((f) => [f.fee, f.feeAsset, f.feeRate])).toEqual([[0.0005, 'BTC', 0.001]]);
    expect(accounts.get('A')!.balances.get('BTC')!.free).toBeCloseTo(100.5 - 0.0005, 9);
    expect(accounts.get('A')!.balances.get('USDT')!.free).toBeCloseTo(before - 48_500, 6);
  });

  it('spot orders need the free balance', () => {
    const { book } = setup('binanceSpot');
    book.setSynthetic('BUY', 9_700_000, 100_000_000);
    // 100 BTC free: selling 100.00001 is refused, 100 is fine
    expect(book.submit(ord({ side: 'SELL', priceTicks: 9_800_000, qtyLots: 10_000_001 }))).toEqual({ ok: false, reason: 'INSUFFICIENT_BALANCE' });
    expect(book.submit(ord({ side: 'SELL', priceTicks: 9_800_000, qtyLots: 10_000_000 })).ok).toBe(true);
    // 1,000,000 USDT free: 11 BTC at 97000 = 1,067,000 is too much
    expect(book.submit(ord({ side: 'BUY', priceTicks: 9_700_000, qtyLots: 1_100_000 }))).toEqual({ ok: false, reason: 'INSUFFICIENT_BALANCE' });
    expect(book.submit(ord({ side: 'BUY', priceTicks: 9_700_000, qtyLots: 1_000_000 })).ok).toBe(true);
  });

  it('cancel by id or client id, cancelAll, unknown orders', () => {
    const { book, rec } = setup();
    const a = book.submit(ord({ clientOrderId: 'x1', priceTicks: 990 }));
    book.submit(ord({ clientOrderId: 'x2', priceTicks: 990 }));
    book.submit(ord({ clientOrderId: 'x3', priceTicks: 980 }));
    book.submit(ord({ accountId: 'B', clientOrderId: 'x1', priceTicks: 980 }));
    if (!a.ok) throw new Error('submit');
    expect(book.cancel('B', { orderId: a.order.orderId })).toEqual({ ok: false, reason: 'UNKNOWN_ORDER' });
    const u = book.updateId;
    const c = book.cancel('A', { orderId: a.order.orderId });
    expect(c.ok && c.order.status).toBe('CANCELED');
    expect(book.updateId).toBe(u + 1);
    expect(rec.levels[rec.levels.length - 1]!.changes).toEqual([{ side: 'BUY', priceTicks: 990, qtyLots: 10 }]);
    expect(book.cancel('A', { orderId: a.order.orderId })).toEqual({ ok: false, reason: 'UNKNOWN_ORDER' });
    expect(book.cancel('A', { clientOrderId: 'x2' }).ok).toBe(true);
    // client id reusable after close
    expect(book.submit(ord({ clientOrderId: 'x2', priceTicks: 970 })).ok).toBe(true);
    const all = book.cancelAll('A');
    expect(all.map((o) => o.clientOrderId).sort()).toEqual(['x2', 'x3']);
    expect(book.updateId).toBe(u + 4);
    expect(book.depth(10).bids).toEqual([[980, 10]]);
    expect(book.openOrders('B').length).toBe(1);
    expect(book.getOrder('A', { clientOrderId: 'x1' })?.status).toBe('CANCELED');
    expect(book.cancelAll('A')).toEqual([]);
  });

  it('synthetic liquidity moving through a resting order fills it; synthetic vs synthetic does not trade', () => {
    const { book, rec } = setup();
    book.setSynthetic('BUY', 995, 5);
    const s = book.submit(ord({ side: 'SELL', priceTicks: 1000, qtyLots: 4 }));
    expect(s.ok).toBe(true);
    book.setSynthetic('SELL', 1002, 9);
    // the market moves up: a synthetic bid at 1002 crosses the user's ask at 1000 and the synthetic ask at 1002
    book.setSynthetic('BUY', 1002, 6);
    expect(rec.trades.map((t) => [t.priceTicks, t.qtyLots, t.takerSide])).toEqual([[1000, 4, 'BUY']]);
    expect(s.ok && s.order.status).toBe('FILLED');
    expect(book.bestBid()).toEqual({ priceTicks: 1002, qtyLots: 2 });
    expect(book.bestAsk()).toBeUndefined();
    expect(book.openOrders(SYNTHETIC_ACCOUNT)).toEqual([]);
  });

  it('a throwing listener does not wedge the book', () => {
    const errors: unknown[] = [];
    const book = new MatchingBook({
      instrument: makeInstrument('binanceSpot', 'BTCUSDT', { minNotional: '0' }),
      nowMs: () => 0,
      onListenerError: (e) => errors.push(e),
    });
    const ok: number[] = [];
    book.addListener({
      onLevels: () => {
        throw new Error('venue bug');
      },
      onTrade: () => {
        throw new Error('venue bug');
      },
      onOrder: () => undefined,
    });
    book.addListener({ onLevels: (_s, _c, u) => ok.push(u), onTrade: () => undefined, onOrder: () => undefined });
    book.setSynthetic('SELL', 1000, 5);
    book.sweepSynthetic('BUY', 1);
    book.setSynthetic('SELL', 1001, 5);
    expect(ok).toEqual([1001, 1002, 1003]);
    expect(book.listenerErrors).toBe(4);
    expect(errors.length).toBe(4);
  });

  it('validates quantity and price', () => {
    const { book } = setup();
    expect(book.submit(ord({ qtyLots: 0 }))).toEqual({ ok: false, reason: 'BAD_QTY' });
    expect(book.submit(ord({ qtyLots: 1.5 }))).toEqual({ ok: false, reason: 'BAD_QTY' });
    expect(book.submit(ord({ priceTicks: -1 }))).toEqual({ ok: false, reason: 'BAD_PRICE' });
    const strict = new MatchingBook({ instrument: makeInstrument('binanceUsdm', 'BTCUSDT'), nowMs: () => 0 });
    expect(strict.submit(ord({ priceTicks: 970_000, qtyLots: 1 }))).toEqual({ ok: false, reason: 'MIN_NOTIONAL' });
    expect(strict.submit(ord({ priceTicks: 970_000, qtyLots: 2 })).ok).toBe(true);
  });
});
