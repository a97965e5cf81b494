/**
 * The live paper matcher (src/exchange/paperlive.ts) on a BookFeed driven by hand: the orderings and edge cases the
 * simulator's streams do not produce on demand (a depth update that runs ahead of its trade, the book moving through
 * a resting order, cancels ahead, the remainder of a walk, reduce-only, a book out of sync). The socket-level test is
 * test/e2e/paperlive.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BotState } from '../../src/model/botstate.js';
import { BookFeed } from '../../src/md/feed.js';
import { MdCounters } from '../../src/md/common.js';
import { ASK, BID } from '../../src/book/l2book.js';
import { LivePaperGateway } from '../../src/exchange/paperlive.js';
import type { GatewayOrder, OrderEvent } from '../../src/model/orders.js';
import { makeInstrument } from '../md/helpers.js';

function rig(venue: 'binanceSpot' | 'bybitLinear' = 'binanceSpot') {
  const ins = makeInstrument(venue, 'BTCUSDT', 2, 3, 0);
  const state = BotState.create(1);
  const feed = new BookFeed(ins, state, new MdCounters());
  let now = 1_000_000;
  const gw = new LivePaperGateway({ venue, markets: [{ ins, feed }], fees: { maker: 0.0001, taker: 0.0005 }, nowMs: () => now });
  feed.onTrade = (s) => gw.onTrade(s);
  const events: OrderEvent[] = [];
  gw.onEvent = (ev) => events.push({ ...ev });
  let seq = 1;
  /** set levels (absolute sizes; 0 deletes), commit, and tell the matcher as the adapter would */
  const book = (side: 'BUY' | 'SELL', levels: Array<[number, number]>) => {
    for (const [px, q] of levels) feed.book.set(side === 'BUY' ? BID : ASK, px, q);
    feed.seq = seq++;
    feed.commit();
    gw.onBook(0);
  };
  /** a public trade; side = the aggressor's */
  const trade = (aggressor: 'BUY' | 'SELL', px: number, qty: number) => {
    feed.tradePx = px;
    feed.tradeQty = qty;
    feed.tradeSide = aggressor === 'BUY' ? 1 : -1;
    feed.trade();
  };
  let n = 0;
  const place = (o: Partial<GatewayOrder>): string => {
    const id = `t${++n}`;
    gw.place({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      tif: 'GTC',
      price: 0,
      qty: 0,
      reduceOnly: false,
      exchangeOrderId: '',
      state: 'NEW_PENDING',
      sentNs: 0,
      sentVia: 0,
      ...o,
    });
    return id;
  };
  const flush = () => new Promise((r) => setImmediate(r));
  const filled = (id: string) => events.filter((e) => e.clientOrderId === id && e.kind === 'fill').reduce((a, e) => a + e.fillQty, 0);
  const last = (id: string) => events.filter((e) => e.clientOrderId === id).at(-1);
  return { gw, feed, book, trade, place, flush, filled, last, events, tick: (ms: number) => (now += ms) };
}

