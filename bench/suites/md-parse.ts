/**
 * Market-data parsing, in one run (issue 3 goal: parse+apply <= 1/3 of JSON.parse alone on the same frame):
 *  - "md: <frame> JSON.parse"          JSON.parse of the frame text (the frame as a string; no Buffer decode)
 *  - "md: <frame> JSON.parse+Map"      depth only: JSON.parse + Map update of every level (the naive way)
 *  - "md: <frame> simdjson.parse"      npm `simdjson` (optional dependency; skipped when not installed)
 *  - "md: <frame> parse+apply"         the adapter's frame handler on the frame bytes: byte parser + sync
 *                                      checks + L2 book update + BotState top-of-book write (sequence digits
 *                                      patched in place before each frame so every frame is applied)
 * Frames: Binance spot depth diff 20+20 levels in the combined wrapper (~1.2 KB), Binance bookTicker (~135 B),
 * Bybit orderbook.200 delta 20+20 (~1 KB).
 * Run: npm run bench -- --filter md-   (compare ratios within one run; the machine is shared and noisy)
 */
import type { Bench } from 'tinybench';
import { DRIVERS } from '../../src/md/benchframes.js';

type SimdJson = { parse(s: string): unknown; lazyParse?(s: string): unknown };

export default async function register(bench: Bench): Promise<void> {
  let simd: SimdJson | undefined;
  try {
    const m = (await import('simdjson' as string)) as { default?: SimdJson } & SimdJson;
    simd = m.default ?? m;
    if (typeof simd.parse !== 'function') simd = undefined;
  } catch {
    simd = undefined;
  }
  let sink = 0;
  for (const make of DRIVERS) {
    const d = make();
    const text = d.text;
    const short = d.name;
    bench.add(`md: ${short} JSON.parse`, () => {
      const o = JSON.parse(text) as object;
      if (o === null) sink++;
    });
    if (short.startsWith('binance depth')) {
      const bids = new Map<string, string>();
      const asks = new Map<string, string>();
      bench.add(`md: ${short} JSON.parse+Map`, () => {
        const o = JSON.parse(text) as { data: { b: Array<[string, string]>; a: Array<[string, string]> } };
        for (const [p, q] of o.data.b) if (q === '0.00000000') bids.delete(p);
        else bids.set(p, q);
        for (const [p, q] of o.data.a) if (q === '0.00000000') asks.delete(p);
        else asks.set(p, q);
      });
    }
    if (simd) {
      const s = simd;
      bench.add(`md: ${short} simdjson.parse`, () => {
        if (s.parse(text) === null) sink++;
      });
    }
    bench.add(`md: ${short} parse+apply`, () => d.step());
  }
  if (sink < 0) process.stdout.write('');
}
