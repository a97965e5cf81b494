/**
 * Book sync rules on hand-built frames (bytes through the adapters' frame handlers): drop rules, straddle,
 * duplicates, gaps, reordering, crossed books, snapshots older than the buffer, Bybit snapshot resets and
 * no ghost levels, bad sizes rejected without touching the book.
 */
import { describe, expect, it } from 'vitest';
import { BotState, F, FLAG_CROSSED, FLAG_VALID } from '../../src/model/botstate.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { BybitMd } from '../../src/exchange/bybit/md/adapter.js';
import { ASK, BID } from '../../src/book/l2book.js';
import { makeInstrument } from './helpers.js';

const B = (s: string) => Buffer.from(s, 'utf8');
type Lv = Array<[string, string]>;

function bn(market: 'spot' | 'usdm') {
  const inst = makeInstrument(market === 'spot' ? 'binanceSpot' : 'binanceUsdm', 'BTCUSDT', 2, 3, 0);
  const state = BotState.create(1);
  let requests = 0;
  const md = new BinanceMd({
    market,
    restBaseUrl: 'http://127.0.0.1:1',
    wsBaseUrl: 'ws://127.0.0.1:1',
    instruments: [inst],
    state,
    fetchSnapshot: () => {
      requests++;
      return new Promise<string>(() => {});
    },
  });
  let t = 0;
  const diff = (U: number, u: number, b: Lv, a: Lv, pu?: number) =>
    md.onFrame(
      B(
        `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":${1000 + u},"s":"BTCUSDT","U":${U},"u":${u}${pu !== undefined ? `,"pu":${pu}` : ''},"b":${JSON.stringify(b)},"a":${JSON.stringify(a)}}}`,
      ),
      ++t,
    );
  const snapshot = (L: number, b: Lv, a: Lv) => md.deliverSnapshot('BTCUSDT', JSON.stringify({ lastUpdateId: L, bids: b, asks: a }));
  const valid = () => (state.flags(0) & FLAG_VALID) !== 0;
  return { md, state, diff, snapshot, valid, requests: () => requests, sync: md.sync('BTCUSDT')!, book: md.book('BTCUSDT')! };
}

