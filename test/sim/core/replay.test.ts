import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MatchingBook } from '../../../src/sim/core/book.js';
import { loadCapture, parseCapture, Replayer, timelineOffsets } from '../../../src/sim/core/replay.js';
import { parseScaled } from '../../../src/util/fixed.js';
import type { SimMarketId } from '../../../src/sim/core/types.js';

const FIX = '/work/shared/exchange/fixtures';

function booksFor(src: ReturnType<typeof loadCapture>) {
  const books = new Map<SimMarketId, Map<string, MatchingBook>>();
  for (const ins of src.instruments) {
    let m = books.get(ins.market);
    if (!m) books.set(ins.market, (m = new Map()));
    m.set(ins.symbol, new MatchingBook({ instrument: ins, nowMs: () => 0 }));
  }
  return books;
}

/** Independent reconstruction straight from the file: documented sync rules, plain maps. */
function expected(file: string, market: 'binance' | 'bybit', symbol: string, conn?: string) {
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  let snap: number | undefined;
  let frames = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (market === 'binance' && o.t === 'http' && o.url.includes(`symbol=${symbol}&`)) {
      const d = JSON.parse(o.data);
      snap = d.lastUpdateId;
      bids.clear();
      asks.clear();
      for (const [p, q] of d.bids) bids.set(p, q);
      for (const [p, q] of d.asks) asks.set(p, q);
      frames++;
    } else if (o.t === 'recv' && (conn === undefined || o.conn === conn)) {
      const d = JSON.parse(o.data);
      let b: [string, string][] | undefined;
      let a: [string, string][] | undefined;
      if (market === 'binance' && d.data?.e === 'depthUpdate' && d.data.s === symbol) {
        if (snap === undefined || d.data.u <= snap) continue;
        b = d.data.b;
        a = d.data.a;
      } else if (market === 'bybit' && d.topic === `orderbook.200.${symbol}`) {
        if (d.type === 'snapshot') {
          bids.clear();
          asks.clear();
          snap = 1;
        } else if (snap === undefined) continue;
        b = d.data.b;
        a = d.data.a;
      }
      if (!b || !a) continue;
      frames++;
      for (const [p, q] of b) Number(q) === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of a) Number(q) === 0 ? asks.delete(p) : asks.set(p, q);
    }
  }
  return { bids, asks, frames };
}

function asTicks(m: Map<string, string>, pd: number, qd: number, desc: boolean): Array<[number, number]> {
  return [...m].map(([p, q]) => [parseScaled(p, pd), parseScaled(q, qd)] as [number, number]).sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0]));
}

describe('replay of recorded captures', () => {
  it('Binance spot: snapshot + diffs reproduce the recorded book (NKNUSDT)', () => {
    const file = `${FIX}/binance/spot_capture_2021-10-12_cryptofeed.ndjson`;
    const src = loadCapture(file);
    const ins = src.instruments.find((i) => i.symbol === 'NKNUSDT')!;
    expect(ins).toMatchObject({ market: 'binanceSpot', base: 'NKN', quote: 'USDT' });
    expect(['0.0001', '0.00001']).toContain(ins.tickSize); // deepest levels of the snapshot use 5 decimals
    const books = booksFor(src);
    const book = books.get('binanceSpot')!.get('NKNUSDT')!;
    const u0 = book.updateId;
    const r = new Replayer(src, { books });
    r.applyAll();
    const exp = expected(file, 'binance', 'NKNUSDT');
    expect(book.updateId - u0).toBe(exp.frames);
    const d = book.depth(100_000);
    expect(d.bids).toEqual(asTicks(exp.bids, ins.priceDecimals, ins.qtyDecimals, true));
    expect(d.asks).toEqual(asTicks(exp.asks, ins.priceDecimals, ins.qtyDecimals, false));
    expect(d.bids.length).toBeGreaterThan(100);
  });

  it('Binance USD-M: SUSHIUSDT reproduces the recorded book', () => {
    const file = `${FIX}/binance/usdm_capture_2021-07-22_cryptofeed.ndjson`;
    const src = loadCapture(file);
    const books = booksFor(src);
    const book = books.get('binanceUsdm')!.get('SUSHIUSDT')!;
    const trades: Array<[string, number, number]> = [];
    book.addListener({ onLevels: () => undefined, onOrder: () => undefined, onTrade: (_s, t) => trades.push([t.takerSide, t.priceTicks, t.qtyLots]) });
    new Replayer(src, { books }).applyAll();
    // recorded aggTrades after the symbol's snapshot, in file order
    const recorded: Array<[string, number, number]> = [];
    let synced = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const o = JSON.parse(line);
      if (o.t === 'http' && o.url.includes('symbol=SUSHIUSDT&')) synced = true;
      if (!synced || o.t !== 'recv') continue;
      const d = JSON.parse(o.data).data;
      if (d?.e === 'aggTrade' && d.s === 'SUSHIUSDT')
        recorded.push([d.m ? 'SELL' : 'BUY', parseScaled(d.p, book.instrument.priceDecimals), parseScaled(d.q, book.instrument.qtyDecimals)]);
    }
    expect(recorded.length).toBeGreaterThan(0);
    expect(trades).toEqual(recorded);
    const exp = expected(file, 'binance', 'SUSHIUSDT');
    const ins = book.instrument;
    expect(ins.contractType).toBe('PERPETUAL');
    const d = book.depth(100_000);
    expect(d.bids).toEqual(asTicks(exp.bids, ins.priceDecimals, ins.qtyDecimals, true));
    expect(d.asks).toEqual(asTicks(exp.asks, ins.priceDecimals, ins.qtyDecimals, false));
  });

  it('Bybit linear and spot: orderbook.200 snapshot + deltas reproduce the recorded book', () => {
    const file = `${FIX}/bybit/v5_public_capture_2026-08_cryptofeed.ndjson`;
    const src = loadCapture(file);
    const books = booksFor(src);
    expect([...books.keys()].sort()).toEqual(['bybitLinear', 'bybitSpot']);
    new Replayer(src, { books }).applyAll();
    const conns = new Map<string, string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const o = JSON.parse(line);
      if (o.t === 'connect') conns.set(o.addr.endsWith('linear') ? 'bybitLinear' : 'bybitSpot', o.conn);
    }
    for (const market of ['bybitLinear', 'bybitSpot'] as const) {
      const book = books.get(market)!.get('BTCUSDT')!;
      const exp = expected(file, 'bybit', 'BTCUSDT', conns.get(market));
      expect(exp.frames).toBeGreaterThan(100);
      const ins = book.instrument;
      const d = book.depth(100_000);
      expect(d.bids).toEqual(asTicks(exp.bids, ins.priceDecimals, ins.qtyDecimals, true));
      expect(d.asks).toEqual(asTicks(exp.asks, ins.priceDecimals, ins.qtyDecimals, false));
    }
  });

  it('counts bad lines and ignores unrelated frames', () => {
    const src = parseCapture('{"t":"header","exchange":"BINANCE"}\nnot json\n{"t":"recv","conn":"x","ts":1,"data":"{\\"e\\":\\"trade\\"}"}\n');
    expect(src.badLines).toBe(1);
    expect(src.events).toEqual([]);
  });
});

