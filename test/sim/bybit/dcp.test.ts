// Disconnection Protection (DCP) of the Bybit venue: query-dcp-info, disconnected-cancel-all (window range, account
// without DCP), dcp.* subscriptions; after the last dcp-subscribed private connection goes away and none comes back
// within the window, the product's active orders are cancelled with cancelType CancelByDCP; a reconnect +
// subscribe within the window keeps them; without DCP nothing happens.
import { describe, it, expect, afterEach } from 'vitest';
import { Client, startBybitSim, signedGet, signedPost, wsAuthArgs, sleep, type BybitSim } from './helpers.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';

const LOOSE = { create: { linear: 1000, spot: 1000 }, cancel: { linear: 1000, spot: 1000 }, cancelAll: { linear: 1000, spot: 1000 }, setDcp: 1000 };
let s: BybitSim | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await s?.close();
  s = undefined;
});

async function privateWs(sim: BybitSim, topics: string[]): Promise<Client> {
  const c = await Client.open(sim.ep.wsPrivateUrl!);
  clients.push(c);
  c.send({ req_id: 'a', op: 'auth', args: wsAuthArgs(sim.ep) });
  expect((await c.waitFor((f) => f.op === 'auth')).success).toBe(true);
  c.send({ req_id: 's', op: 'subscribe', args: topics });
  const ack = await c.waitFor((f) => f.op === 'subscribe');
  expect(ack.success, JSON.stringify(ack)).toBe(true);
  return c;
}

let seq = 0;
async function buyLinear(sim: BybitSim, ticksBelow: number): Promise<string> {
  const b = sim.sim.books.get('bybitLinear')!.get('BTCUSDT')!;
  const f = new InstrumentFmt(b.instrument, 'linear');
  const link = `dcp-${Date.now().toString(36)}-${++seq}`;
  const r = await signedPost(sim.ep, '/v5/order/create', {
    category: 'linear',
    symbol: 'BTCUSDT',
    side: 'Buy',
    orderType: 'Limit',
    qty: f.qty(10 * f.stepUnits),
    price: f.price(b.bestBidPrice() - ticksBelow * f.tickUnits),
    orderLinkId: link,
  });
  expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
  return link;
}

async function openLinks(sim: BybitSim): Promise<string[]> {
  const r = await signedGet(sim.ep, '/v5/order/realtime', 'category=linear&settleCoin=USDT&limit=50');
  expect(r.json.retCode).toBe(0);
  return (r.json.result.list as Array<{ orderLinkId: string }>).map((o) => o.orderLinkId);
}

describe('DCP off (default)', () => {
  it('query-dcp-info is empty, set window refused, orders survive a private disconnect', async () => {
    s = await startBybitSim({ rateLimits: LOOSE, dcpDefaultWindowSec: 3 });
    const info = await signedGet(s.ep, '/v5/account/query-dcp-info', '');
    expect(info.json.retCode).toBe(0);
    expect(info.json.result).toEqual({ dcpInfos: [] });
    const set = await signedPost(s.ep, '/v5/order/disconnected-cancel-all', { product: 'DERIVATIVES', timeWindow: 10 });
    expect(set.json.retCode).not.toBe(0);
    const c = await privateWs(s, ['order', 'dcp.future']); // accepted, as on Bybit, but arms nothing
    const link = await buyLinear(s, 50);
    c.close();
    await c.waitClosed();
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES').pending).toBe(false);
    await sleep(3300);
    expect(await openLinks(s)).toContain(link);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES').fired).toBe(0);
  });
});