describe('binance spot sync', () => {
  it('drops u <= L, applies the straddling diff, ignores duplicates, resyncs on a gap', async () => {
    const h = bn('spot');
    h.diff(95, 100, [['100.00', '1']], []); // buffered, will be dropped (u <= L)
    expect(h.sync.bufferedCount).toBe(1);
    await Promise.resolve();
    expect(h.requests()).toBe(1);
    h.snapshot(
      100,
      [
        ['100.00', '2'],
        ['99.00', '1'],
      ],
      [['101.00', '1']],
    );
    expect(h.md.counters.preSyncDropped).toBe(1);
    expect(h.valid()).toBe(true);
    expect(h.book.qtyAt(BID, 10000)).toBe(2000);
    h.diff(101, 103, [['100.00', '3']], []);
    h.diff(
      104,
      104,
      [],
      [
        ['101.00', '0'],
        ['102.00', '5'],
      ],
    );
    expect(h.book.levels(ASK)).toEqual([[10200, 5000]]);
    expect(h.state.get(0, F.seq)).toBe(104);
    h.diff(104, 104, [], [['102.00', '7']]); // duplicate: ignored
    expect(h.md.counters.duplicates).toBe(1);
    expect(h.book.qtyAt(ASK, 10200)).toBe(5000);
    h.diff(106, 107, [['98.00', '1']], []); // 105 missing
    expect(h.md.counters.gaps).toBe(1);
    expect(h.md.counters.resyncs).toBe(1);
    expect(h.valid()).toBe(false);
    expect(h.state.get(0, F.resyncs)).toBeGreaterThanOrEqual(1);
    expect(h.sync.bufferedCount).toBe(1);
    h.diff(108, 108, [['97.00', '1']], []);
    h.snapshot(107, [['100.00', '1']], [['101.00', '1']]);
    expect(h.valid()).toBe(true);
    expect(h.book.levels(BID)).toEqual([
      [10000, 1000],
      [9700, 1000],
    ]);
    expect(h.sync.lastU).toBe(108);
  });

  it('refetches a snapshot older than the buffered diffs; gap when the first diff does not straddle', () => {
    const h = bn('spot');
    h.diff(200, 201, [['100.00', '1']], []);
    h.snapshot(150, [['99.00', '1']], [['101.00', '1']]);
    expect(h.md.counters.snapshotsTooOld).toBe(1);
    expect(h.valid()).toBe(false);
    expect(h.sync.snapshotPending).toBe(true);
    h.snapshot(200, [['99.00', '1']], [['101.00', '1']]);
    expect(h.valid()).toBe(true);
    expect(h.book.qtyAt(BID, 10000)).toBe(1000);
    const g = bn('spot');
    g.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    g.diff(103, 104, [['100.00', '1']], []);
    expect(g.md.counters.gaps).toBe(1);
    expect(g.valid()).toBe(false);
  });

  it('reordered diffs are a gap, and a crossed book invalidates and resyncs', () => {
    const h = bn('spot');
    h.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    h.diff(101, 102, [['98.00', '1']], []);
    h.diff(105, 106, [['97.00', '1']], []); // 103-104 arrives late
    h.diff(103, 104, [['96.00', '1']], []);
    expect(h.md.counters.gaps).toBe(1);
    const c = bn('spot');
    c.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    c.diff(101, 101, [['102.00', '1']], []);
    expect(c.md.counters.crossed).toBe(1);
    expect(c.state.flags(0) & FLAG_CROSSED).toBe(FLAG_CROSSED);
    expect(c.valid()).toBe(false);
    expect(c.md.counters.resyncs).toBe(1);
    c.snapshot(101, [['99.00', '1']], [['101.00', '1']]);
    expect(c.state.flags(0) & (FLAG_CROSSED | FLAG_VALID)).toBe(FLAG_VALID);
  });

  it('a negative or non-numeric size is rejected whole: the book is untouched and resyncs (the diff is never skipped)', async () => {
    const h = bn('spot');
    h.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    expect(h.valid()).toBe(true);
    h.diff(101, 101, [['99.00', '-1']], []);
    expect(h.md.counters.parseErrorsByName()).toEqual({ negative: 1 });
    expect(h.book.qtyAt(BID, 9900)).toBe(1000);
    expect(h.valid()).toBe(false);
    expect(h.md.counters.resyncs).toBe(1);
    await Promise.resolve();
    expect(h.requests()).toBe(1);
    h.diff(101, 101, [['99.00', 'x']], []);
    expect(h.md.counters.parseErrorsByName()).toEqual({ negative: 1, not_number: 1 });
    h.diff(101, 101, [['99.00', '2']], []); // buffered for the new snapshot
    h.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    expect(h.valid()).toBe(true);
    expect(h.book.qtyAt(BID, 9900)).toBe(2000);
  });

  it('a depthUpdate whose b/a is a number, object or string, or whose key is corrupted, is refused and resyncs (was: accepted as "no change", book VALID but stale)', () => {
    const frames = [
      ['"b":5,"a":[]', 'wrong_type'],
      ['"b":{"99.00":"2"},"a":[]', 'wrong_type'],
      ['"b":"99.00","a":[]', 'wrong_type'],
      ['"c":[["99.00","2"]],"a":[]', 'missing_field'],
      ['"b":[["99.00","2"]],"b":[],"a":[]', 'duplicate_key'],
      ['"b":[["0.00","2"]],"a":[]', 'zero_price'],
      ['"b":[["99.","2"]],"a":[]', 'not_number'],
      ['"b":[["99.00","2"]],"a":[],"x":tru', 'syntax'],
    ] as const;
    for (const [levels, reason] of frames) {
      const h = bn('spot');
      h.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
      h.md.onFrame(B(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1101,"s":"BTCUSDT","U":101,"u":101,${levels}}}`), 1);
      expect(h.md.counters.parseErrorsByName(), levels).toEqual({ [reason]: 1 });
      expect(h.valid(), levels).toBe(false);
      expect(h.md.counters.resyncs, levels).toBe(1);
      expect(h.sync.lastU, levels).toBe(-1);
    }
    const h = bn('spot');
    h.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    h.md.onFrame(B('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1101,"s":"BTCUSDT","U":101,"u":101,"b":[],"a":[]}} x'), 1);
    expect(h.md.counters.parseErrorsByName()).toEqual({ syntax: 1 });
    expect(h.valid()).toBe(false);
  });
});

describe('binance usdm sync', () => {
  it('drops u < L, first diff U <= L <= u, then pu == previous u', () => {
    const h = bn('usdm');
    h.snapshot(100, [['99.00', '1']], [['101.00', '1']]);
    h.diff(90, 99, [['98.00', '1']], [], 89);
    expect(h.md.counters.preSyncDropped).toBe(1);
    h.diff(95, 105, [['98.50', '1']], [], 94);
    expect(h.book.qtyAt(BID, 9850)).toBe(1000);
    h.diff(106, 110, [], [['102.00', '1']], 105);
    expect(h.sync.lastU).toBe(110);
    h.diff(106, 110, [], [['102.00', '9']], 105); // duplicate
    expect(h.md.counters.duplicates).toBe(1);
    h.diff(111, 112, [], [], 111); // pu should be 110
    expect(h.md.counters.gaps).toBe(1);
    expect(h.valid()).toBe(false);
  });
});

describe('bybit sync', () => {
  function bb() {
    const inst = makeInstrument('bybitLinear', 'BTCUSDT', 2, 3, 0);
    const state = BotState.create(1);
    const md = new BybitMd({ category: 'linear', wsBaseUrl: 'ws://127.0.0.1:1', instruments: [inst], state });
    let t = 0;
    const msg = (type: string, u: number, b: Lv, a: Lv) =>
      md.onFrame(
        B(
          `{"topic":"orderbook.200.BTCUSDT","type":"${type}","ts":${u},"data":{"s":"BTCUSDT","b":${JSON.stringify(b)},"a":${JSON.stringify(a)},"u":${u},"seq":${u * 10}},"cts":1}`,
        ),
        ++t,
      );
    return { md, state, msg, book: md.book('BTCUSDT')!, valid: () => (state.flags(0) & FLAG_VALID) !== 0 };
  }

  it('snapshot resets, deltas need u == prev+1, gap invalidates until a new snapshot, no ghost levels', () => {
    const h = bb();
    h.msg('delta', 5, [['1.00', '1']], []); // before any snapshot: ignored
    expect(h.md.counters.deltasWithoutSnapshot).toBe(1);
    h.msg(
      'snapshot',
      10,
      [
        ['100.00', '1'],
        ['99.00', '2'],
      ],
      [['101.00', '1']],
    );
    expect(h.valid()).toBe(true);
    h.msg('delta', 11, [['99.00', '0']], [['102.00', '3']]);
    h.msg('delta', 11, [['98.00', '3']], []);
    expect(h.md.counters.duplicates).toBe(1);
    h.msg('delta', 13, [['97.00', '3']], []);
    expect(h.md.counters.gaps).toBe(1);
    expect(h.valid()).toBe(false);
    h.msg('delta', 14, [['96.00', '3']], []);
    expect(h.md.counters.deltasWithoutSnapshot).toBe(2);
    h.msg('snapshot', 20, [['50.00', '1']], [['51.00', '1']]);
    expect(h.valid()).toBe(true);
    expect(h.book.levels(BID)).toEqual([[5000, 1000]]);
    expect(h.book.levels(ASK)).toEqual([[5100, 1000]]);
    expect(h.state.get(0, F.seq)).toBe(20);
    h.msg('delta', 1, [['40.00', '1']], [['41.00', '1']]); // u == 1: service restart, overwrite
    expect(h.book.levels(BID)).toEqual([[4000, 1000]]);
    expect(h.state.get(0, F.bidPx)).toBe(4000);
  });

  it('a level at price 0, or a side of the wrong type, is refused and resubscribes (was: a level at price 0 in a VALID book)', () => {
    for (const [b, reason] of [
      [[['0', '1']], 'zero_price'],
      [[['0.00', '0']], 'zero_price'],
      [5, 'syntax'],
    ] as const) {
      const h = bb();
      h.msg('snapshot', 10, [['100.00', '1']], [['101.00', '1']]);
      h.md.onFrame(
        B(`{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":11,"data":{"s":"BTCUSDT","b":${JSON.stringify(b)},"a":[],"u":11,"seq":110},"cts":1}`),
        99,
      );
      expect(h.md.counters.parseErrorsByName()).toEqual({ [reason]: 1 });
      expect(h.valid()).toBe(false);
      expect(h.md.counters.resyncs).toBe(1);
      expect(h.book.levels(BID).every(([px]) => px > 0)).toBe(true);
    }
    const h = bb();
    h.msg('snapshot', 10, [['100.00', '1']], [['101.00', '1']]);
    h.md.onFrame(B('{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":11,"data":{"s":"BTCUSDT","b":[["99.00","1"]],"u":11,"seq":110},"cts":1}'), 99); // no "a"
    expect(h.md.counters.parseErrorsByName()).toEqual({ missing_field: 1 });
    expect(h.valid()).toBe(false);
  });

  it('crossed delta invalidates', () => {
    const h = bb();
    h.msg('snapshot', 10, [['100.00', '1']], [['101.00', '1']]);
    h.msg('delta', 11, [['101.50', '1']], []);
    expect(h.md.counters.crossed).toBe(1);
    expect(h.state.flags(0) & FLAG_CROSSED).toBe(FLAG_CROSSED);
    expect(h.valid()).toBe(false);
  });
});
