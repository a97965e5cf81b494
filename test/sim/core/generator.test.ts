import { describe, expect, it } from 'vitest';
import { MatchingBook } from '../../../src/sim/core/book.js';
import { Generator, Prng } from '../../../src/sim/core/generator.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimBookListener } from '../../../src/sim/core/types.js';

function run(seed: number, updates: number, opts: { rate?: number; deterministic?: boolean } = {}) {
  const books = ['BTCUSDT', 'ETHUSDT'].map((s) => new MatchingBook({ instrument: makeInstrument('binanceUsdm', s), nowMs: () => 0 }));
  const log: string[] = [];
  const l: SimBookListener = {
    onLevels: (sym, ch, u, t) => log.push(`L ${sym} ${u} ${t} ${ch.map((c) => `${c.side[0]}${c.priceTicks}:${c.qtyLots}`).join(',')}`),
    onTrade: (sym, tr) => log.push(`T ${sym} ${tr.tradeId} ${tr.priceTicks} ${tr.qtyLots} ${tr.takerSide} ${tr.timeMs}`),
    onOrder: () => undefined,
  };
  for (const b of books) b.addListener(l);
  const g = new Generator({ books, seed, rate: opts.rate ?? 2000, deterministic: opts.deterministic ?? true, levelsPerSide: 50 });
  g.produce(updates);
  return { log, g, books };
}

describe('synthetic generator', () => {
  it('PRNG is seeded and uniform enough', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('same seed -> identical batches and trades; different seed -> different', () => {
    const a = run(7, 20_000);
    const b = run(7, 20_000);
    const c = run(8, 20_000);
    expect(a.log.length).toBeGreaterThan(1000);
    expect(a.log.some((x) => x.startsWith('T '))).toBe(true);
    expect(b.log).toEqual(a.log);
    expect(c.log).not.toEqual(a.log);
  });

  it('keeps the books sane: not crossed, ladder depth bounded, updateId +1 per batch', () => {
    const { books, log } = run(3, 50_000);
    for (const bk of books) {
      const bb = bk.bestBid();
      const ba = bk.bestAsk();
      expect(bb && ba && bb.priceTicks < ba.priceTicks).toBe(true);
      expect(bk.levelCount('BUY')).toBeLessThanOrEqual(50);
      expect(bk.levelCount('SELL')).toBeLessThanOrEqual(50);
      expect(bk.levelCount('BUY')).toBeGreaterThan(10);
    }
    const ids = new Map<string, number>();
    for (const line of log) {
      if (!line.startsWith('L ')) continue;
      const [, sym, u] = line.split(' ');
      const prev = ids.get(sym!);
      if (prev !== undefined) expect(Number(u)).toBe(prev + 1);
      ids.set(sym!, Number(u));
    }
  });

  it('produces rate x virtual duration level updates, with a virtual clock', () => {
    const books = [new MatchingBook({ instrument: makeInstrument('binanceSpot', 'BTCUSDT'), nowMs: () => 0 })];
    const g = new Generator({ books, seed: 1, rate: 100_000, deterministic: true, startMs: 1_000_000 });
    let updates = 0;
    let lastT = 0;
    books[0]!.addListener({ onLevels: (_s, ch, _u, t) => ((updates += ch.length), (lastT = t)), onTrade: () => undefined, onOrder: () => undefined });
    g.runVirtual(1000); // one virtual second at 100,000/s
    expect(g.produced).toBeGreaterThanOrEqual(100_000);
    expect(g.produced).toBeLessThan(100_000 + 500);
    expect(updates).toBe(g.produced);
    expect(lastT).toBeGreaterThanOrEqual(1_000_000 + 990);
    expect(lastT).toBeLessThanOrEqual(1_000_000 + 1000);
  });

  it('fills a resting user order when the market comes to it', () => {
    const book = new MatchingBook({ instrument: makeInstrument('binanceUsdm', 'ETHUSDT', { minNotional: '0' }), nowMs: () => 0 });
    const g = new Generator({ books: [book], seed: 5, rate: 10_000, deterministic: true, levelsPerSide: 20 });
    g.produce(1);
    const bid = book.bestBidPrice();
    const r = book.submit({ accountId: 'U', clientOrderId: 'q', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: bid, qtyLots: 1, reduceOnly: false });
    expect(r.ok).toBe(true);
    for (let i = 0; i < 200 && book.getOrder('U', { clientOrderId: 'q' })?.status !== 'FILLED'; i++) g.produce(1000);
    expect(book.getOrder('U', { clientOrderId: 'q' })?.status).toBe('FILLED');
  });
});
