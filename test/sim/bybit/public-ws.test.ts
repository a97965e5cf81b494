// Public WS conformance of the Bybit venue: frame shapes against the real 2026-08 capture, number formats,
// u/seq sequencing, delta replay reproducing the simulator's book, L1 behaviour, REST/1000 alignment, faults.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { startBybitSim, Client, capture, shapeDiff, withMarket, sleep, publicGet, type BybitSim } from './helpers.js';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';

let s: BybitSim;
const cap = capture();
const clients: Client[] = [];
async function open(cat: 'spot' | 'linear'): Promise<Client> {
  const c = await Client.open(`${s.ep.wsStreamBaseUrl}/v5/public/${cat}`);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  s = await startBybitSim();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sleep(20);
});
afterAll(async () => {
  await s.close();
});

type Book = { b: Map<string, string>; a: Map<string, string> };
function apply(book: Book, f: any): void {
  if (f.type === 'snapshot') {
    book.b.clear();
    book.a.clear();
  }
  for (const [p, q] of f.data.b) q === '0' ? book.b.delete(p) : book.b.set(p, q);
  for (const [p, q] of f.data.a) q === '0' ? book.a.delete(p) : book.a.set(p, q);
}

function simBook(cat: 'spot' | 'linear', sym: string): MatchingBook {
  return s.sim.books.get(cat === 'spot' ? 'bybitSpot' : 'bybitLinear')!.get(sym)!;
}

