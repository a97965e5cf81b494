/** GET /api/v3/myTrades and /fapi/v1/userTrades as a client backfilling missed fills after a user-data gap uses them
 * (issue 2 item 4): ids equal `t` of executionReport / ORDER_TRADE_UPDATE, fromId paging, orderId, time windows and
 * the documented parameter errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, rest, startTestSim, wsSigned, type TestSim } from './helpers.js';

type Trade = { id: number; orderId: number; time: number };

describe('binance sim fill history for backfill', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(async () => t?.sim.close());

  it('Spot myTrades: ids = executionReport t; fromId pages; startTime oldest-first; errors', async () => {
    const api = await connect(t.spot.wsApiUrl);
    try {
      api.send({ id: 1, method: 'userDataStream.subscribe.signature', params: wsSigned(t.spot, {}) });
      await api.next((j) => j.id === 1 && j.status === 200);
      const t0 = Date.now();
      const orderIds: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await rest(
          t.spot,
          'POST',
          '/api/v3/order',
          { symbol: 'BTCUSDT', side: i % 2 ? 'SELL' : 'BUY', type: 'MARKET', quantity: '0.01', newClientOrderId: `bf-${i}` },
          { signed: true },
        );
        expect(r.status, r.text).toBe(200);
        orderIds.push((r.json as { orderId: number }).orderId);
      }
      await api.next((j) => j.event?.x === 'TRADE' && j.event.c === 'bf-3' && j.event.X === 'FILLED');
      const pushed = api
        .raw()
        .map((m) => JSON.parse(m) as { event?: { e: string; x: string; t: number } })
        .filter((j) => j.event?.e === 'executionReport' && j.event.x === 'TRADE')
        .map((j) => j.event!.t);
      const all = (await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' }, { signed: true })).json as Trade[];
      const ids = all.map((x) => x.id);
      expect(ids.length).toBeGreaterThanOrEqual(4);
      // (the first TRADE events were consumed by next(): every pushed id is listed)
      for (const id of pushed) expect(ids).toContain(id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      // fromId pages of 2 cover everything once, in order
      const paged: number[] = [];
      let from = ids[0]!;
      for (let k = 0; k < 20; k++) {
        const page = (await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', fromId: from, limit: 2 }, { signed: true })).json as Trade[];
        paged.push(...page.map((x) => x.id));
        if (page.length < 2) break;
        from = page[page.length - 1]!.id + 1;
      }
      expect(paged).toEqual(ids);
      const one = (await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', orderId: orderIds[1]! }, { signed: true })).json as Trade[];
      expect(one.length).toBeGreaterThan(0);
      expect(one.every((x) => x.orderId === orderIds[1])).toBe(true);
      const oldest = (await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', startTime: t0 - 1000, limit: 1 }, { signed: true })).json as Trade[];
      expect(oldest.map((x) => x.id)).toEqual([ids[0]]);
      const newest = (await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', limit: 1 }, { signed: true })).json as Trade[];
      expect(newest.map((x) => x.id)).toEqual([ids[ids.length - 1]]);
      const bad = await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', fromId: 1, startTime: t0 }, { signed: true });
      expect((bad.json as { code: number }).code).toBe(-1128);
      const wide = await rest(t.spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', startTime: t0 - 2 * 86_400_000, endTime: t0 }, { signed: true });
      expect((wide.json as { code: number }).code).toBe(-1127);
    } finally {
      api.close();
    }
  });

  it('USD-M userTrades: ids = ORDER_TRADE_UPDATE t; fromId pages; 7-day window', async () => {
    const lk = ((await rest(t.usdm, 'POST', '/fapi/v1/listenKey')).json as { listenKey: string }).listenKey;
    const priv = await connect(`${t.usdm.wsStreamBaseUrl}/private/ws?listenKey=${lk}`);
    try {
      for (let i = 0; i < 4; i++) {
        const r = await rest(
          t.usdm,
          'POST',
          '/fapi/v1/order',
          { symbol: 'BTCUSDT', side: i % 2 ? 'SELL' : 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: `ubf-${i}` },
          { signed: true },
        );
        expect(r.status, r.text).toBe(200);
      }
      await priv.next((j) => j.e === 'ORDER_TRADE_UPDATE' && j.o.c === 'ubf-3' && j.o.X === 'FILLED');
      const pushed = priv
        .raw()
        .map((m) => JSON.parse(m) as { e?: string; o?: { x: string; t: number } })
        .filter((j) => j.e === 'ORDER_TRADE_UPDATE' && j.o!.x === 'TRADE')
        .map((j) => j.o!.t);
      const all = (await rest(t.usdm, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' }, { signed: true })).json as Trade[];
      const ids = all.map((x) => x.id);
      expect(ids.length).toBeGreaterThanOrEqual(4);
      for (const id of pushed) expect(ids).toContain(id);
      const paged: number[] = [];
      let from = ids[0]!;
      for (let k = 0; k < 20; k++) {
        const page = (await rest(t.usdm, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', fromId: from, limit: 3 }, { signed: true })).json as Trade[];
        paged.push(...page.map((x) => x.id));
        if (page.length < 3) break;
        from = page[page.length - 1]!.id + 1;
      }
      expect(paged).toEqual(ids);
      const wide = await rest(
        t.usdm,
        'GET',
        '/fapi/v1/userTrades',
        { symbol: 'BTCUSDT', startTime: Date.now() - 8 * 86_400_000, endTime: Date.now() },
        { signed: true },
      );
      expect((wide.json as { code: number }).code).toBe(-1127);
      const old = await rest(t.usdm, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', endTime: Date.now() - 8 * 86_400_000 }, { signed: true });
      expect(old.json).toEqual([]);
      const bad = await rest(t.usdm, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', fromId: 1, endTime: Date.now() }, { signed: true });
      expect((bad.json as { code: number }).code).toBe(-1128);
    } finally {
      priv.close();
    }
  });
});