describe('DCP on (DERIVATIVES)', () => {
  it('query lists the product; window 3..300 enforced; OPTIONS (not enabled) refused', async () => {
    s = await startBybitSim({ rateLimits: LOOSE, dcpEnabled: { DERIVATIVES: true } });
    let info = await signedGet(s.ep, '/v5/account/query-dcp-info', '');
    expect(info.json.result.dcpInfos).toEqual([{ product: 'DERIVATIVES', dcpStatus: 'ON', timeWindow: '10' }]);
    for (const tw of [2, 301, 'x', 4.5]) {
      const r = await signedPost(s.ep, '/v5/order/disconnected-cancel-all', { product: 'DERIVATIVES', timeWindow: tw });
      expect(r.json.retCode, String(tw)).toBe(10001);
    }
    expect((await signedPost(s.ep, '/v5/order/disconnected-cancel-all', { product: 'FUTURES', timeWindow: 10 })).json.retCode).toBe(10001);
    expect((await signedPost(s.ep, '/v5/order/disconnected-cancel-all', { timeWindow: 10 })).json.retCode).not.toBe(0); // OPTIONS default, not enabled
    const ok = await signedPost(s.ep, '/v5/order/disconnected-cancel-all', { product: 'DERIVATIVES', timeWindow: 3 });
    expect(ok.json).toMatchObject({ retCode: 0, retMsg: 'success' });
    info = await signedGet(s.ep, '/v5/account/query-dcp-info', '');
    expect(info.json.result.dcpInfos).toEqual([{ product: 'DERIVATIVES', dcpStatus: 'ON', timeWindow: '3' }]);
  });

  it('all dcp.future connections gone for the window: linear orders cancelled with CancelByDCP (closeConnections fault)', async () => {
    s = await startBybitSim({ rateLimits: LOOSE, dcpEnabled: { DERIVATIVES: true } });
    expect((await signedPost(s.ep, '/v5/order/disconnected-cancel-all', { product: 'DERIVATIVES', timeWindow: 3 })).json.retCode).toBe(0);
    const a = await privateWs(s, ['dcp.future']);
    const b = await privateWs(s, ['dcp.future']);
    const watcher = await privateWs(s, ['order']); // not dcp-subscribed: neither keeps DCP armed nor triggers it
    const l1 = await buyLinear(s, 50);
    const l2 = await buyLinear(s, 60);
    const sb = s.sim.books.get('bybitSpot')!.get('BTCUSDT')!;
    const sf = new InstrumentFmt(sb.instrument, 'spot');
    const spot = await signedPost(s.ep, '/v5/order/create', {
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.001',
      price: sf.price(sb.bestBidPrice() - 50 * sf.tickUnits),
      orderLinkId: `dcp-spot-${++seq}`,
    });
    expect(spot.json.retCode, JSON.stringify(spot.json)).toBe(0);
    a.close();
    await a.waitClosed();
    await sleep(50);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES')).toMatchObject({ armed: true, pending: false });
    s.sim.inject({ kind: 'closeConnections', market: 'bybitLinear', which: 'private' });
    await b.waitClosed();
    await watcher.waitClosed();
    await sleep(50);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES')).toMatchObject({ armed: false, pending: true });
    // a fresh connection without dcp.future sees the pushes but does not stop the countdown
    const after = await privateWs(s, ['order']);
    const pushes = await Promise.all([l1, l2].map((l) => after.waitFor((f) => f.topic === 'order' && f.data?.some((o: any) => o.orderLinkId === l), 8000)));
    for (const p of pushes) expect(p.data[0]).toMatchObject({ orderStatus: 'Cancelled', cancelType: 'CancelByDCP' });
    expect(await openLinks(s)).not.toContain(l1);
    // DERIVATIVES DCP leaves spot orders alone
    const spotOpen = await signedGet(s.ep, '/v5/order/realtime', 'category=spot&symbol=BTCUSDT');
    expect(spotOpen.json.result.list.map((o: { orderLinkId: string }) => o.orderLinkId)).toContain(spot.json.result.orderLinkId);
    const hist = await signedGet(s.ep, '/v5/order/history', `category=linear&orderLinkId=${l1}`);
    expect(hist.json.result.list[0]).toMatchObject({ orderStatus: 'Cancelled', cancelType: 'CancelByDCP' });
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES')).toMatchObject({ pending: false, started: 1, fired: 1 });
  });

  it('a reconnect + subscribe within the window resets the timer: orders kept', async () => {
    s = await startBybitSim({ rateLimits: LOOSE, dcpEnabled: { DERIVATIVES: true }, dcpDefaultWindowSec: 3 });
    const a = await privateWs(s, ['dcp.future']);
    const l1 = await buyLinear(s, 50);
    a.close();
    await a.waitClosed();
    await sleep(50);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES').pending).toBe(true);
    await sleep(1000);
    await privateWs(s, ['dcp.future']);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES')).toMatchObject({ armed: true, pending: false });
    await sleep(2600); // past the first countdown's end
    expect(await openLinks(s)).toContain(l1);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES')).toMatchObject({ started: 1, fired: 0 });
  });

  it('unsubscribing dcp.future disarms without a countdown', async () => {
    s = await startBybitSim({ rateLimits: LOOSE, dcpEnabled: { DERIVATIVES: true } });
    const a = await privateWs(s, ['dcp.future']);
    a.send({ op: 'unsubscribe', args: ['dcp.future'] });
    await a.waitFor((f) => f.op === 'unsubscribe');
    a.close();
    await a.waitClosed();
    await sleep(50);
    expect(s.venue.dcpState(s.ep.apiKey, 'DERIVATIVES')).toMatchObject({ armed: false, pending: false, started: 0 });
  });
});