for (const cat of ['linear', 'spot'] as const) {
  describe(`public ${cat}`, () => {
    it('acks, snapshot, delta and publicTrade have the captured keys and JSON types', async () => {
      const c = await open(cat);
      c.send({ op: 'subscribe', args: ['orderbook.200.BTCUSDT', 'publicTrade.BTCUSDT'] });
      const ack = await c.waitFor((f) => f.op === 'subscribe');
      expect(shapeDiff(cap.first.get(`${cat}|ack`), ack)).toEqual([]);
      expect(ack.success).toBe(true);
      await withMarket(s.sim, async () => {
        await c.waitFor((f) => f.type === 'delta');
        await c.waitFor((f) => typeof f.topic === 'string' && f.topic.startsWith('publicTrade.'), 8000);
      });
      const snap = c.frames.find((f) => f.type === 'snapshot' && f.topic === 'orderbook.200.BTCUSDT');
      const delta = c.frames.find((f) => f.type === 'delta');
      const trade = c.frames.find((f) => f.topic === 'publicTrade.BTCUSDT');
      expect(shapeDiff(cap.first.get(`${cat}|ob-snapshot`), snap)).toEqual([]);
      expect(shapeDiff(cap.first.get(`${cat}|ob-delta`), delta)).toEqual([]);
      expect(shapeDiff(cap.first.get(`${cat}|trade`), trade)).toEqual([]);
      // key order as captured
      const rawSnap = c.raw.find((r) => r.includes('"type":"snapshot"') && r.includes('orderbook.200'))!;
      expect(rawSnap.startsWith(cat === 'linear' ? '{"topic":"orderbook.200.BTCUSDT","type"' : '{"topic":"orderbook.200.BTCUSDT","ts"')).toBe(true);
      // number formats: linear fixed priceScale decimals, spot trailing zeros trimmed
      const ins = simBook(cat, 'BTCUSDT').instrument;
      const fmt = new InstrumentFmt(ins, cat);
      for (const [p, q] of [...snap.data.b, ...snap.data.a]) {
        if (cat === 'linear') {
          expect(p).toMatch(new RegExp(`^\\d+\\.\\d{${fmt.priceScale}}$`));
          expect(q).toMatch(new RegExp(`^\\d+\\.\\d{${fmt.qtyDecimals}}$`));
        } else {
          expect(p).toMatch(/^\d+(\.\d*[1-9])?$/);
          expect(q).toMatch(/^\d+(\.\d*[1-9])?$/);
        }
      }
      expect(snap.data.b.length).toBeLessThanOrEqual(200);
      expect(snap.data.b.length).toBeGreaterThan(100);
      expect(snap.data.a.length).toBeLessThanOrEqual(200);
      c.send({ op: 'unsubscribe', args: ['orderbook.200.BTCUSDT', 'publicTrade.BTCUSDT'] });
      await c.waitFor((f) => f.op === 'unsubscribe');
    });

    it('tickers: snapshot with the captured fields; linear deltas carry only changed fields', async () => {
      const c = await open(cat);
      c.send({ op: 'subscribe', args: ['tickers.BTCUSDT'] });
      const snap = await c.waitFor((f) => f.topic === 'tickers.BTCUSDT' && f.type === 'snapshot');
      expect(shapeDiff(cap.first.get(`${cat}|tk-snapshot`), snap)).toEqual([]);
      expect(
        c.raw.find((r) => r.includes('tickers.'))!.startsWith(cat === 'linear' ? '{"topic":"tickers.BTCUSDT","type"' : '{"topic":"tickers.BTCUSDT","ts"'),
      ).toBe(true);
      if (cat === 'linear') {
        const d = await withMarket(s.sim, () => c.waitFor((f) => f.topic === 'tickers.BTCUSDT' && f.type === 'delta'));
        expect(Object.keys(d)).toEqual(['topic', 'type', 'data', 'cs', 'ts']);
        expect(d.data.symbol).toBe('BTCUSDT');
        for (const [k, v] of Object.entries(d.data)) {
          expect(k in snap.data).toBe(true);
          expect(typeof v).toBe('string');
        }
      }
    });

    it('ping gets the category pong shape', async () => {
      const c = await open(cat);
      c.send({ op: 'ping' });
      const pong = await c.waitFor((f) => f.ret_msg === 'pong');
      const expected =
        cat === 'linear'
          ? { success: true, ret_msg: 'pong', conn_id: 'x', req_id: '', op: 'ping' }
          : { success: true, ret_msg: 'pong', conn_id: 'x', op: 'ping' };
      expect(shapeDiff(expected, pong)).toEqual([]);
      c.send({ op: 'ping', req_id: 'r1' });
      const pong2 = await c.waitFor((f) => f.ret_msg === 'pong' && f.req_id === 'r1');
      expect(pong2.op).toBe('ping');
    });

    it('u is +1 per message, seq increases, snapshot first, and deltas rebuild the exact book (incl. window edges)', async () => {
      const c = await open(cat);
      c.send({ op: 'subscribe', args: ['orderbook.50.ETHUSDT'], req_id: 'seq' });
      await withMarket(
        s.sim,
        async () => {
          await c.waitFor((f) => f.type === 'delta', 4000);
          await sleep(400);
        },
        80,
      );
      await sleep(150); // market stopped: the last push carries the final window
      const frames = c.frames.filter((f) => f.topic === 'orderbook.50.ETHUSDT');
      expect(frames[0].type).toBe('snapshot');
      expect(frames.length).toBeGreaterThan(3);
      const book: Book = { b: new Map(), a: new Map() };
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i];
        if (i > 0) {
          expect(f.type).toBe('delta');
          expect(f.data.u).toBe(frames[i - 1].data.u + 1);
          expect(f.data.seq).toBeGreaterThan(frames[i - 1].data.seq);
        }
        apply(book, f);
        expect(book.b.size).toBeLessThanOrEqual(50);
        expect(book.a.size).toBeLessThanOrEqual(50);
      }
      const sb = simBook(cat, 'ETHUSDT');
      const fmt = new InstrumentFmt(sb.instrument, cat);
      const d = sb.depth(50);
      const want = (lv: Array<[number, number]>) => lv.map(([p, q]) => [fmt.price(p), fmt.qty(q)]);
      const sortB = [...book.b.entries()].sort((x, y) => Number(y[0]) - Number(x[0]));
      const sortA = [...book.a.entries()].sort((x, y) => Number(x[0]) - Number(y[0]));
      expect(sortB).toEqual(want(d.bids));
      expect(sortA).toEqual(want(d.asks));
    });
  });
}

