/**
 * Replays the real Bybit v5 capture (2026-08-09, linear + spot BTCUSDT, orderbook.200 snapshot + deltas,
 * publicTrade, tickers, kline, acks) byte for byte through the adapter's frame handler and checks the books
 * against an independent JSON.parse + Map reference at checkpoints.
 */
import { describe, expect, it } from 'vitest';
import { BotState, F, FLAG_VALID } from '../../src/model/botstate.js';
import { BybitMd } from '../../src/exchange/bybit/md/adapter.js';
import { BID, ASK } from '../../src/book/l2book.js';
import { RefBook, decimalsFromCapture, loadCapture, makeInstrument } from './helpers.js';
import { parseScaled } from '../../src/util/fixed.js';

const FILE = 'bybit/v5_public_capture_2026-08_cryptofeed.ndjson';

describe.each([
  { category: 'linear' as const, snapshots: 1, deltas: 413 },
  { category: 'spot' as const, snapshots: 1, deltas: 299 },
])('bybit capture replay: $category BTCUSDT', ({ category, deltas }) => {
  it('matches the reference book at every checkpoint and writes BotState', () => {
    const lines = loadCapture(FILE);
    const connects = lines.filter((l) => l.t === 'connect' && (l.addr ?? '').endsWith('/' + category)).map((l) => l.conn);
    const mine = lines.filter((l) => l.t === 'recv' && connects.includes(l.conn));
    const dec = decimalsFromCapture(mine).get('BTCUSDT')!;
    const inst = makeInstrument(category === 'spot' ? 'bybitSpot' : 'bybitLinear', 'BTCUSDT', dec.px, dec.qty, 0);
    const state = BotState.create(1);
    const md = new BybitMd({ category, wsBaseUrl: 'ws://127.0.0.1:1', instruments: [inst], state });
    const ref = new RefBook();
    let refDeltas = 0;
    let lastU = -1;
    let lastTrade: { p: string; v: string; S: string } | undefined;
    let checks = 0;
    let n = 0;
    for (const l of mine) {
      md.onFrame(Buffer.from(l.data!, 'utf8'), ++n);
      const j = JSON.parse(l.data!) as { topic?: string; type?: string; data?: unknown };
      if (j.topic?.startsWith('orderbook.')) {
        const d = j.data as { b: Array<[string, string]>; a: Array<[string, string]>; u: number };
        if (j.type === 'snapshot') ref.clear();
        else refDeltas++;
        ref.apply(d.b, d.a);
        lastU = d.u;
        if (n % 5 === 0) {
          expect(md.book('BTCUSDT')!.levels(BID)).toEqual(ref.levels('bid', inst.priceDecimals, inst.qtyDecimals));
          expect(md.book('BTCUSDT')!.levels(ASK)).toEqual(ref.levels('ask', inst.priceDecimals, inst.qtyDecimals));
          checks++;
        }
      } else if (j.topic?.startsWith('publicTrade.')) {
        const arr = j.data as Array<{ p: string; v: string; S: string }>;
        lastTrade = arr[arr.length - 1];
      }
    }
    const book = md.book('BTCUSDT')!;
    expect(book.levels(BID)).toEqual(ref.levels('bid', inst.priceDecimals, inst.qtyDecimals));
    expect(book.levels(ASK)).toEqual(ref.levels('ask', inst.priceDecimals, inst.qtyDecimals));
    expect(book.size(BID)).toBe(200);
    expect(book.size(ASK)).toBe(200);
    expect(refDeltas).toBe(deltas);
    expect(checks).toBeGreaterThan(10);
    const c = md.counters;
    expect(c.totalParseErrors()).toBe(0);
    expect(c.gaps).toBe(0);
    expect(c.crossed).toBe(0);
    expect(c.snapshots).toBe(1);
    expect(c.cold).toBeGreaterThan(0); // subscribe acks
    expect(c.ignored).toBeGreaterThan(0); // tickers, kline
    expect(state.flags(0) & FLAG_VALID).toBe(FLAG_VALID);
    expect(state.get(0, F.seq)).toBe(lastU);
    expect(state.get(0, F.bidPx)).toBe(book.bestBidPx());
    expect(state.get(0, F.askQty)).toBe(book.bestAskQty());
    expect(lastTrade).toBeDefined();
    expect(state.get(0, F.lastTradePx)).toBe(parseScaled(lastTrade!.p, inst.priceDecimals));
    expect(state.get(0, F.lastTradeQty)).toBe(parseScaled(lastTrade!.v, inst.qtyDecimals));
    expect(state.get(0, F.lastTradeSide)).toBe(lastTrade!.S === 'Buy' ? 1 : -1);
  });
});
