// Bybit venue on the core follow-ups: venue order ids from the per-market core allocator (unique across symbols),
// SimFault kinds for snapshot / orderbook restart / trade service restart, amend through the core (queue priority).
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { Client, startBybitSim, signedGet, signedPost, wsAuthArgs, type BybitSim } from './helpers.js';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';

let s: BybitSim;
const LOOSE = {
  create: { linear: 1000, spot: 1000 },
  cancel: { linear: 1000, spot: 1000 },
  cancelAll: { linear: 1000, spot: 1000 },
  amend: { linear: 1000, spot: 1000 },
};
beforeAll(async () => {
  s = await startBybitSim({ rateLimits: LOOSE });
});
afterAll(async () => {
  await s.close();
});
const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
async function open(url: string): Promise<Client> {
  const c = await Client.open(url);
  clients.push(c);
  return c;
}
async function control(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${s.sim.endpoints.control.url}${path}`, {
    method: 'POST',
    headers: { 'X-Sim-Token': s.sim.endpoints.control.token, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}
const hdr = () => ({ 'X-BAPI-TIMESTAMP': String(Date.now()), 'X-BAPI-RECV-WINDOW': '5000' });

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
  const r = await signedPost(s.ep, '/v5/order/create', {
    category: cat,
    symbol: sym,
    side: 'Buy',
    orderType: 'Limit',
    qty: f.qty(qtySteps * f.stepUnits),
    price: px,
    orderLinkId: l,
  });
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

describe('Bybit faults from the control endpoint', () => {
  it('snapshotReset pushes a fresh snapshot with u + 1; orderbookRestart a snapshot with u == 1', async () => {
    const c = await open(`${s.ep.wsStreamBaseUrl}/v5/public/linear`);
    c.send({ op: 'subscribe', args: ['orderbook.50.BTCUSDT', 'orderbook.200.BTCUSDT'] });
    const first50 = await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'orderbook.50.BTCUSDT');
    await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'orderbook.200.BTCUSDT');
    const u200 = s.venue.topicUpdateId('linear', 'BTCUSDT', 200);
    let n = c.frames.length;
    expect((await control('/faults', { kind: 'snapshotReset', market: 'bybitLinear', symbol: 'BTCUSDT', depth: 50 })).status).toBe(200);
    const again = await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'orderbook.50.BTCUSDT', 2000, n);
    expect(again.data.u).toBe(first50.data.u + 1);
    // only the asked depth
    expect(s.venue.topicUpdateId('linear', 'BTCUSDT', 200)).toBe(u200);
    n = c.frames.length;
    expect((await control('/faults', { kind: 'orderbookRestart', market: 'bybitLinear', symbol: 'BTCUSDT' })).status).toBe(200);
    const r50 = await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'orderbook.50.BTCUSDT', 2000, n);
    const r200 = await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'orderbook.200.BTCUSDT', 2000, n);
    expect([r50.data.u, r200.data.u]).toEqual([1, 1]);
    // immediate faults are not kept
    const listed = await (await fetch(`${s.sim.endpoints.control.url}/faults`, { headers: { 'X-Sim-Token': s.sim.endpoints.control.token } })).json();
    expect(listed).toEqual({ faults: [] });
  });

  it('tradeServiceRestart: the trade WS answers 10019 and closes until clear', async () => {
    expect((await control('/faults', { kind: 'tradeServiceRestart', market: 'bybitSpot' })).status).toBe(200);
    try {
      const t = await open(s.ep.wsApiUrl);
      t.send({ op: 'auth', args: wsAuthArgs(s.ep) });
      await t.waitFor((f) => f.op === 'auth' && f.retCode === 0);
      t.send({
        reqId: 'r1',
        header: hdr(),
        op: 'order.create',
        args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01' }],
      });
      expect((await t.waitFor((x) => x.reqId === 'r1')).retCode).toBe(10019);
      await t.waitClosed();
    } finally {
      expect((await control('/faults/clear', {})).status).toBe(200);
    }
    const w = await open(s.ep.wsApiUrl);
    w.send({ op: 'auth', args: wsAuthArgs(s.ep) });
    await w.waitFor((f) => f.op === 'auth' && f.retCode === 0);
    const f = fmt('linear', 'BTCUSDT');
    const px = f.price(book('linear', 'BTCUSDT').bestBidPrice() - 400 * f.tickUnits);
    w.send({
      reqId: 'r2',
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px }],
    });
    const ok = await w.waitFor((x) => x.reqId === 'r2');
    expect(ok.retCode).toBe(0);
    w.send({ reqId: 'r3', header: hdr(), op: 'order.cancel', args: [{ category: 'linear', symbol: 'BTCUSDT', orderId: ok.data.orderId }] });
    expect((await w.waitFor((x) => x.reqId === 'r3')).retCode).toBe(0);
  });

  it('the control endpoint refuses the Bybit-only kinds for a Binance market or a bad depth', async () => {
    const bad = await control('/faults', { kind: 'snapshotReset', market: 'binanceSpot', symbol: 'BTCUSDT' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/market/);
    const depth = await control('/faults', { kind: 'snapshotReset', market: 'bybitSpot', symbol: 'BTCUSDT', depth: 25 });
    expect(depth.status).toBe(400);
    expect(depth.json.error).toMatch(/depth/);
  });
});

describe('amend through the core (queue priority)', () => {
  async function create(sym: string, px: string, steps: number, side: 'Buy' | 'Sell' = 'Buy', tif = 'GTC') {
    const f = fmt('linear', sym);
    const r = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: sym,
      side,
      orderType: 'Limit',
      qty: f.qty(steps * f.stepUnits),
      price: px,
      timeInForce: tif,
      orderLinkId: link('q'),
    });
    expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
    return r.json.result.orderId as string;
  }
  async function state(id: string) {
    return (await signedGet(s.ep, '/v5/order/realtime', `category=linear&orderId=${id}`)).json.result.list[0];
  }

  it('REST: a smaller qty keeps the place in the queue, a larger qty loses it', async () => {
    const sym = 'ETHUSDT';
    const b = book('linear', sym);
    const f = fmt('linear', sym);
    let px = b.bestBidPrice();
    let synth = b.syntheticQty('BUY', px);
    const a1 = await create(sym, f.price(px), 20);
    const a2 = await create(sym, f.price(px), 20);
    const am = await signedPost(s.ep, '/v5/order/amend', { category: 'linear', symbol: sym, orderId: a1, qty: f.qty(10 * f.stepUnits) });
    expect(am.json.retCode).toBe(0);
    expect(am.json.result.orderId).toBe(a1);
    // sell exactly the synthetic chunk (earlier in the queue) plus a1's 10 steps
    const sell = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: sym,
      side: 'Sell',
      orderType: 'Limit',
      qty: f.qty(synth + 10 * f.stepUnits),
      price: f.price(px),
      timeInForce: 'IOC',
    });
    expect(sell.json.retCode).toBe(0);
    expect((await state(a1)).orderStatus).toBe('Filled');
    expect((await state(a2)).cumExecQty).toBe(f.qty(0));
    await signedPost(s.ep, '/v5/order/cancel', { category: 'linear', symbol: sym, orderId: a2 });

    px = b.bestBidPrice();
    synth = b.syntheticQty('BUY', px);
    const c1 = await create(sym, f.price(px), 20);
    const c2 = await create(sym, f.price(px), 20);
    const up = await signedPost(s.ep, '/v5/order/amend', { category: 'linear', symbol: sym, orderId: c1, qty: f.qty(30 * f.stepUnits) });
    expect(up.json.retCode).toBe(0);
    const sell2 = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: sym,
      side: 'Sell',
      orderType: 'Limit',
      qty: f.qty(synth + 20 * f.stepUnits),
      price: f.price(px),
      timeInForce: 'IOC',
    });
    expect(sell2.json.retCode).toBe(0);
    expect((await state(c2)).orderStatus).toBe('Filled');
    const c1s = await state(c1);
    expect([c1s.orderStatus, c1s.qty, c1s.cumExecQty]).toEqual(['New', f.qty(30 * f.stepUnits), f.qty(0)]);
    await signedPost(s.ep, '/v5/order/cancel', { category: 'linear', symbol: sym, orderId: c1 });
  });

  it('trade WS: a PostOnly amended across the book is cancelled with EC_PostOnlyWillTakeLiquidity; one order id throughout', async () => {
    const sym = 'BTCUSDT';
    const b = book('linear', sym);
    const f = fmt('linear', sym);
    const p = await open(s.ep.wsPrivateUrl!);
    p.send({ op: 'auth', args: wsAuthArgs(s.ep) });
    await p.waitFor((x) => x.op === 'auth' && x.success === true);
    p.send({ op: 'subscribe', args: ['order'] });
    await p.waitFor((x) => x.op === 'subscribe');
    const id = await create(sym, f.price(b.bestBidPrice() - 20 * f.tickUnits), 10, 'Buy', 'PostOnly');
    const w = await open(s.ep.wsApiUrl);
    w.send({ op: 'auth', args: wsAuthArgs(s.ep) });
    await w.waitFor((x) => x.op === 'auth' && x.retCode === 0);
    w.send({ reqId: 'am1', header: hdr(), op: 'order.amend', args: [{ category: 'linear', symbol: sym, orderId: id, price: f.price(b.bestAskPrice()) }] });
    const ack = await w.waitFor((x) => x.reqId === 'am1');
    expect(ack.retCode).toBe(0);
    expect(ack.data.orderId).toBe(id);
    const push = await p.waitFor((x) => x.topic === 'order' && x.data[0].orderId === id && x.data[0].orderStatus === 'Cancelled');
    expect(push.data[0].rejectReason).toBe('EC_PostOnlyWillTakeLiquidity');
    const after = await state(id);
    expect([after.orderStatus, after.rejectReason]).toEqual(['Cancelled', 'EC_PostOnlyWillTakeLiquidity']);
    expect(b.openOrders(s.sim.ctx.credentials.apiKey)).toEqual([]);
  });
});