describe('public: L1, REST alignment, bad input', () => {
  it('orderbook.1 is snapshot-only, u +1 on change, re-sent with the same u after 3 s unchanged', async () => {
    const c = await open('linear');
    c.send({ op: 'subscribe', args: ['orderbook.1.BTCUSDT'] });
    await withMarket(s.sim, () => c.waitFor((f) => f.topic === 'orderbook.1.BTCUSDT' && f.data.u > 1_000_002, 4000), 200);
    await sleep(100); // market stopped: the last change has been pushed
    const n = c.frames.length;
    const last = c.frames.filter((f) => f.topic === 'orderbook.1.BTCUSDT').pop();
    const again = await c.waitFor((f) => f.topic === 'orderbook.1.BTCUSDT', 4500, n);
    expect(again.data.u).toBe(last.data.u);
    const l1 = c.frames.filter((f) => f.topic === 'orderbook.1.BTCUSDT');
    for (const f of l1) {
      expect(f.type).toBe('snapshot');
      expect(f.data.b.length).toBeLessThanOrEqual(1);
    }
    for (let i = 1; i < l1.length; i++) expect(l1[i].data.u - l1[i - 1].data.u).toBeLessThanOrEqual(1);
    expect(c.raw.find((r) => r.includes('orderbook.1.'))!.startsWith('{"topic":"orderbook.1.BTCUSDT","ts"')).toBe(true);
  });

  it('REST orderbook u lines up with orderbook.1000', async () => {
    const c = await open('linear');
    c.send({ op: 'subscribe', args: ['orderbook.1000.BTCUSDT'] });
    await withMarket(s.sim, () => c.waitFor((f) => f.topic === 'orderbook.1000.BTCUSDT' && f.type === 'delta'));
    await sleep(450);
    const r = await publicGet(s.ep, '/v5/market/orderbook', 'category=linear&symbol=BTCUSDT&limit=1000');
    expect(r.json.retCode).toBe(0);
    expect(Object.keys(r.json.result)).toEqual(['s', 'b', 'a', 'ts', 'u', 'seq', 'cts']);
    const frames = c.frames.filter((f) => f.topic === 'orderbook.1000.BTCUSDT');
    const book: Book = { b: new Map(), a: new Map() };
    for (const f of frames) apply(book, f);
    expect(r.json.result.u).toBe(frames[frames.length - 1].data.u);
    expect(new Map(r.json.result.b)).toEqual(book.b);
    expect(new Map(r.json.result.a)).toEqual(book.a);
  });

  it('unknown symbol, unknown topic, malformed frame, duplicate subscribe get Bybit-style errors, connection stays up', async () => {
    const c = await open('linear');
    c.send({ op: 'subscribe', args: ['orderbook.50.NOPEUSDT'], req_id: 'a' });
    const e1 = await c.waitFor((f) => f.req_id === 'a');
    expect(e1.success).toBe(false);
    expect(e1.ret_msg).toContain('Invalid symbol');
    c.send({ op: 'subscribe', args: ['orderbook.500.BTCUSDT'], req_id: 'b' });
    const e2 = await c.waitFor((f) => f.req_id === 'b');
    expect(e2.success).toBe(false);
    c.send('{"op":"subscribe",');
    const e3 = await c.waitFor((f) => f.success === false && f.req_id === '' && f.op === '');
    expect(e3.ret_msg).toContain('unmarshal');
    c.send({ op: 'subscribe', args: ['publicTrade.BTCUSDT'], req_id: 'c' });
    await c.waitFor((f) => f.req_id === 'c' && f.success === true);
    c.send({ op: 'subscribe', args: ['publicTrade.BTCUSDT'], req_id: 'd' });
    const e4 = await c.waitFor((f) => f.req_id === 'd');
    expect(e4.success).toBe(false);
    expect(e4.ret_msg).toContain('already subscribed');
    const sp = await open('spot');
    sp.send({ op: 'subscribe', args: Array.from({ length: 11 }, (_, i) => `orderbook.${i % 2 ? 1 : 50}.BTCUSDT`) });
    const e5 = await sp.waitFor((f) => f.op === 'subscribe');
    expect(e5.success).toBe(false);
    expect(c.closed).toBe(false);
  });
});

