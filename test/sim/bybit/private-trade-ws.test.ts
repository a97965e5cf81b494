// Private WS (/v5/private) and trade WS (/v5/trade) of the Bybit venue: auth good/bad, ack and pong shapes,
// order/execution/execution.fast/position/wallet pushes against the fixtures, trade-WS create/cancel with the
// documented response shape, 20006, 10404, 10001, 10002, 110072, 10019 restart and close, 10006.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { startBybitSim, Client, wsAuthArgs, fixture, shapeDiff, signedPost, sleep, type BybitSim } from './helpers.js';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';

let s: BybitSim;
const clients: Client[] = [];
const LOOSE = { create: { linear: 1000, spot: 1000 }, cancel: { linear: 1000, spot: 1000 }, cancelAll: { linear: 1000, spot: 1000 } };
beforeAll(async () => {
  s = await startBybitSim({ rateLimits: LOOSE });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sleep(20);
});
afterAll(async () => {
  await s.close();
});

async function open(url: string): Promise<Client> {
  const c = await Client.open(url);
  clients.push(c);
  return c;
}
function book(cat: 'spot' | 'linear', sym: string): MatchingBook {
  return s.sim.books.get(cat === 'spot' ? 'bybitSpot' : 'bybitLinear')!.get(sym)!;
}
async function authedPrivate(topics: string[]): Promise<Client> {
  const c = await open(s.ep.wsPrivateUrl!);
  c.send({ req_id: 'auth1', op: 'auth', args: wsAuthArgs(s.ep) });
  const a = await c.waitFor((f) => f.op === 'auth');
  expect(a.success).toBe(true);
  c.send({ req_id: 'sub1', op: 'subscribe', args: topics });
  const sub = await c.waitFor((f) => f.op === 'subscribe');
  expect(sub.success).toBe(true);
  return c;
}
async function authedTrade(): Promise<Client> {
  const c = await open(s.ep.wsApiUrl);
  c.send({ op: 'auth', args: wsAuthArgs(s.ep) });
  const a = await c.waitFor((f) => f.op === 'auth');
  expect(a.retCode).toBe(0);
  return c;
}
const hdr = () => ({ 'X-BAPI-TIMESTAMP': String(Date.now()), 'X-BAPI-RECV-WINDOW': '5000' });
let n = 0;
const rid = (p: string) => `${p}-${++n}`;

