import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBybitGateways, type BybitRestGateway } from '../../src/exchange/bybit/trade/index.js';
import type { BybitTradeWsGateway } from '../../src/exchange/bybit/trade/tradews.js';
import type { OrderManager } from '../../src/orders/manager.js';
import { bbo, instrumentOf, manager, netOfBaseFee, sim, until, untilState, type Recorder, type SimHandle } from './harness.js';

for (const venue of ['bybitLinear', 'bybitSpot'] as const) {
  for (const transport of ['rest', 'ws'] as const) {
    describe(`${venue} over ${transport}`, () => {
      let s: SimHandle;
      let gw: BybitRestGateway;
      let m: OrderManager;
      let rec: Recorder;
      const inst = () => instrumentOf(s, venue);

      beforeAll(async () => {
        s = await sim(['bybit']);
        const ep = s.endpoints.bybit!;
        const i = instrumentOf(s, venue);
        [gw] = createBybitGateways([
          {
            category: venue === 'bybitSpot' ? 'spot' : 'linear',
            restBaseUrl: ep.restBaseUrl,
            wsApiUrl: ep.wsApiUrl,
            wsPrivateUrl: ep.wsPrivateUrl!,
            apiKey: ep.apiKey,
            apiSecret: ep.apiSecret,
            instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
            transport,
            timeoutMs: 1000,
            recovery: { queryDelayMs: 10 },
          },
        ]) as [BybitRestGateway];
        ({ m, rec } = manager(i, gw));
        await m.start();
      });
      afterAll(async () => {
        await m?.stop();
        await s?.close();
      });

      const lot = (n: number) => 2 * n * 10 ** Math.max(0, inst().qtyDecimals - 3); // n x 0.002

      it('places a resting order (ack), then cancels it', async () => {
        const { bid } = bbo(s, venue);
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: lot(1) })!;
        await untilState(m, id, ['ACKED']);
        expect(m.order(id)!.exchangeOrderId).not.toBe('');
        expect((await m.openOrders(venue)).map((o) => o.clientOrderId)).toContain(id);
        expect(m.cancel(id)).toBe(true);
        await untilState(m, id, ['CANCELED']);
      });

      it('amends price and quantity of a resting order', async () => {
        const { bid } = bbo(s, venue);
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: lot(1) })!;
        await untilState(m, id, ['ACKED']);
        expect(m.amend(id, Math.max(1, bid - 450), lot(2))).toBe(true);
        await until(() => m.order(id)!.qty === lot(2), 4000, 'amend applied');
        expect(m.order(id)!.price).toBe(Math.max(1, bid - 450));
        const ex = (await m.openOrders(venue)).find((o) => o.clientOrderId === id)!;
        expect([ex.price, ex.qty]).toEqual([Math.max(1, bid - 450), lot(2)]);
        m.cancel(id);
        await untilState(m, id, ['CANCELED']);
        expect(m.amend(id, 1, 1)).toBe(false);
      });

      it('fills a marketable order: executions (once each) fill it and move the position', async () => {
        const { ask } = bbo(s, venue);
        const before = m.portfolio.of(venue, 'BTCUSDT').qty;
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: ask + 1000, qty: lot(1) })!;
        await untilState(m, id, ['FILLED']);
        await until(() => m.order(id)!.filledQty === lot(1), 4000, 'executions');
        // spot: the fee is paid in the base coin received (the position is net of it); linear: in USDT
        expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBeCloseTo(before + netOfBaseFee(inst(), lot(1), m.order(id)!.fees), 6);
        expect(m.order(id)!.fees).toBeGreaterThan(0);
      });

      it('partial fill then cancel of the rest', async () => {
        const { ask } = bbo(s, venue);
        const askQty = s.books.get(venue)!.get('BTCUSDT')!.bestAsk()!.qtyLots;
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: ask, qty: askQty + lot(3) })!;
        await untilState(m, id, ['PARTIALLY_FILLED', 'FILLED']);
        if (m.order(id)!.state === 'PARTIALLY_FILLED') {
          m.cancel(id);
          await untilState(m, id, ['CANCELED', 'FILLED']);
        }
        await until(() => m.order(id)!.filledQty >= askQty, 4000, 'partial executions');
      });

      it('post-only that would take: accepted then cancelled with the reason', async () => {
        const { ask } = bbo(s, venue);
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'POST_ONLY', price: ask + 100, qty: lot(1) })!;
        await untilState(m, id, ['CANCELED', 'REJECTED']);
        expect(rec.events.some((e) => e.clientOrderId === id && /PostOnly/.test(e.reason))).toBe(true);
      });

      it('reject with a mapped reason (below min notional)', async () => {
        const { bid } = bbo(s, venue);
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: 10 ** Math.max(0, inst().qtyDecimals - 5) })!;
        await untilState(m, id, ['REJECTED']);
        expect(m.order(id)!.reason).toMatch(/MIN_NOTIONAL|QTY_BELOW_MIN|BAD_PARAM/);
        expect(m.order(id)!.code).toBeGreaterThan(0);
      });

      it('cancel-all (REST) then verify nothing open', async () => {
        const { bid } = bbo(s, venue);
        const ids = [1, 2].map((k) => m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 400 - k), qty: lot(1) })!);
        for (const id of ids) await untilState(m, id, ['ACKED']);
        expect(await m.cancelAllEverywhere()).toEqual([{ venue, remaining: 0 }]);
        for (const id of ids) await untilState(m, id, ['CANCELED']);
      });

      it('timeout then recover: query learns the order landed; not doubled', async () => {
        const { bid } = bbo(s, venue);
        s.inject({ kind: 'latencyMs', market: venue, ms: 1500 });
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 300), qty: lot(1) })!;
        await new Promise((r) => setTimeout(r, 200));
        s.clear();
        await untilState(m, id, ['ACKED'], 8000);
        expect((await m.openOrders(venue)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
        m.cancel(id);
        await untilState(m, id, ['CANCELED']);
      });

      it('clock skew -> 10002 -> one resync, then accepted', async () => {
        const { bid } = bbo(s, venue);
        // Bybit has one server clock for every category (/v5/market/time has no category): skew it everywhere
        s.inject({ kind: 'clockSkewMs', market: 'all', ms: -30_000 });
        let id = '';
        try {
          id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 300), qty: lot(1) })!;
          await untilState(m, id, ['ACKED', 'REJECTED'], 6000);
          expect(m.order(id)!.state).toBe('ACKED');
          expect(gw.counts.clockResyncs).toBeGreaterThanOrEqual(1);
        } finally {
          s.clear();
        }
        await gw.clock.sync();
        m.cancel(id);
        await untilState(m, id, ['CANCELED']);
      });

      if (transport === 'ws') {
        it('disconnect with the order in flight: query then (only if absent) resend, never double', async () => {
          const { bid } = bbo(s, venue);
          s.inject({ kind: 'latencyMs', market: venue, ms: 300 });
          const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 250), qty: lot(1) })!;
          await new Promise((r) => setTimeout(r, 50));
          s.inject({ kind: 'closeConnections', market: venue, which: 'wsapi' });
          s.clear();
          await untilState(m, id, ['ACKED'], 8000);
          await until(() => (gw as BybitTradeWsGateway).rpc.ready, 5000, 'trade ws reconnected');
          expect((await m.openOrders(venue)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
          m.cancel(id);
          await untilState(m, id, ['CANCELED']);
        });
      }
    });
  }
}
