import { describe, expect, it } from 'vitest';
import { Accounts } from '../../../src/sim/core/accounts.js';
import { MatchingBook } from '../../../src/sim/core/book.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimLevelChange, SimNewOrder } from '../../../src/sim/core/types.js';

function setup(market: 'binanceUsdm' | 'binanceSpot' = 'binanceUsdm') {
  const accounts = new Accounts([['A'], ['B'], ['C']]);
  const book = new MatchingBook({ instrument: makeInstrument(market, 'BTCUSDT', { minNotional: '0' }), nowMs: () => 1_700_000_000_000, hooks: accounts });
  const levels: SimLevelChange[][] = [];
  const orders: Array<{ id: string; status: string; price: number; qty: number; fill: boolean }> = [];
  book.addListener({
    onLevels: (_s, ch) => levels.push(ch.map((c) => ({ ...c }))),
    onTrade: () => {},
    onOrder: (_s, o, f) => orders.push({ id: o.orderId, status: o.status, price: o.priceTicks, qty: o.qtyLots, fill: f !== undefined }),
  });
  return { book, levels, orders, accounts };
}
function ord(p: Partial<SimNewOrder>): SimNewOrder {
  return { accountId: 'A', clientOrderId: '', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: 1000, qtyLots: 10, reduceOnly: false, ...p };
}
function id(r: ReturnType<MatchingBook['submit']>): string {
  if (!r.ok) throw new Error(r.reason);
  return r.order.orderId;
}
/** account C sells `qty` IOC at `px` (fills the bids in queue order) */
function takers(book: MatchingBook, px: number, qty: number): void {
  const r = book.submit(ord({ accountId: 'C', side: 'SELL', tif: 'IOC', priceTicks: px, qtyLots: qty }));
  if (!r.ok) throw new Error(r.reason);
}

describe('SimBook.amend', () => {
  it('a smaller quantity at the same price keeps the queue priority (one batch, one onOrder, level qty updated)', () => {
    const { book, levels, orders } = setup();
    const a = id(book.submit(ord({ accountId: 'A', clientOrderId: 'a' })));
    const b = id(book.submit(ord({ accountId: 'B', clientOrderId: 'b' })));
    const nL = levels.length;
    const nO = orders.length;
    const r = book.amend('A', { clientOrderId: 'a' }, { qtyLots: 6 });
    expect(r).toMatchObject({ ok: true, keptPriority: true, fills: [] });
    expect(levels.slice(nL)).toEqual([[{ side: 'BUY', priceTicks: 1000, qtyLots: 16 }]]);
    expect(orders.slice(nO)).toEqual([{ id: a, status: 'NEW', price: 1000, qty: 6, fill: false }]);
    expect(book.bestBidQty()).toBe(16);
    // A is still first: a sell of 6 fills A entirely and leaves B
    const t = book.submit(ord({ accountId: 'C', side: 'SELL', tif: 'IOC', priceTicks: 1000, qtyLots: 6 }));
    expect(t.ok && t.fills.map((f) => f.qtyLots)).toEqual([6]);
    expect(book.getOrder('A', { orderId: a })?.status).toBe('FILLED');
    expect(book.getOrder('B', { orderId: b })?.filledLots).toBe(0);
  });

  it('a larger quantity or a new price loses it', () => {
    const { book } = setup();
    const a = id(book.submit(ord({ accountId: 'A' })));
    const b = id(book.submit(ord({ accountId: 'B' })));
    expect(book.amend('A', { orderId: a }, { qtyLots: 12 })).toMatchObject({ ok: true, keptPriority: false });
    expect(book.bestBidQty()).toBe(22);
    takers(book, 1000, 10);
    expect(book.getOrder('B', { orderId: b })?.status).toBe('FILLED');
    expect(book.getOrder('A', { orderId: a })?.filledLots).toBe(0);
    // new price and back: behind a later order
    const d = id(book.submit(ord({ accountId: 'B', priceTicks: 1000, qtyLots: 4 })));
    expect(book.amend('A', { orderId: a }, { priceTicks: 999 })).toMatchObject({ ok: true, keptPriority: false });
    expect(book.depth(2).bids).toEqual([
      [1000, 4],
      [999, 12],
    ]);
    expect(book.amend('A', { orderId: a }, { priceTicks: 1000 })).toMatchObject({ ok: true, keptPriority: false });
    takers(book, 1000, 4);
    expect(book.getOrder('B', { orderId: d })?.status).toBe('FILLED');
    expect(book.getOrder('A', { orderId: a })?.filledLots).toBe(0);
  });

  it('a price that crosses trades at once as a taker, the rest rests; POST_ONLY crossing is refused unchanged', () => {
    const { book, orders } = setup();
    book.setSynthetic('SELL', 1005, 3);
    const a = id(book.submit(ord({ accountId: 'A', qtyLots: 10 })));
    const r = book.amend('A', { orderId: a }, { priceTicks: 1005 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.fills.map((f) => [f.priceTicks, f.qtyLots, f.maker])).toEqual([[1005, 3, false]]);
    expect(r.order).toMatchObject({ status: 'PARTIALLY_FILLED', priceTicks: 1005, filledLots: 3 });
    expect(book.depth(1).bids).toEqual([[1005, 7]]);
    expect(orders.filter((o) => o.id === a).map((o) => [o.status, o.fill])).toEqual([
      ['NEW', false],
      ['NEW', false],
      ['PARTIALLY_FILLED', true],
    ]);
    book.setSynthetic('SELL', 1010, 5);
    const p = id(book.submit(ord({ accountId: 'B', tif: 'POST_ONLY', priceTicks: 1000, qtyLots: 2 })));
    expect(book.amend('B', { orderId: p }, { priceTicks: 1010 })).toEqual({ ok: false, reason: 'POST_ONLY_WOULD_TAKE' });
    expect(book.getOrder('B', { orderId: p })).toMatchObject({ priceTicks: 1000, status: 'NEW' });
  });

  it('refusals leave the order unchanged', () => {
    const { book } = setup();
    const a = id(book.submit(ord({ accountId: 'A', qtyLots: 10 })));
    book.submit(ord({ accountId: 'C', side: 'SELL', tif: 'IOC', priceTicks: 1000, qtyLots: 4 }));
    expect(book.amend('B', { orderId: a }, { qtyLots: 8 })).toEqual({ ok: false, reason: 'UNKNOWN_ORDER' });
    expect(book.amend('A', { orderId: 'nope' }, { qtyLots: 8 })).toEqual({ ok: false, reason: 'UNKNOWN_ORDER' });
    expect(book.amend('A', { orderId: a }, { qtyLots: 4 })).toEqual({ ok: false, reason: 'BAD_QTY' }); // <= filled
    expect(book.amend('A', { orderId: a }, { qtyLots: 8.5 })).toEqual({ ok: false, reason: 'BAD_QTY' });
    expect(book.amend('A', { orderId: a }, { priceTicks: 0 })).toEqual({ ok: false, reason: 'BAD_PRICE' });
    expect(book.amend('A', { orderId: a }, {})).toMatchObject({ ok: true, keptPriority: true });
    expect(book.getOrder('A', { orderId: a })).toMatchObject({ priceTicks: 1000, qtyLots: 10, filledLots: 4, status: 'PARTIALLY_FILLED' });
    // quantity down to just above the filled part
    expect(book.amend('A', { orderId: a }, { qtyLots: 5 })).toMatchObject({ ok: true, keptPriority: true });
    expect(book.bestBid()).toEqual({ priceTicks: 1000, qtyLots: 1 });
  });
});