describe('private WS', () => {
  it('auth ack shapes (good, bad sign, expired, unknown key), subscribe before auth refused, pong shape', async () => {
    const c = await open(s.ep.wsPrivateUrl!);
    c.send({ op: 'subscribe', args: ['order'] });
    const early = await c.waitFor((f) => f.op === 'subscribe');
    expect(early.success).toBe(false);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep, { tamper: true }) });
    const bad = await c.waitFor((f) => f.op === 'auth');
    expect(bad.success).toBe(false);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep, { expires: Date.now() - 1000 }), req_id: 'exp' });
    expect((await c.waitFor((f) => f.req_id === 'exp')).success).toBe(false);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep, { apiKey: 'nope' }), req_id: 'key' });
    expect((await c.waitFor((f) => f.req_id === 'key')).success).toBe(false);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep) });
    const ok = await c.waitFor((f) => f.op === 'auth' && f.success === true);
    expect(shapeDiff({ success: true, ret_msg: '', op: 'auth', conn_id: 'x' }, ok)).toEqual([]);
    c.send({ op: 'ping', req_id: 'p' });
    const pong = await c.waitFor((f) => f.op === 'pong');
    expect(shapeDiff({ req_id: 'p', op: 'pong', args: ['1675418560633'], conn_id: 'x' }, pong)).toEqual([]);
    c.send('not json');
    const err = await c.waitFor((f) => f.success === false && f.op === '');
    expect(err.ret_msg).toContain('unmarshal');
    c.send({ op: 'subscribe', args: ['order', 'order.linear'], req_id: 'mix' });
    expect((await c.waitFor((f) => f.req_id === 'mix')).success).toBe(false);
    c.send({ op: 'subscribe', args: ['dcp.future', 'wallet'], req_id: 'dcp' });
    expect((await c.waitFor((f) => f.req_id === 'dcp')).success).toBe(true);
  });

  it("a REST market fill pushes order, execution, execution.fast, position and wallet with the fixtures' shapes", async () => {
    const c = await authedPrivate(['order', 'execution', 'execution.fast', 'position', 'wallet']);
    const r = await signedPost(s.ep, '/v5/order/create', {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '0.010',
      orderLinkId: rid('pm'),
    });
    expect(r.json.retCode).toBe(0);
    const id = r.json.result.orderId;
    const filled = await c.waitFor((f) => f.topic === 'order' && f.data[0].orderId === id && f.data[0].orderStatus === 'Filled');
    const exec = await c.waitFor((f) => f.topic === 'execution' && f.data[0].orderId === id);
    const fast = await c.waitFor((f) => f.topic === 'execution.fast' && f.data[0].orderId === id);
    const pos = await c.waitFor((f) => f.topic === 'position');
    const wal = await c.waitFor((f) => f.topic === 'wallet');
    const docOrder = fixture('docs_private_order_message.json');
    expect(shapeDiff(docOrder, filled)).toEqual([]);
    expect(shapeDiff(fixture('docs_private_execution_message.json'), exec)).toEqual([]);
    expect(shapeDiff(fixture('live_private_position_ETHUSDT.json'), pos)).toEqual([]);
    expect(
      shapeDiff(
        {
          topic: 'execution.fast',
          creationTime: 1,
          data: [
            {
              category: 'linear',
              symbol: 'BTCUSDT',
              orderId: 'x',
              isMaker: false,
              orderLinkId: '',
              execId: 'x',
              execPrice: '1',
              execQty: '1',
              side: 'Buy',
              execTime: '1',
              seq: 1,
            },
          ],
        },
        fast,
      ),
    ).toEqual([]);
    expect(Object.keys(wal).sort()).toEqual(['creationTime', 'data', 'id', 'topic']);
    for (const k of ['accountType', 'totalEquity', 'totalWalletBalance', 'totalAvailableBalance', 'totalPerpUPL', 'coin'])
      expect(wal.data[0]).toHaveProperty(k);
    for (const k of ['coin', 'equity', 'usdValue', 'walletBalance', 'locked', 'unrealisedPnl', 'cumRealisedPnl']) expect(wal.data[0].coin[0]).toHaveProperty(k);
    expect(filled.data[0].category).toBe('linear');
    expect(filled.data[0].cumExecQty).toBe('0.010');
    expect(exec.data[0].execQty).toBe('0.010');
    expect(exec.data[0].isMaker).toBe(false);
    expect(pos.data[0].symbol).toBe('BTCUSDT');
    // the NEW event comes first
    const first = c.frames.find((f) => f.topic === 'order' && f.data[0].orderId === id);
    expect(first.data[0].orderStatus).toBe('New');
  });

  it('categorised topics: order.spot gets spot orders only, topic named as subscribed', async () => {
    const c = await authedPrivate(['order.spot']);
    const l = await signedPost(s.ep, '/v5/order/create', { category: 'linear', symbol: 'ETHUSDT', side: 'Buy', orderType: 'Market', qty: '0.010' });
    expect(l.json.retCode).toBe(0);
    const sp = await signedPost(s.ep, '/v5/order/create', { category: 'spot', symbol: 'ETHUSDT', side: 'Sell', orderType: 'Market', qty: '0.01' });
    expect(sp.json.retCode).toBe(0);
    const f = await c.waitFor((x) => x.topic === 'order.spot' && x.data[0].orderId === sp.json.result.orderId);
    expect(f.data[0].category).toBe('spot');
    expect(c.frames.some((x) => x.data?.[0]?.orderId === l.json.result.orderId)).toBe(false);
  });
});

