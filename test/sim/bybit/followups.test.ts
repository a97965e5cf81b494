// Bybit venue on the core follow-ups: venue order ids from the per-market core allocator (unique across symbols),
// SimFault kinds for snapshot / orderbook restart / trade service restart, amend through the core (queue priority).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startBybitSim, signedGet, signedPost, type BybitSim } from './helpers.js';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';

let s: BybitSim;
const LOOSE = { create: { linear: 1000, spot: 1000 }, cancel: { linear: 1000, spot: 1000 }, cancelAll: { linear: 1000, spot: 1000 }, amend: { linear: 1000, spot: 1000 } };
beforeAll(async () => {
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
let linkSeq = 0;
const link = (p: string) => `${p}-${Date.now().toString(36)}-${++linkSeq}`;

async function restBuy(cat: 'spot' | 'linear', sym: string, ticksBelow: number, qtySteps: number, l = link('o')) {
  const f = fmt(cat, sym);
  const px = f.price(book(cat, sym).bestBidPrice() - ticksBelow * f.tickUnits);
  const r = await signedPost(s.ep, '/v5/order/create', { category: cat, symbol: sym, side: 'Buy', orderType: 'Limit', qty: f.qty(qtySteps * f.stepUnits), price: px, orderLinkId: l });
  expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
  return r.json.result as { orderId: string; orderLinkId: string };
}

describe('order ids', () => {
  it('unique across symbols and categories; spot 19 digits, linear UUID-shaped; an id of another symbol is unknown', async () => {
    const ids = new Set<string>();
    const made: Array<{ cat: 'spot' | 'linear'; sym: string; id: string }> = [];
    for (const cat of ['linear', 'spot'] as const) {
      for (const sym of ['BTCUSDT', 'ETHUSDT']) {
        const f = fmt(cat, sym);
        // enough steps for the min notional everywhere
        const steps = Math.ceil((Number(book(cat, sym).instrument.minNotional) * 2 * f.priceMul * f.qtyMul) / book(cat, sym).bestBidPrice() / f.stepUnits) + 1;
        for (let i = 0; i < 2; i++) {
          const r = await restBuy(cat, sym, 300 + i, steps);
          expect(ids.has(r.orderId)).toBe(false);
          ids.add(r.orderId);
          made.push({ cat, sym, id: r.orderId });
          if (cat === 'spot') expect(r.orderId).toMatch(/^\d{19}$/);
          else expect(r.orderId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9]{12}$/);
        }
      }
    }
    for (const m of made) {
      const other = m.sym === 'BTCUSDT' ? 'ETHUSDT' : 'BTCUSDT';
      const wrong = await signedPost(s.ep, '/v5/order/cancel', { category: m.cat, symbol: other, orderId: m.id });
      expect(wrong.json.retCode).toBe(m.cat === 'spot' ? 170213 : 110001);
      const q = await signedGet(s.ep, '/v5/order/realtime', `category=${m.cat}&orderId=${m.id}`);
      expect(q.json.result.list.map((o: any) => o.symbol)).toEqual([m.sym]);
      const ok = await signedPost(s.ep, '/v5/order/cancel', { category: m.cat, symbol: m.sym, orderId: m.id });
      expect(ok.json.retCode).toBe(0);
    }
  });
});