describe('replay order: recorded receive time, not file order (issue 13)', () => {
  const BYBIT = `${FIX}/bybit/v5_public_capture_2026-08_cryptofeed.ndjson`;
  /** the capture's book lines per market, in recorded-time order (stable), straight from the file */
  function recordedOrder(file: string): Array<{ market: string; ts: number }> {
    const conns = new Map<string, string>();
    const out: Array<{ market: string; ts: number }> = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const o = JSON.parse(line);
      if (o.t === 'connect') conns.set(o.conn, o.addr.endsWith('linear') ? 'bybitLinear' : 'bybitSpot');
      if (o.t === 'recv' && JSON.parse(o.data).topic?.startsWith('orderbook.')) out.push({ market: conns.get(o.conn)!, ts: Math.round(o.ts * 1000) });
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  it('the Bybit capture (all linear lines stored before the spot lines) plays its markets interleaved by time', () => {
    const src = loadCapture(BYBIT);
    const books = booksFor(src);
    const seen: Array<{ market: string; ts: number }> = [];
    for (const [market, m] of books)
      for (const b of m.values())
        b.addListener({ onLevels: (_s, _c, _u, ts) => seen.push({ market, ts }), onOrder: () => undefined, onTrade: () => undefined });
    new Replayer(src, { books }).applyAll();
    const want = recordedOrder(BYBIT);
    // the file stores every linear line first: file order would put the first spot frame after all of them
    expect(want.findIndex((x) => x.market === 'bybitSpot')).toBeLessThan(want.filter((x) => x.market === 'bybitLinear').length / 10);
    expect(seen.map((x) => x.market)).toEqual(want.map((x) => x.market));
    expect(seen.map((x) => x.ts)).toEqual(want.map((x) => x.ts));
  });

  it('equal times keep file order; several captures merge by recorded time', () => {
    const line = (conn: string, ts: number, u: number) =>
      JSON.stringify({
        t: 'recv',
        conn,
        ts,
        data: JSON.stringify({
          topic: 'orderbook.50.BTCUSDT',
          type: u === 1 ? 'snapshot' : 'delta',
          data: { s: 'BTCUSDT', b: [[`${100 + u}.0`, '1']], a: [], u },
        }),
      });
    const head = (conn: string, cat: string) =>
      `{"t":"header","exchange":"BYBIT"}\n{"t":"connect","conn":"${conn}","ts":1,"addr":"wss://x/v5/public/${cat}"}\n`;
    const a = parseCapture(`${head('L', 'linear')}${line('L', 10, 1)}\n${line('L', 12, 2)}\n${line('L', 12, 3)}\n`, 'a');
    const b = parseCapture(`${head('S', 'spot')}${line('S', 11, 1)}\n${line('S', 12, 2)}\n${line('S', 13, 3)}\n`, 'b');
    expect(a.events.map((e) => e.lastId)).toEqual([1, 2, 3]);
    const books = new Map<SimMarketId, Map<string, MatchingBook>>();
    for (const ins of [...a.instruments, ...b.instruments])
      books.set(ins.market, new Map([[ins.symbol, new MatchingBook({ instrument: ins, nowMs: () => 0 })]]));
    const seen: string[] = [];
    for (const [market, m] of books)
      for (const bk of m.values())
        bk.addListener({ onLevels: (_s, _c, _u, ts) => seen.push(`${market}@${ts}`), onOrder: () => undefined, onTrade: () => undefined });
    const r = new Replayer([a, b], { books });
    r.applyAll();
    expect(r.files).toEqual(['a', 'b']);
    expect(seen).toEqual(['bybitLinear@10000', 'bybitSpot@11000', 'bybitLinear@12000', 'bybitLinear@12000', 'bybitSpot@12000', 'bybitSpot@13000']);
  });

  it('captures recorded at different times play side by side from their starts', () => {
    const spot = loadCapture(`${FIX}/binance/spot_capture_2021-10-12_cryptofeed.ndjson`);
    const bybit = loadCapture(BYBIT);
    const off = timelineOffsets([spot, bybit, bybit]);
    expect(off[0]).toBe(0);
    expect(off[1]).toBe(bybit.events[0]!.recvMs - spot.events[0]!.recvMs);
    expect(off[2]).toBe(off[1]); // overlapping captures keep their absolute times
  });
});