describe('trade WS', () => {
  it('auth ack and pong match the docs fixtures; repeat auth 20001; bad sign 10004', async () => {
    const c = await open(s.ep.wsApiUrl);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep, { tamper: true }) });
    const bad = await c.waitFor((f) => f.op === 'auth');
    expect(bad.retCode).toBe(10004);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep) });
    const ok = await c.waitFor((f) => f.op === 'auth' && f.retCode === 0);
    expect(shapeDiff(fixture('docs_trade_ws_auth_response.json'), ok)).toEqual([]);
    c.send({ op: 'auth', args: wsAuthArgs(s.ep), reqId: 'again' });
    expect((await c.waitFor((f) => f.reqId === 'again')).retCode).toBe(20001);
    c.send({ op: 'ping' });
    const pong = await c.waitFor((f) => f.op === 'pong');
    expect(shapeDiff(fixture('docs_trade_ws_pong.json'), pong)).toEqual([]);
  });

  it('order.create / order.cancel answer with the documented shape; errors 20006, 10404, 10001, 10002, 110072, 110001', async () => {
    const c = await authedTrade();
    const b = book('linear', 'BTCUSDT');
    const f = new InstrumentFmt(b.instrument, 'linear');
    const px = f.price(b.bestBid()!.priceTicks - 400 * f.tickUnits);
    const link = rid('tw');
    const r1 = rid('r');
    c.send({
      reqId: r1,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px, timeInForce: 'PostOnly', orderLinkId: link }],
    });
    const created = await c.waitFor((x) => x.reqId === r1);
    expect(created.retCode).toBe(0);
    expect(shapeDiff(fixture('docs_trade_ws_order_create_response.json'), created)).toEqual([]);
    expect(created.data.orderLinkId).toBe(link);
    expect(created.header['X-Bapi-Limit']).toMatch(/^\d+$/);
    c.send({
      reqId: r1,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px }],
    });
    expect((await c.waitFor((x) => x.reqId === r1 && x.retCode !== 0)).retCode).toBe(20006);
    const r2 = rid('r');
    c.send({
      reqId: r2,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px, orderLinkId: link }],
    });
    expect((await c.waitFor((x) => x.reqId === r2)).retCode).toBe(110072);
    const r3 = rid('r');
    c.send({ reqId: r3, header: hdr(), op: 'order.cancel-all', args: [{ category: 'linear', symbol: 'BTCUSDT' }] });
    expect((await c.waitFor((x) => x.reqId === r3)).retCode).toBe(10404);
    const r4 = rid('r');
    c.send({
      reqId: r4,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'inverse', symbol: 'BTCUSD', side: 'Buy', orderType: 'Limit', qty: '1', price: '1' }],
    });
    expect((await c.waitFor((x) => x.reqId === r4)).retCode).toBe(10404);
    const r5 = rid('r');
    c.send({ reqId: r5, header: hdr(), op: 'order.create', args: [] });
    expect((await c.waitFor((x) => x.reqId === r5)).retCode).toBe(10001);
    const r6 = rid('r');
    c.send({
      reqId: r6,
      header: { 'X-BAPI-TIMESTAMP': String(Date.now() - 60_000) },
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px }],
    });
    expect((await c.waitFor((x) => x.reqId === r6)).retCode).toBe(10002);
    const r7 = rid('r');
    c.send({
      reqId: r7,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'NOPEUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px }],
    });
    expect((await c.waitFor((x) => x.reqId === r7)).retCode).toBe(10001);
    c.send('{"op":');
    expect((await c.waitFor((x) => x.retCode === 10001 && x.op === '')).connId).toBeTypeOf('string');
    const r8 = rid('r');
    c.send({ reqId: r8, header: hdr(), op: 'order.cancel', args: [{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: link }] });
    const cancelled = await c.waitFor((x) => x.reqId === r8);
    expect(cancelled.retCode).toBe(0);
    expect(cancelled.data).toEqual({ orderId: created.data.orderId, orderLinkId: link });
    const r9 = rid('r');
    c.send({ reqId: r9, header: hdr(), op: 'order.cancel', args: [{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: link }] });
    expect((await c.waitFor((x) => x.reqId === r9)).retCode).toBe(110001);
    expect(c.closed).toBe(false);
  });

  it('order.amend keeps the id and pushes the amended order on the private stream', async () => {
    const p = await authedPrivate(['order']);
    const c = await authedTrade();
    const b = book('spot', 'ETHUSDT');
    const f = new InstrumentFmt(b.instrument, 'spot');
    const px = f.price(b.bestBid()!.priceTicks - 100 * f.tickUnits);
    const px2 = f.price(b.bestBid()!.priceTicks - 120 * f.tickUnits);
    const r1 = rid('am');
    c.send({
      reqId: r1,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'spot', symbol: 'ETHUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px }],
    });
    const created = await c.waitFor((x) => x.reqId === r1);
    expect(created.retCode).toBe(0);
    const r2 = rid('am');
    c.send({ reqId: r2, header: hdr(), op: 'order.amend', args: [{ category: 'spot', symbol: 'ETHUSDT', orderId: created.data.orderId, price: px2 }] });
    const amended = await c.waitFor((x) => x.reqId === r2);
    expect(amended.retCode).toBe(0);
    expect(amended.data.orderId).toBe(created.data.orderId);
    const push = await p.waitFor((x) => x.topic === 'order' && x.data[0].orderId === created.data.orderId && x.data[0].price === px2);
    expect(push.data[0].orderStatus).toBe('New');
    expect(p.frames.some((x) => x.topic === 'order' && x.data[0].orderId === created.data.orderId && x.data[0].orderStatus === 'Cancelled')).toBe(false);
    const r3 = rid('am');
    c.send({ reqId: r3, header: hdr(), op: 'order.cancel', args: [{ category: 'spot', symbol: 'ETHUSDT', orderId: created.data.orderId }] });
    expect((await c.waitFor((x) => x.reqId === r3)).retCode).toBe(0);
  });

  it('order.create-batch / order.cancel-batch answer data.list and retExtInfo.list', async () => {
    const c = await authedTrade();
    const b = book('linear', 'ETHUSDT');
    const f = new InstrumentFmt(b.instrument, 'linear');
    const px = f.price(b.bestBid()!.priceTicks - 150 * f.tickUnits);
    const r1 = rid('bt');
    c.send({
      reqId: r1,
      header: hdr(),
      op: 'order.create-batch',
      args: [
        {
          category: 'linear',
          request: [
            { symbol: 'ETHUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px },
            { symbol: 'ETHUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: px },
          ],
        },
      ],
    });
    const created = await c.waitFor((x) => x.reqId === r1);
    expect(created.retCode).toBe(0);
    expect(created.data.list).toHaveLength(2);
    expect(created.retExtInfo.list).toEqual([
      { code: 0, msg: 'OK' },
      { code: 0, msg: 'OK' },
    ]);
    expect(created.header['X-Bapi-Limit-Status']).toMatch(/^\d+$/);
    const r2 = rid('bt');
    c.send({
      reqId: r2,
      header: hdr(),
      op: 'order.cancel-batch',
      args: [{ category: 'linear', request: created.data.list.map((o: any) => ({ symbol: 'ETHUSDT', orderId: o.orderId })) }],
    });
    const cancelled = await c.waitFor((x) => x.reqId === r2);
    expect(cancelled.retExtInfo.list.map((x: any) => x.code)).toEqual([0, 0]);
  });

  it('requests before auth are refused; a trade-WS fill drives the private stream', async () => {
    const raw = await open(s.ep.wsApiUrl);
    raw.send({
      reqId: 'x',
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01' }],
    });
    expect((await raw.waitFor((x) => x.reqId === 'x')).retCode).toBe(10003);
    const p = await authedPrivate(['execution']);
    const c = await authedTrade();
    const r = rid('fill');
    c.send({
      reqId: r,
      header: hdr(),
      op: 'order.create',
      args: [{ category: 'spot', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.001', marketUnit: 'baseCoin' }],
    });
    const ack = await c.waitFor((x) => x.reqId === r);
    expect(ack.retCode).toBe(0);
    const e = await p.waitFor((x) => x.topic === 'execution' && x.data[0].orderId === ack.data.orderId);
    expect(e.data[0].category).toBe('spot');
    expect(e.data[0].execQty).toBe('0.001');
  });

  it('10019 while the trade service restarts, then the connection closes; 10006 over the limit', async () => {
    const c = await authedTrade();
    s.venue.setTradeServiceRestarting(true);
    try {
      c.send({
        reqId: 'rs',
        header: hdr(),
        op: 'order.create',
        args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01' }],
      });
      expect((await c.waitFor((x) => x.reqId === 'rs')).retCode).toBe(10019);
      await c.waitClosed();
    } finally {
      s.venue.setTradeServiceRestarting(false);
    }
    const t = await startBybitSim({ rateLimits: { windowMs: 60_000, create: { linear: 2, spot: 2 } } });
    try {
      const w = await Client.open(t.ep.wsApiUrl);
      clients.push(w);
      w.send({ op: 'auth', args: wsAuthArgs(t.ep) });
      await w.waitFor((f) => f.op === 'auth' && f.retCode === 0);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const id = `rl-${i}`;
        w.send({
          reqId: id,
          header: hdr(),
          op: 'order.create',
          args: [{ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '90000' }],
        });
        const a = await w.waitFor((x) => x.reqId === id);
        codes.push(a.retCode);
        if (i === 2) expect(a.header['X-Bapi-Limit-Status']).toBe('0');
      }
      expect(codes).toEqual([0, 0, 10006]);
    } finally {
      await t.close();
    }
  });

  it('closeConnections(private/wsapi) closes those sockets', async () => {
    const p = await authedPrivate(['order']);
    const t = await authedTrade();
    s.sim.inject({ kind: 'closeConnections', market: 'bybitLinear', which: 'private' });
    await p.waitClosed();
    expect(t.closed).toBe(false);
    s.sim.inject({ kind: 'closeConnections', market: 'bybitLinear', which: 'wsapi' });
    await t.waitClosed();
  });

  it('?max_active_time closes a private socket that sends nothing for that long', async () => {
    const t = await startBybitSim({ minMaxActiveTimeSec: 1 });
    try {
      const idle = await Client.open(`${t.ep.wsPrivateUrl}?max_active_time=1s`);
      clients.push(idle);
      const plain = await Client.open(t.ep.wsPrivateUrl!);
      clients.push(plain);
      await idle.waitClosed(5000);
      expect(plain.closed).toBe(false);
    } finally {
      await t.close();
    }
  });
});
