import { afterEach, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { MatchingBook, OrderIdAllocator } from '../../../src/sim/core/book.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimBook } from '../../../src/sim/core/types.js';

const open: SimHandle[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** a resting buy well below the market, big enough for the min notional */
function restingBuy(book: SimBook, accountId: string, n: number) {
  const ins = book.instrument;
  const b = book as MatchingBook;
  const price = book.bestBidPrice() - (10 + n) * b.tickUnits;
  const minUnits = Number(ins.minNotional) * 2 * 10 ** (ins.priceDecimals + ins.qtyDecimals);
  const qty = Math.max(1, Math.ceil(minUnits / price / b.stepUnits)) * b.stepUnits;
  const r = book.submit({ accountId, clientOrderId: '', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: price, qtyLots: qty, reduceOnly: false });
  if (!r.ok) throw new Error(`${ins.market}:${ins.symbol} rejected ${r.reason}`);
  return r.order;
}

describe('order ids', () => {
  it('are unique across the books of a market and across markets; USD-M ids exceed 2^53 as strings', async () => {
    const sim = await startSim({ seed: 3, venues: [], generatorMode: 'manual', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] });
    open.push(sim);
    const acc = sim.ctx.account(sim.ctx.credentials.apiKey)!.id;
    const seen = new Map<string, string>();
    for (const [market, bySym] of sim.ctx.books) {
      for (let n = 0; n < 3; n++) {
        for (const [sym, book] of bySym) {
          const o = restingBuy(book, acc, n);
          expect(typeof o.orderId).toBe('string');
          expect(o.orderId).toMatch(/^[1-9]\d*$/);
          expect(seen.get(o.orderId), `${market}:${sym} reused ${o.orderId}`).toBeUndefined();
          seen.set(o.orderId, `${market}:${sym}`);
          if (market === 'binanceUsdm') expect(BigInt(o.orderId) > 2n ** 53n).toBe(true);
          // an order is found only in its own book
          for (const [s2, other] of bySym) if (s2 !== sym) expect(other.getOrder(acc, { orderId: o.orderId })).toBeUndefined();
        }
      }
    }
    expect(seen.size).toBe(4 * 3 * 3);
  });

  it('a book without a shared allocator keeps its own sequence; an allocator above 2^53 counts exactly', () => {
    const a = new OrderIdAllocator('9007199254740991');
    expect([a.next(), a.next(), a.peek()]).toEqual(['9007199254740991', '9007199254740992', '9007199254740993']);
    const small = new OrderIdAllocator(5);
    expect([small.next(), small.next()]).toEqual(['5', '6']);
    const shared = new OrderIdAllocator('100');
    const ins1 = makeInstrument('binanceSpot', 'BTCUSDT', { minNotional: '0' });
    const ins2 = makeInstrument('binanceSpot', 'ETHUSDT', { minNotional: '0' });
    const b1 = new MatchingBook({ instrument: ins1, nowMs: () => 1, ids: shared });
    const b2 = new MatchingBook({ instrument: ins2, nowMs: () => 1, ids: shared });
    const o = {
      accountId: 'A',
      clientOrderId: '',
      side: 'BUY' as const,
      type: 'LIMIT' as const,
      tif: 'GTC' as const,
      priceTicks: 100,
      qtyLots: 10,
      reduceOnly: false,
    };
    const ids = [b1.submit(o), b2.submit(o), b1.submit(o)].map((r) => (r.ok ? r.order.orderId : r.reason));
    expect(ids).toEqual(['100', '101', '102']);
  });
});
