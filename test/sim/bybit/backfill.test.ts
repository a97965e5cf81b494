// GET /v5/execution/list as a client backfilling missed fills after a private-stream gap uses it (issue 2 item 4):
// execIds equal the private `execution` push's, filters (orderId, orderLinkId, startTime/endTime, execType), and a
// cursor that neither skips nor repeats while new executions arrive between pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, signedGet, signedPost, startBybitSim, wsAuthArgs, type BybitSim } from './helpers.js';

let s: BybitSim;
const LOOSE = {
  create: { linear: 1000, spot: 1000 },
  cancel: { linear: 1000, spot: 1000 },
  cancelAll: { linear: 1000, spot: 1000 },
  amend: { linear: 1000, spot: 1000 },
  query: 5000,
};
beforeAll(async () => {
  s = await startBybitSim({ rateLimits: LOOSE });
});
afterAll(async () => {
  await s?.close();
});

async function takerFill(cat: 'spot' | 'linear', link: string): Promise<string> {
  const qty = cat === 'spot' ? '0.001' : '0.002';
  const body: Record<string, string> = { category: cat, symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty, orderLinkId: link };
  if (cat === 'spot') body['marketUnit'] = 'baseCoin';
  const r = await signedPost(s.ep, '/v5/order/create', body);
  expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
  return r.json.result.orderId as string;
}

describe('bybit execution/list backfill', () => {
  it('execIds equal the pushed ones; cursor pages are stable while new fills arrive; filters', async () => {
    const c = await Client.open(s.ep.wsPrivateUrl!);
    try {
      c.send({ op: 'auth', args: wsAuthArgs(s.ep) });
      await c.waitFor((f) => f.op === 'auth' && f.success === true);
      c.send({ op: 'subscribe', args: ['execution'] });
      await c.waitFor((f) => f.op === 'subscribe');
      const t0 = Date.now();
      for (const cat of ['spot', 'linear'] as const) {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await takerFill(cat, `bf-${cat}-${i}`));
        // every pushed execution of the category (market orders may take several levels: one execution each)
        await c.waitFor((f) => f.topic === 'execution' && f.data?.some((d: { orderLinkId: string }) => d.orderLinkId === `bf-${cat}-4`));
        const pushed = c.frames
          .filter((f) => f.topic === 'execution')
          .flatMap((f) => f.data as Array<{ category: string; execId: string }>)
          .filter((d) => d.category === cat)
          .map((d) => d.execId);
        expect(pushed.length).toBeGreaterThanOrEqual(5);
        const all = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&symbol=BTCUSDT&limit=100`);
        expect(all.json.retCode).toBe(0);
        const listed = (all.json.result.list as Array<{ execId: string; execTime: string }>).map((x) => x.execId);
        expect([...listed].sort()).toEqual([...pushed].sort());
        // newest first
        const times = (all.json.result.list as Array<{ execTime: string }>).map((x) => Number(x.execTime));
        expect(times).toEqual([...times].sort((a, b) => b - a));

        // page by 2; a new fill lands between pages (it is newer than the cursor: not in later pages, nothing skipped)
        const seen: string[] = [];
        let cursor = '';
        let extra = 0;
        for (let page = 0; page < 20; page++) {
          const r = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&symbol=BTCUSDT&limit=2${cursor ? '&cursor=' + cursor : ''}`);
          for (const x of r.json.result.list as Array<{ execId: string }>) seen.push(x.execId);
          cursor = r.json.result.nextPageCursor as string;
          if (page === 0) {
            await takerFill(cat, `bf-${cat}-late`);
            extra++;
          }
          if (!cursor) break;
        }
        expect(extra).toBe(1);
        expect(new Set(seen).size).toBe(seen.length);
        expect([...seen].sort()).toEqual([...listed].sort());

        // filters
        const byOrder = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&orderId=${ids[2]}`);
        expect((byOrder.json.result.list as Array<{ orderId: string }>).every((x) => x.orderId === ids[2])).toBe(true);
        expect(byOrder.json.result.list.length).toBeGreaterThan(0);
        const byLink = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&orderLinkId=bf-${cat}-3`);
        expect((byLink.json.result.list as Array<{ orderLinkId: string }>).map((x) => x.orderLinkId)).toContain(`bf-${cat}-3`);
        expect((byLink.json.result.list as Array<{ orderLinkId: string }>).every((x) => x.orderLinkId === `bf-${cat}-3`)).toBe(true);
        const future = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&startTime=${Date.now() + 60_000}`);
        expect(future.json.result.list).toEqual([]);
        const since = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&startTime=${t0 - 1000}&endTime=${Date.now() + 1000}&limit=100`);
        expect(since.json.result.list.length).toBe(listed.length + 1);
        const funding = await signedGet(s.ep, '/v5/execution/list', `category=${cat}&execType=Funding`);
        expect(funding.json.result.list).toEqual([]);
      }
      const wide = await signedGet(s.ep, '/v5/execution/list', `category=spot&startTime=${Date.now() - 8 * 86_400_000}&endTime=${Date.now()}`);
      expect(wide.json.retCode).toBe(10001);
    } finally {
      c.close();
    }
  });
});
