import { describe, expect, it } from 'vitest';
import { ASK, BID, L2Book } from '../../src/book/l2book.js';

describe('L2Book', () => {
  it('keeps both sides sorted, best first, and deletes on 0', () => {
    const b = new L2Book(8);
    b.set(BID, 100, 5);
    b.set(BID, 102, 1);
    b.set(BID, 101, 2);
    b.set(ASK, 105, 3);
    b.set(ASK, 103, 4);
    expect(b.bestBidPx()).toBe(102);
    expect(b.bestAskPx()).toBe(103);
    expect(b.levels(BID)).toEqual([
      [102, 1],
      [101, 2],
      [100, 5],
    ]);
    expect(b.levels(ASK)).toEqual([
      [103, 4],
      [105, 3],
    ]);
    b.set(BID, 102, 0);
    b.set(BID, 99, 0); // absent: no-op
    expect(b.bestBidPx()).toBe(101);
    expect(b.qtyAt(BID, 100)).toBe(5);
    expect(b.crossed()).toBe(false);
    b.set(BID, 103, 1);
    expect(b.crossed()).toBe(true);
    expect(b.set(BID, 1, -1)).toBe(false);
    expect(b.set(BID, 1, NaN)).toBe(false);
    b.clear();
    expect(b.size(BID) + b.size(ASK)).toBe(0);
    expect(b.bestBidPx()).toBe(0);
  });

  it('depth() fills caller buffers', () => {
    const b = new L2Book();
    for (let i = 1; i <= 10; i++) b.set(ASK, 1000 + i, i);
    const px = new Float64Array(3);
    const q = new Float64Array(3);
    expect(b.depth(ASK, 5, px, q)).toBe(3);
    expect(Array.from(px)).toEqual([1001, 1002, 1003]);
    expect(Array.from(q)).toEqual([1, 2, 3]);
  });

  it('matches a Map reference under 200k random updates (growth included), via set() and applySide()', () => {
    const b = new L2Book(8);
    const b2 = new L2Book(8);
    const b3 = new L2Book(8); // same batches sorted best first (as the venues send them): the galloping search
    const batch = [
      { px: new Float64Array(64), q: new Float64Array(64), n: 0 },
      { px: new Float64Array(64), q: new Float64Array(64), n: 0 },
    ];
    const flush = () => {
      for (const side of [BID, ASK] as const) {
        const x = batch[side]!;
        b2.applySide(side, x.px, x.q, x.n);
        const idx = Array.from({ length: x.n }, (_, k) => k).sort((p, q) => (side === BID ? x.px[q]! - x.px[p]! : x.px[p]! - x.px[q]!) || p - q);
        b3.applySide(
          side,
          Float64Array.from(idx, (k) => x.px[k]!),
          Float64Array.from(idx, (k) => x.q[k]!),
          x.n,
        );
        x.n = 0;
      }
    };
    const ref = [new Map<number, number>(), new Map<number, number>()];
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 200_000; i++) {
      const side = rnd() < 0.5 ? BID : ASK;
      const px = side === BID ? 1 + Math.floor(rnd() * 3000) : 3001 + Math.floor(rnd() * 3000);
      const q = rnd() < 0.3 ? 0 : 1 + Math.floor(rnd() * 1e6);
      b.set(side, px, q);
      const x = batch[side]!;
      x.px[x.n] = px;
      x.q[x.n] = q;
      x.n++;
      if (x.n === 64 || rnd() < 0.05) flush();
      const m = ref[side]!;
      if (q === 0) m.delete(px);
      else m.set(px, q);
      if (i % 20_000 === 0 || i === 199_999) {
        const bids = [...ref[BID]!].sort((x, y) => y[0] - x[0]);
        const asks = [...ref[ASK]!].sort((x, y) => x[0] - y[0]);
        expect(b.levels(BID)).toEqual(bids);
        expect(b.levels(ASK)).toEqual(asks);
        flush();
        expect(b2.levels(BID)).toEqual(bids);
        expect(b2.levels(ASK)).toEqual(asks);
        expect(b3.levels(BID)).toEqual(bids);
        expect(b3.levels(ASK)).toEqual(asks);
      }
    }
  });
});
