/**
 * Bybit conditional orders in the simulator, over REST and the private `order` stream: create with triggerPrice +
 * triggerDirection (spot: orderFilter=StopOrder), Untriggered -> Triggered -> the order in the book under the same
 * orderId and orderLinkId -> Filled; Deactivated on cancel; realtime and cancel-all by orderFilter; the venue's
 * refusals (a trigger already passed: 110092 / 110093, spot without StopOrder, a bad direction).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, signedGet, signedPost, startBybitSim, wsAuthArgs, type BybitSim } from './helpers.js';
import type { MatchingBook } from '../../../src/sim/core/book.js';

let s: BybitSim;
let priv: Client;
beforeAll(async () => {
  s = await startBybitSim();
  priv = await Client.open(s.ep.wsPrivateUrl!);
  priv.send({ op: 'auth', args: wsAuthArgs(s.ep) });
  priv.send({ req_id: 'sub', op: 'subscribe', args: ['order', 'execution'] });
  await priv.waitFor((f) => f.req_id === 'sub' && f.success === true);
});
afterAll(async () => {
  priv?.ws.close();
  await s?.close();
});

const book = (cat: 'linear' | 'spot'): MatchingBook => s.sim.books.get(cat === 'linear' ? 'bybitLinear' : 'bybitSpot')!.get('BTCUSDT')!;
const pd = (cat: 'linear' | 'spot'): number => book(cat).instrument.priceDecimals;
const px = (cat: 'linear' | 'spot', ticks: number): string => (ticks / 10 ** pd(cat)).toFixed(pd(cat));
const orders = (link: string): any[] =>
  priv.frames
    .filter((f) => f.topic === 'order')
    .flatMap((f) => f.data)
    .filter((o: any) => o.orderLinkId === link);

for (const cat of ['linear', 'spot'] as const) {
  describe(`${cat} conditional orders`, () => {
    const extra = cat === 'spot' ? { orderFilter: 'StopOrder' } : { triggerBy: 'LastPrice' };
    it('Untriggered, listed by orderFilter=StopOrder only, Triggered by the market, then filled under the same ids', async () => {
      const b = book(cat);
      const ask = b.bestAsk()!.priceTicks;
      const trigger = ask + 10 ** pd(cat);
      const link = `cond-${cat}-1`;
      const r = await signedPost(s.ep, '/v5/order/create', {
        category: cat,
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Market',
        qty: '0.002',
        ...(cat === 'spot' ? { marketUnit: 'baseCoin' } : {}),
        triggerPrice: px(cat, trigger),
        triggerDirection: 1,
        orderLinkId: link,
        ...extra,
      });
      expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
      const orderId = r.json.result.orderId as string;
      const u = await priv.waitFor(() => orders(link).length > 0);
      expect(u).toBeTruthy();
      expect(orders(link)[0]).toMatchObject({ orderId, orderStatus: 'Untriggered', stopOrderType: 'Stop', triggerDirection: 1 });
      expect(Number(orders(link)[0].triggerPrice)).toBe(Number(px(cat, trigger)));
      const stops = await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT&orderFilter=StopOrder`);
      expect(stops.json.result.list.map((o: any) => [o.orderLinkId, o.orderStatus])).toEqual([[link, 'Untriggered']]);
      const active = await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT&orderFilter=Order`);
      expect(active.json.result.list.map((o: any) => o.orderLinkId)).not.toContain(link);
      b.setSynthetic('BUY', trigger, 1_000_000); // the market rises to the trigger
      await priv.waitFor(() => orders(link).some((o) => o.orderStatus === 'Filled'));
      const seq = orders(link).map((o) => o.orderStatus);
      expect(seq[0]).toBe('Untriggered');
      expect(seq[1]).toBe('Triggered');
      expect(seq.at(-1)).toBe('Filled');
      expect(new Set(orders(link).map((o) => o.orderId))).toEqual(new Set([orderId])); // one orderId throughout
      const execs = priv.frames
        .filter((f) => f.topic === 'execution')
        .flatMap((f) => f.data)
        .filter((e: any) => e.orderLinkId === link);
      expect(execs.length).toBeGreaterThan(0);
      expect(execs.every((e: any) => e.orderId === orderId)).toBe(true);
      const after = await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT&orderFilter=StopOrder`);
      expect(after.json.result.list).toEqual([]);
    });

    it('cancel -> Deactivated; cancel-all with orderFilter=StopOrder takes the conditional orders only', async () => {
      const b = book(cat);
      const bid = b.bestBid()!.priceTicks;
      const mk = (link: string, t: number) =>
        signedPost(s.ep, '/v5/order/create', {
          category: cat,
          symbol: 'BTCUSDT',
          side: 'Sell',
          orderType: 'Limit',
          qty: '0.002',
          price: px(cat, t),
          triggerPrice: px(cat, t),
          triggerDirection: 2,
          orderLinkId: link,
          ...extra,
        });
      expect((await mk(`cx-${cat}-1`, bid - 50 * 10 ** pd(cat))).json.retCode).toBe(0);
      expect((await mk(`cx-${cat}-2`, bid - 60 * 10 ** pd(cat))).json.retCode).toBe(0);
      const c = await signedPost(s.ep, '/v5/order/cancel', {
        category: cat,
        symbol: 'BTCUSDT',
        orderLinkId: `cx-${cat}-1`,
        ...(cat === 'spot' ? { orderFilter: 'StopOrder' } : {}),
      });
      expect(c.json.retCode, JSON.stringify(c.json)).toBe(0);
      await priv.waitFor(() => orders(`cx-${cat}-1`).some((o) => o.orderStatus === 'Deactivated'));
      const all = await signedPost(s.ep, '/v5/order/cancel-all', { category: cat, symbol: 'BTCUSDT', orderFilter: 'StopOrder' });
      expect(all.json.result.list.map((o: any) => o.orderLinkId)).toEqual([`cx-${cat}-2`]);
      await priv.waitFor(() => orders(`cx-${cat}-2`).some((o) => o.orderStatus === 'Deactivated'));
      expect((await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT&orderFilter=StopOrder`)).json.result.list).toEqual([]);
    });

    it('refusals: a trigger the market has passed, a bad direction or filter', async () => {
      const ask = book(cat).bestAsk()!.priceTicks;
      const base = { category: cat, symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.002', price: px(cat, ask), ...extra };
      if (cat === 'linear') {
        const past = await signedPost(s.ep, '/v5/order/create', { ...base, triggerPrice: px(cat, ask - 10 ** pd(cat) * 100), triggerDirection: 1 });
        expect(past.json.retCode).toBe(110092);
        const fall = await signedPost(s.ep, '/v5/order/create', { ...base, triggerPrice: px(cat, ask + 10 ** pd(cat) * 100), triggerDirection: 2 });
        expect(fall.json.retCode).toBe(110093);
        expect((await signedPost(s.ep, '/v5/order/create', { ...base, triggerPrice: px(cat, ask + 100), triggerDirection: 0 })).json.retCode).toBe(10001);
      } else {
        const noFilter = await signedPost(s.ep, '/v5/order/create', { ...base, orderFilter: undefined, triggerPrice: px(cat, ask + 100) });
        expect(noFilter.json.retCode).toBe(10001);
      }
      expect((await signedPost(s.ep, '/v5/order/cancel-all', { category: cat, symbol: 'BTCUSDT', orderFilter: 'Nope' })).json.retCode).toBe(10001);
    });
  });
}