describe('live paper matcher', () => {
  it('one trade is counted once against the queue, whether the depth update comes before or after it', async () => {
    for (const depthFirst of [false, true]) {
      const r = rig();
      r.book('BUY', [[10_000, 10]]);
      r.book('SELL', [[10_001, 10]]);
      const id = r.place({ side: 'BUY', price: 10_000, qty: 5 });
      expect(r.gw.queueOf('BTCUSDT')[0]!.queueAhead).toBe(10);
      // 9 trade at the bid: the level shows 1 left
      if (depthFirst) r.book('BUY', [[10_000, 1]]);
      r.trade('SELL', 10_000, 9);
      if (!depthFirst) r.book('BUY', [[10_000, 1]]);
      await r.flush();
      expect(r.gw.queueOf('BTCUSDT')[0]!.queueAhead).toBe(1);
      expect(r.filled(id)).toBe(0);
      // 3 more trade: 1 ahead, 2 for the order
      r.trade('SELL', 10_000, 3);
      await r.flush();
      expect(r.filled(id)).toBe(2);
      expect(r.last(id)!.state).toBe('PARTIALLY_FILLED');
      expect(r.last(id)!.maker).toBe(true);
    }
  });

  it('cancels ahead: a level that shrinks with no trade moves the order up once the attribution window passed', async () => {
    const r = rig();
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [[10_001, 10]]);
    const id = r.place({ side: 'BUY', price: 10_000, qty: 5 });
    r.book('BUY', [[10_000, 4]]); // 6 cancelled: held for a trade that may still come
    expect(r.gw.queueOf('BTCUSDT')[0]!.queueAhead).toBe(10);
    r.tick(600);
    r.book('SELL', [[10_002, 3]]); // any book event after the window
    expect(r.gw.queueOf('BTCUSDT')[0]!.queueAhead).toBe(4);
    r.trade('SELL', 10_000, 5);
    await r.flush();
    expect(r.filled(id)).toBe(1);
  });

  it('trades on the same side or at other prices do not move the queue; a trade through the price fills the rest', async () => {
    const r = rig();
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [[10_001, 10]]);
    const id = r.place({ side: 'BUY', price: 10_000, qty: 5 });
    r.trade('BUY', 10_000, 50); // a buyer aggressor at our price (the ask was there): not our queue
    r.trade('SELL', 10_001, 50);
    expect(r.gw.queueOf('BTCUSDT')[0]!.queueAhead).toBe(10);
    r.trade('SELL', 9_999, 1);
    await r.flush();
    expect(r.filled(id)).toBe(5);
    expect(r.last(id)!.state).toBe('FILLED');
    expect(r.gw.queueOf('BTCUSDT')).toEqual([]);
  });

  it('the book moving through a resting order fills it at its price', async () => {
    const r = rig();
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [[10_002, 10]]);
    const id = r.place({ side: 'SELL', price: 10_002, qty: 4 });
    r.book('SELL', [
      [10_002, 0],
      [10_003, 5],
    ]);
    await r.flush();
    expect(r.filled(id)).toBe(0);
    r.book('BUY', [[10_002, 7]]); // the bid is now at the sell's price
    await r.flush();
    expect(r.filled(id)).toBe(4);
    const f = r.events.find((e) => e.kind === 'fill')!;
    expect([f.fillPrice, f.maker]).toEqual([10_002, true]);
    expect(f.fee).toBeCloseTo(100.02 * 0.004 * 0.0001, 12);
  });

  it('a marketable GTC limit walks what it can reach and rests the rest; it does not fill again on the levels it took', async () => {
    const r = rig();
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [
      [10_001, 2],
      [10_002, 3],
      [10_005, 9],
    ]);
    const id = r.place({ side: 'BUY', price: 10_002, qty: 8 });
    await r.flush();
    expect(r.events.filter((e) => e.kind === 'fill').map((e) => [e.fillPrice, e.fillQty, e.maker])).toEqual([
      [10_001, 2, false],
      [10_002, 3, false],
    ]);
    expect(r.gw.queueOf('BTCUSDT')).toEqual([{ clientOrderId: id, price: 10_002, left: 3, queueAhead: 0 }]);
    r.book('BUY', [[9_999, 1]]); // a book event while the taken asks are still shown
    await r.flush();
    expect(r.filled(id)).toBe(5);
    // the asks move away, then come back to its price: now that fills it
    r.book('SELL', [
      [10_001, 0],
      [10_002, 0],
    ]);
    r.book('SELL', [[10_002, 1]]);
    await r.flush();
    expect(r.filled(id)).toBe(8);
  });

  it('FOK fills whole or expires; market orders walk and expire what the book lacks', async () => {
    const r = rig();
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [
      [10_001, 2],
      [10_002, 3],
    ]);
    const fok = r.place({ side: 'BUY', price: 10_002, qty: 6, tif: 'FOK' });
    const mkt = r.place({ side: 'SELL', type: 'MARKET', tif: 'IOC', qty: 12 });
    await r.flush();
    expect(r.filled(fok)).toBe(0);
    expect(r.last(fok)!.state).toBe('EXPIRED');
    expect(r.filled(mkt)).toBe(10);
    expect(r.last(mkt)!.state).toBe('EXPIRED');
  });

  it('reduce-only is cut to the position and refused when it would not reduce; futures positions as a venue reports them', async () => {
    const r = rig('bybitLinear');
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [[10_001, 10]]);
    const ro = r.place({ side: 'SELL', type: 'MARKET', tif: 'IOC', qty: 3, reduceOnly: true });
    await r.flush();
    expect(r.last(ro)!.state).toBe('REJECTED');
    r.place({ side: 'BUY', type: 'MARKET', tif: 'IOC', qty: 4 });
    await r.flush();
    expect(await r.gw.positions()).toEqual([{ venue: 'bybitLinear', symbol: 'BTCUSDT', qty: 4, entryPrice: 10_001 }]);
    const cut = r.place({ side: 'SELL', type: 'MARKET', tif: 'IOC', qty: 9, reduceOnly: true });
    await r.flush();
    expect(r.filled(cut)).toBe(4);
    expect(r.last(cut)!.state).toBe('EXPIRED');
    expect(await r.gw.positions()).toEqual([]);
  });

  it('refuses whole: no book in sync, a price off the tick, post-only that would take, a duplicate id; cancel of an unknown order is a cancelReject', async () => {
    const r = rig();
    const early = r.place({ side: 'BUY', price: 10_000, qty: 1 });
    r.book('BUY', [[10_000, 10]]);
    r.book('SELL', [[10_001, 10]]);
    const frac = r.place({ side: 'BUY', price: 10_000.5, qty: 1 });
    const po = r.place({ side: 'BUY', price: 10_001, qty: 1, tif: 'POST_ONLY' });
    const ok = r.place({ side: 'BUY', price: 9_000, qty: 1, clientOrderId: 'dup' });
    r.place({ side: 'BUY', price: 9_000, qty: 1, clientOrderId: 'dup' });
    await r.flush();
    expect(r.last(early)!.reason).toBe('paper: book not in sync');
    expect(r.last(frac)!.reason).toMatch(/tick/);
    expect(r.last(po)!.reason).toMatch(/post-only/);
    expect(r.events.filter((e) => e.clientOrderId === 'dup').map((e) => e.kind)).toEqual(['ack', 'reject']);
    expect(ok).toBe('t4');
    r.gw.cancel({ clientOrderId: 'nope', symbol: 'BTCUSDT' } as GatewayOrder);
    r.gw.cancel({ clientOrderId: 'dup', symbol: 'BTCUSDT' } as GatewayOrder);
    await r.flush();
    expect(r.last('nope')!.kind).toBe('cancelReject');
    expect(r.last('dup')!.state).toBe('CANCELED');
    expect(await r.gw.openOrders()).toEqual([]);
  });
});