describe('public: faults and resets', () => {
  async function subscribed(sym: string): Promise<Client> {
    const c = await open('linear');
    c.send({ op: 'subscribe', args: [`orderbook.200.${sym}`] });
    await c.waitFor((f) => f.type === 'snapshot');
    return c;
  }
  const deltas = (c: Client) => c.frames.filter((f) => f.type === 'delta' && f.topic?.startsWith('orderbook.200.'));

  it('dropDiff makes a gap in u, duplicateDiff repeats a u, reorderDiff swaps two', async () => {
    const c = await subscribed('BTCUSDT');
    await withMarket(s.sim, async () => {
      await c.waitFor((f) => f.type === 'delta');
      s.sim.inject({ kind: 'dropDiff', market: 'bybitLinear', symbol: 'BTCUSDT', count: 2 });
      await c.waitFor(() => deltas(c).some((f, i, a) => i > 0 && f.data.u === a[i - 1].data.u + 3));
      s.sim.inject({ kind: 'duplicateDiff', market: 'bybitLinear', symbol: 'BTCUSDT' });
      await c.waitFor(() => deltas(c).some((f, i, a) => i > 0 && f.data.u === a[i - 1].data.u));
      s.sim.inject({ kind: 'reorderDiff', market: 'bybitLinear', symbol: 'BTCUSDT' });
      await c.waitFor(() => deltas(c).some((f, i, a) => i > 0 && f.data.u === a[i - 1].data.u - 1));
    });
  });

  it('malformedFrame sends broken JSON, oversizedFrame a frame of the asked size', async () => {
    const c = await subscribed('ETHUSDT');
    await withMarket(s.sim, async () => {
      await c.waitFor((f) => f.type === 'delta');
      s.sim.inject({ kind: 'malformedFrame', market: 'bybitLinear' });
      await c.waitFor((f) => f.__malformed !== undefined);
      s.sim.inject({ kind: 'oversizedFrame', market: 'bybitLinear', bytes: 300_000 });
      await c.waitFor(() => c.raw.some((r) => r.length >= 300_000));
    });
    const big = c.raw.find((r) => r.length >= 300_000)!;
    expect(() => JSON.parse(big)).not.toThrow();
  });

  it('a fresh snapshot mid-stream continues u; a restart sends u == 1 then 2', async () => {
    const c = await subscribed('BTCUSDT');
    await withMarket(s.sim, async () => {
      await c.waitFor((f) => f.type === 'delta');
      const n = c.frames.length;
      s.venue.pushSnapshot('linear', 'BTCUSDT', 200);
      const snap = await c.waitFor((f) => f.type === 'snapshot', 2000, n);
      const before = c.frames
        .slice(0, c.frames.indexOf(snap))
        .filter((f) => f.topic === 'orderbook.200.BTCUSDT')
        .pop();
      expect(snap.data.u).toBe(before.data.u + 1);
      const m = c.frames.length;
      s.venue.restartOrderbook('linear', 'BTCUSDT');
      const r = await c.waitFor((f) => f.type === 'snapshot', 2000, m);
      expect(r.data.u).toBe(1);
      const next = await c.waitFor((f) => f.type === 'delta', 3000, c.frames.indexOf(r) + 1);
      expect(next.data.u).toBe(2);
    });
  });

  it('closeConnections closes market sockets; stallStream pauses pushes without a gap', async () => {
    const c = await subscribed('ETHUSDT');
    s.sim.inject({ kind: 'stallStream', market: 'bybitLinear', ms: 300 });
    await withMarket(s.sim, async () => {
      await sleep(500);
      await c.waitFor((f) => f.type === 'delta');
    });
    const ds = deltas(c);
    for (let i = 1; i < ds.length; i++) expect(ds[i].data.u).toBe(ds[i - 1].data.u + 1);
    s.sim.inject({ kind: 'closeConnections', market: 'bybitLinear', which: 'market' });
    await c.waitClosed();
  });
});
