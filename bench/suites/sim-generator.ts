/**
 * Simulator market-data generator throughput (issue 2 asks for at least 100,000 book updates per second): level
 * updates per second of `Generator.produce` on two spot books (200 levels a side, the simulator's defaults),
 *  - bare: no listener on the books (matching-engine + generator cost only);
 *  - with a listener that encodes every batch as a Binance-style depth diff JSON frame
 *    (`{"e":"depthUpdate","E":..,"s":..,"U":..,"u":..,"b":[["p","q"]..],"a":[..]}`), as a venue does per batch when
 *    depth diffs are not coalesced.
 * Tasks are named `(x1000)`: one call produces >= 1000 level updates (a step makes 1-8, so a call may overshoot by
 * a few) and the runner reports ns per update; updates/s = 1e9 / ns. A short direct measurement (200,000 updates per
 * variant) is printed too.
 * Run: npm run bench -- --filter sim-generator
 */
import type { Bench } from 'tinybench';
import { MatchingBook } from '../../src/sim/core/book.js';
import { Generator } from '../../src/sim/core/generator.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import type { SimBookListener, SimLevelChange } from '../../src/sim/core/types.js';
import { formatScaled } from '../../src/util/fixed.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const PER_CALL = 1000;

function makeGenerator(seed: number): { gen: Generator; books: MatchingBook[] } {
  const books = SYMBOLS.map((s) => new MatchingBook({ instrument: makeInstrument('binanceSpot', s), nowMs: Date.now }));
  const gen = new Generator({ books, seed, rate: 100_000, levelsPerSide: 200 });
  gen.seedBooks();
  return { gen, books };
}

/** Binance Spot depth diff encoder (a venue's per-batch work when diffs are not coalesced). */
function diffEncoder(): { listener: SimBookListener; bytes: () => number } {
  let bytes = 0;
  const prevU = new Map<string, number>();
  const side = (changes: readonly SimLevelChange[], want: 'BUY' | 'SELL', pd: number, qd: number): string => {
    let out = '';
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      if (c.side !== want) continue;
      out += (out.length === 0 ? '["' : ',["') + formatScaled(c.priceTicks, pd) + '","' + formatScaled(c.qtyLots, qd) + '"]';
    }
    return out;
  };
  const ins = new Map(SYMBOLS.map((s) => [s, makeInstrument('binanceSpot', s)]));
  const listener: SimBookListener = {
    onLevels(symbol, changes, updateId, timeMs) {
      const i = ins.get(symbol)!;
      const first = (prevU.get(symbol) ?? updateId - 1) + 1;
      prevU.set(symbol, updateId);
      const frame =
        `{"e":"depthUpdate","E":${timeMs},"s":"${symbol}","U":${first},"u":${updateId},` +
        `"b":[${side(changes, 'BUY', i.priceDecimals, i.qtyDecimals)}],"a":[${side(changes, 'SELL', i.priceDecimals, i.qtyDecimals)}]}`;
      bytes += frame.length;
    },
    onTrade() {},
    onOrder() {},
  };
  return { listener, bytes: () => bytes };
}

function measure(label: string, gen: Generator, n: number): void {
  gen.produce(20_000); // warm-up
  const t0 = performance.now();
  const made = gen.produce(n);
  const ms = performance.now() - t0;
  process.stdout.write(
    `sim-generator: ${label}: ${made} level updates in ${ms.toFixed(1)} ms = ${Math.round((made * 1000) / ms).toLocaleString('en-US')} updates/s\n`,
  );
}

export default function register(bench: Bench): void {
  const bare = makeGenerator(1);
  const enc = makeGenerator(1);
  const e = diffEncoder();
  for (const b of enc.books) b.addListener(e.listener);

  measure('bare', bare.gen, 200_000);
  measure('with Binance diff encoder', enc.gen, 200_000);
  if (e.bytes() <= 0) throw new Error('sim-generator: the encoder produced nothing');

  bench.add(`sim generator: level updates, no listener (x${PER_CALL})`, () => {
    bare.gen.produce(PER_CALL);
  });
  bench.add(`sim generator: level updates + Binance diff encode (x${PER_CALL})`, () => {
    enc.gen.produce(PER_CALL);
  });
}
