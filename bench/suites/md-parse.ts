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
 * Real data: "md: usdm capture SUSHIUSDT ..." replays the 255 captured USD-M depth diffs of
 * ../shared/exchange/fixtures (avg ~450 B) on the captured 1000-level snapshot (reset before each iteration,
 * outside the timing), against JSON.parse of the same 255 frames (skipped if the fixtures are absent).
 * Run: npm run bench -- --filter md-   (compare ratios within one run; the machine is shared and noisy)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from 'tinybench';
import { BotState } from '../../src/model/botstate.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { DRIVERS } from '../benchframes.js';
import { ResyncReason } from '../../src/md/common.js';

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
        for (const [p, q] of o.data.b)
          if (q === '0.00000000') bids.delete(p);
          else bids.set(p, q);
        for (const [p, q] of o.data.a)
          if (q === '0.00000000') asks.delete(p);
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
  registerCapture(bench);
  if (sink < 0) process.stdout.write('');
}

function registerCapture(bench: Bench): void {
  // dist/bench/suites/md-parse.js -> repository root is three levels up; fixtures live next to the repository
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rel = '../shared/exchange/fixtures/binance/usdm_capture_2021-07-22_cryptofeed.ndjson';
  const file = [path.resolve(here, '../../..', rel), path.resolve(process.cwd(), rel)].find((f) => existsSync(f));
  if (!file) return;
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { t: string; url?: string; data: string });
  const snap = lines.find((l) => l.t === 'http' && (l.url ?? '').includes('SUSHIUSDT'))?.data;
  const diffs = lines.filter((l) => l.t === 'recv' && l.data.includes('"sushiusdt@depth@100ms"')).map((l) => l.data);
  if (!snap || diffs.length === 0) return;
  const bufs = diffs.map((d) => Buffer.from(d));
  const inst = {
    venue: 'binanceUsdm' as const,
    symbol: 'SUSHIUSDT',
    base: 'SUSHI',
    quote: 'USDT',
    tickSize: '0.001',
    stepSize: '1',
    minQty: '1',
    minNotional: '5',
    priceDecimals: 4,
    qtyDecimals: 0,
    tickUnits: 10,
    lotUnits: 1,
    slot: 0,
  };
  const md = new BinanceMd({
    market: 'usdm',
    restBaseUrl: 'http://127.0.0.1:1',
    wsBaseUrl: 'ws://127.0.0.1:1',
    instruments: [inst],
    state: BotState.create(1),
    fetchSnapshot: () => new Promise<string>(() => {}),
  });
  const reset = (): void => {
    md.sync('SUSHIUSDT')!.reset(ResyncReason.None);
    md.deliverSnapshot('SUSHIUSDT', snap);
  };
  let sink = 0;
  bench.add(`md: usdm capture SUSHIUSDT diffs JSON.parse (x${diffs.length})`, () => {
    for (const d of diffs) sink += (JSON.parse(d) as { data: { u: number } }).data.u > 0 ? 1 : 0;
  });
  bench.add(
    `md: usdm capture SUSHIUSDT diffs parse+apply, 1000-level book (x${bufs.length})`,
    () => {
      for (const b of bufs) md.onFrame(b, 1);
    },
    { beforeEach: reset },
  );
  if (sink < 0) process.stdout.write('');
}
